package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// child is a process this program started and must stop: the bare server
// or inquir dev.
type child struct {
	name    string
	cmd     *exec.Cmd
	url     string    // from its "listening on" line
	started time.Time // just before exec
	ready   time.Time // when the "listening on" line arrived
	done    chan struct{}
	waitErr error

	mu   sync.Mutex
	tail []string // its output's last lines, for errors
}

// stopGrace is how long a child may take to stop on SIGTERM before SIGKILL:
// inquir dev drains requests for up to 10s and gives workers 2s more.
const stopGrace = 15 * time.Second

// startChild starts cmd and waits, up to timeout, for a line of its output
// (stdout and stderr) matching listening, whose first group is its URL. The
// child gets a process group of its own, so a Ctrl-C in the terminal reaches
// this program only, which stops its children in order.
func startChild(name string, cmd *exec.Cmd, listening *regexp.Regexp, timeout time.Duration, echo io.Writer) (*child, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = childAttr()
	c := &child{name: name, cmd: cmd, done: make(chan struct{})}
	c.started = time.Now()
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	w.Close()
	go func() { c.waitErr = cmd.Wait(); close(c.done) }()
	found := make(chan string, 1)
	go func() {
		defer r.Close()
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if echo != nil {
				fmt.Fprintf(echo, "[%s] %s\n", name, line)
			}
			c.mu.Lock()
			if c.tail = append(c.tail, line); len(c.tail) > 40 {
				c.tail = c.tail[1:]
			}
			c.mu.Unlock()
			if m := listening.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case c.url = <-found:
		c.ready = time.Now()
		return c, nil
	case <-c.done:
		return nil, fmt.Errorf("%s exited before listening (%v):\n%s", name, c.waitErr, c.output())
	case <-time.After(timeout):
		c.stop()
		return nil, fmt.Errorf("%s did not say it listens within %s:\n%s", name, timeout, c.output())
	}
}

// output is the child's last lines of output.
func (c *child) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return "  " + strings.Join(c.tail, "\n  ")
}

// stop sends SIGTERM, waits up to stopGrace, then kills the child's process
// group. It returns once the child has exited. Calling it again is harmless.
func (c *child) stop() {
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
		return
	case <-time.After(stopGrace):
	}
	killGroup(c.cmd.Process.Pid)
	<-c.done
}

// exitedCleanly says whether the child's exit after stop was its own (exit
// status 0), not a kill.
func (c *child) exitedCleanly() bool {
	var ee *exec.ExitError
	return c.waitErr == nil || (errors.As(c.waitErr, &ee) && ee.ExitCode() == 0)
}
