package config

import (
	"os"
	"strings"
	"sync"
)

// The environment that env: references read. A go-plugin function runs
// inside inquir's own process, where os.Getenv would hand it every
// variable a key's secret or another function's env comes from. So inquir
// dev hides them (HideEnv): each moves out of the process environment into
// memory, where LookupEnv still finds it for every reload and worker start.
// The process environment is process-wide state, and so is what was taken
// out of it; it lives here, beside the only reader of both.
var hiddenEnv struct {
	mu   sync.RWMutex
	vars map[string]string
}

// LookupEnv reads the variable an env: reference names: a hidden one
// first, so that nothing a function puts in the process environment under
// the same name changes a key's secret, then the process environment.
func LookupEnv(name string) (string, bool) {
	hiddenEnv.mu.RLock()
	v, ok := hiddenEnv.vars[name]
	hiddenEnv.mu.RUnlock()
	if ok {
		return v, true
	}
	return os.LookupEnv(name)
}

// HideEnv takes the named variables out of the process environment (and
// out of the environment block the kernel shows as /proc/self/environ,
// where it can), keeping their values for LookupEnv. A name that is not
// set, or already hidden, is left as it is. It returns the names it hid.
func HideEnv(names ...string) []string {
	hiddenEnv.mu.Lock()
	defer hiddenEnv.mu.Unlock()
	var hid []string
	for _, name := range names {
		if _, done := hiddenEnv.vars[name]; done {
			continue
		}
		v, ok := os.LookupEnv(name)
		if !ok {
			continue
		}
		if hiddenEnv.vars == nil {
			hiddenEnv.vars = map[string]string{}
		}
		hiddenEnv.vars[name] = v
		os.Unsetenv(name)
		hid = append(hid, name)
	}
	scrubInitialEnviron(hid)
	return hid
}

// EnvNames lists the variables c's env: references name: the keys'
// secrets and the functions' env values.
func (c *Config) EnvNames() []string {
	var names []string
	for _, k := range c.Keys {
		for _, s := range k.Secrets {
			if s.Kind == SecretEnv {
				names = append(names, s.Value)
			}
		}
	}
	for _, f := range c.Functions {
		for _, v := range f.Env {
			if name, ok := strings.CutPrefix(v, "env:"); ok {
				names = append(names, name)
			}
		}
	}
	return names
}
