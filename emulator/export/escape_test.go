package export_test

// Issue 22, fault 1: every value of inquir.toml (and of --upstream, and the
// config's file name) that reaches haproxy.cfg or a map file is quoted or
// refused, so no value can add a directive, an ACL or a map entry that the
// policy did not produce.

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/inquir-dev/inquir/emulator/export"
	"github.com/inquir-dev/inquir/emulator/policy"
)

// fuzzValues are the free-text values of fuzzConfig: everything a user
// writes that the export carries into its output.
type fuzzValues struct {
	Reason, PathLit, KeyID, Group, MetaKey, MetaVal, Function string
	ListenHost, UpstreamHost, KeyHeader, FileName             string
}

// harmless and harmlessToo are two sets of plain values. Exported with each,
// the configuration has the same directives, word for word, except in the
// words that hold a value: those are the only words a fuzzed value may
// change.
var (
	harmless    = fuzzValues{"probe", "items", "k1", "grp", "tenant", "acme", "fn", "127.0.0.1", "127.0.0.1", "x-api-key", "inquir.toml"}
	harmlessToo = fuzzValues{"a load balancer probes it", "st:o@r!e$(x)", "key.two", "group_2", "region", "eu-1", "fn-2", "localhost", "::1", "X-Key", "other.toml"}
)

// fuzzConfig is an inquir.toml with one public route (reason), a group
// route and a keys route on a path with a fuzzed literal, two keys (one
// with fuzzed metadata) and two functions.
func fuzzConfig(v fuzzValues) string {
	q := tomlString
	digest := strings.Repeat("ab", 32)
	return fmt.Sprintf(`[gateway]
listen = %s
key_header = %s

[keys.%s]
secret = "sha256:%s"
groups = [%s]
metadata = { %s = %s }

[keys.other]
secret = "sha256:%s"

[functions.%s]
runtime = "process"
command = ["./f"]

[functions.g]
runtime = "process"
command = ["./g"]

[[routes]]
method = "GET"
path = %s
function = %s
group = %s

[[routes]]
method = "POST"
path = %s
function = "g"
keys = [%s, "other"]

[[routes]]
method = "GET"
path = "/health"
function = "g"
auth = "none"
reason = %s
`, q(net.JoinHostPort(v.ListenHost, "8787")), q(v.KeyHeader),
		q(v.KeyID), digest, q(v.Group), q(v.MetaKey), q(v.MetaVal),
		strings.Repeat("cd", 32),
		q(v.Function),
		q("/"+v.PathLit+"/{id}"), q(v.Function), q(v.Group),
		q("/"+v.PathLit), q(v.KeyID),
		q(v.Reason))
}

// tomlString writes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// exported is what one export wrote: haproxy.cfg's directives as HAProxy
// splits them into words, and each map file's entries.
type exported struct {
	dir   string
	lines [][]string
	maps  map[string][][]string
}

// exportValues writes fuzzConfig(v) and exports it. It returns nil, nil
// when config.Load refuses the config (not the export's business), and the
// export's error when the export refuses it.
func exportValues(t *testing.T, v fuzzValues) (*exported, error) {
	t.Helper()
	src := t.TempDir()
	path := filepath.Join(src, v.FileName)
	if err := os.WriteFile(path, []byte(fuzzConfig(v)), 0o644); err != nil {
		return nil, nil // not a file name this system takes
	}
	p, err := policy.Load(path)
	if err != nil {
		return nil, nil
	}
	dir := filepath.Join(src, "out")
	ups := map[string]string{
		"":         "http://" + net.JoinHostPort(v.UpstreamHost, "9000"),
		v.Function: "https://" + net.JoinHostPort(v.UpstreamHost, "8443"),
	}
	if _, err := export.HAProxy(p, dir, export.Options{Upstreams: ups}); err != nil {
		return nil, err
	}
	e := &exported{dir: dir, maps: map[string][][]string{}}
	cfg, err := os.ReadFile(filepath.Join(dir, export.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(cfg), "\n") {
		words, err := cfgWords(line)
		if err != nil {
			t.Fatalf("haproxy.cfg line %d: %v: %q", i+1, err, line)
		}
		if len(words) > 0 {
			e.lines = append(e.lines, words)
		}
	}
	for _, m := range export.MapFiles {
		b, err := os.ReadFile(filepath.Join(dir, m))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			// HAProxy's map loader: a line whose first non-blank is "#" is a
			// comment; the key is the first word, the value the rest.
			if f := strings.Fields(line); len(f) > 0 && !strings.HasPrefix(f[0], "#") {
				e.maps[m] = append(e.maps[m], f)
			}
		}
	}
	return e, nil
}

// cfgWords splits one line of haproxy.cfg into words as HAProxy's
// configuration parser does (its manual, section 2.2): blanks separate
// words; "#" outside quotes starts a comment; a backslash escapes the next
// character outside single quotes; double quotes quote weakly (a "$"
// names an environment variable), single quotes strongly. A word's
// environment variables are left as written.
func cfgWords(line string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord, dq, sq := false, false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case sq:
			if c == '\'' {
				sq = false
			} else {
				w.WriteByte(c)
			}
			continue
		case c == '\\':
			if i+1 == len(line) {
				return nil, errors.New("a backslash ends the line")
			}
			i++
			switch e := line[i]; e {
			case 'n':
				w.WriteByte('\n')
			case 'r':
				w.WriteByte('\r')
			case 't':
				w.WriteByte('\t')
			case 'x':
				if i+2 >= len(line) {
					return nil, errors.New(`a short \x escape`)
				}
				var b byte
				if _, err := fmt.Sscanf(line[i+1:i+3], "%02x", &b); err != nil {
					return nil, fmt.Errorf(`a bad \x escape: %v`, err)
				}
				w.WriteByte(b)
				i += 2
			default:
				w.WriteByte(e)
			}
			inWord = true
			continue
		case dq:
			if c == '"' {
				dq = false
			} else {
				w.WriteByte(c)
			}
			continue
		case c == '"':
			dq, inWord = true, true
			continue
		case c == '\'':
			sq, inWord = true, true
			continue
		case c == '#':
			i = len(line)
			continue
		case c == ' ' || c == '\t' || c == '\r':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
			continue
		}
		w.WriteByte(c)
		inWord = true
	}
	if dq || sq {
		return nil, errors.New("an unterminated quote")
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

var (
	baseOnce   sync.Once
	baseErr    error
	baseline   *exported
	valueWords map[[2]int]bool // the positions of the words that carry a value
)

// baselines exports harmless and harmlessToo once and finds the words in
// which they differ: the words that carry a value.
func baselines(t *testing.T) (*exported, map[[2]int]bool) {
	t.Helper()
	baseOnce.Do(func() {
		a, err := exportValues(t, harmless)
		b, errB := exportValues(t, harmlessToo)
		switch {
		case a == nil || b == nil:
			baseErr = fmt.Errorf("a harmless export failed: %v, %v", err, errB)
			return
		case len(a.lines) != len(b.lines):
			baseErr = fmt.Errorf("the harmless exports have %d and %d directives", len(a.lines), len(b.lines))
			return
		}
		valueWords = map[[2]int]bool{}
		for i := range a.lines {
			if len(a.lines[i]) != len(b.lines[i]) {
				baseErr = fmt.Errorf("the harmless exports differ in directive %d: %q, %q", i, a.lines[i], b.lines[i])
				return
			}
			for j := range a.lines[i] {
				if a.lines[i][j] != b.lines[i][j] {
					valueWords[[2]int{i, j}] = true
				}
			}
		}
		baseline = a
	})
	if baseErr != nil {
		t.Fatal(baseErr)
	}
	return baseline, valueWords
}

// FuzzHAProxyEscaping exports configs whose values are fuzzed, and holds
// every export that succeeds to this: haproxy -c accepts it, and it has
// the directives of a harmless export word for word but for the words that
// carry a value (so no value added a directive, an ACL, a condition or a
// word), and the same map entries, each a key and a value. The seeds run
// as a plain test.
func FuzzHAProxyEscaping(f *testing.F) {
	seeds := []fuzzValues{
		harmless,
		harmlessToo,
		// The review's finding: a reason that closes its comment and
		// makes every route public.
		with(func(v *fuzzValues) { v.Reason = "probe\n    acl public_route always_true #" }),
		with(func(v *fuzzValues) {
			v.Reason = "probe\r\n    http-request return status 200\\\n# \"quoted\" 'single' $HOME ${HOME} \x00 \u2028 end"
		}),
		with(func(v *fuzzValues) {
			v.ListenHost = "127.0.0.1:1}\"\n    acl public_route always_true #"
		}),
		with(func(v *fuzzValues) { v.ListenHost = "bad host" }),
		with(func(v *fuzzValues) { v.ListenHost = "" }),
		with(func(v *fuzzValues) { v.KeyHeader = "x-api#key" }),
		with(func(v *fuzzValues) { v.KeyHeader = "x'api" }),
		with(func(v *fuzzValues) { v.KeyHeader = "x$api" }),
		with(func(v *fuzzValues) { v.UpstreamHost = "a'b" }),
		with(func(v *fuzzValues) { v.UpstreamHost = "a\"b" }),
		with(func(v *fuzzValues) { v.UpstreamHost = "a,b)" }),
		with(func(v *fuzzValues) { v.PathLit = "a'b\"c$d#e f" }),
		with(func(v *fuzzValues) { v.PathLit = "it$(ms)'" }),
		with(func(v *fuzzValues) { v.MetaKey, v.MetaVal = "t e\n#x", "v\\al \"x\"\n9abc k1 # 'q'" }),
		with(func(v *fuzzValues) { v.KeyID = "k1\nr0/k1" }),
		with(func(v *fuzzValues) { v.Function = "fn\n    acl x always_true" }),
		with(func(v *fuzzValues) { v.Group = "grp\n" }),
		with(func(v *fuzzValues) { v.FileName = "in\nquir 0123 k1.toml" }),
		with(func(v *fuzzValues) { v.FileName = "a#b'c\"d$e\\f.toml" }),
	}
	for _, s := range seeds {
		f.Add(s.Reason, s.PathLit, s.KeyID, s.Group, s.MetaKey, s.MetaVal, s.Function, s.ListenHost, s.UpstreamHost, s.KeyHeader, s.FileName)
	}
	bin := haproxyBin(f)
	f.Fuzz(func(t *testing.T, reason, pathLit, keyID, group, metaKey, metaVal, function, listenHost, upstreamHost, keyHeader, fileName string) {
		v := fuzzValues{reason, pathLit, keyID, group, metaKey, metaVal, function, listenHost, upstreamHost, keyHeader, fileName}
		for _, s := range []string{reason, pathLit, keyID, group, metaKey, metaVal, function, listenHost, upstreamHost, keyHeader} {
			if !utf8.ValidString(s) {
				return // TOML is UTF-8: config.Load would refuse it
			}
		}
		if fileName == "" || fileName == "." || fileName == ".." || strings.ContainsAny(fileName, "/\x00") || len(fileName) > 200 {
			return
		}
		base, slots := baselines(t)
		got, err := exportValues(t, v)
		if err != nil {
			// A refusal names what it refuses and is not a panic; nothing
			// more to check.
			if err.Error() == "" {
				t.Fatal("the export failed with an empty error")
			}
			return
		}
		if got == nil {
			return // config.Load refused the config
		}
		if len(got.lines) != len(base.lines) {
			t.Fatalf("haproxy.cfg has %d directives, a harmless export %d: a value added or removed one\n%s", len(got.lines), len(base.lines), diffLines(base.lines, got.lines))
		}
		for i := range base.lines {
			if len(got.lines[i]) != len(base.lines[i]) {
				t.Fatalf("directive %d has %d words, a harmless export's %d: a value split or joined words\ngot  %q\nwant %q", i, len(got.lines[i]), len(base.lines[i]), got.lines[i], base.lines[i])
			}
			// Every word that is the same in every export is there, in its
			// place or, where the export sorts values (a 405's path
			// patterns), elsewhere in the directive; the value words fill
			// the rest, as many as the harmless export has.
			if got.lines[i][0] != base.lines[i][0] {
				t.Fatalf("directive %d is %q, a harmless export's %q", i, got.lines[i], base.lines[i])
			}
			have := map[string]int{}
			for _, w := range got.lines[i] {
				have[w]++
			}
			for j, w := range base.lines[i] {
				if slots[[2]int{i, j}] {
					continue
				}
				if have[w] == 0 {
					t.Fatalf("directive %d lacks %q (word %d), which every export has: a value changed the configuration's structure\ngot  %q\nwant %q", i, w, j, got.lines[i], base.lines[i])
				}
				have[w]--
			}
		}
		for _, m := range export.MapFiles {
			if len(got.maps[m]) != len(base.maps[m]) {
				t.Fatalf("%s has %d entries, a harmless export %d: a value added or removed one\n%q", m, len(got.maps[m]), len(base.maps[m]), got.maps[m])
			}
			for _, entry := range got.maps[m] {
				if len(entry) != 2 {
					t.Fatalf("%s: entry %q is not a key and a value", m, entry)
				}
			}
		}
		checkConfig(t, bin, got.dir, !isIP(listenHost) || !isIP(upstreamHost))
	})
}

// isIP reports whether host is an IP address, or empty (every address):
// nothing to resolve.
func isIP(host string) bool { return host == "" || net.ParseIP(host) != nil }

// with is harmless with one change.
func with(change func(*fuzzValues)) fuzzValues {
	v := harmless
	change(&v)
	return v
}

// haproxyBin finds haproxy, or skips.
func haproxyBin(tb testing.TB) string {
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		bin, err = exec.LookPath("/usr/sbin/haproxy")
	}
	if err != nil {
		tb.Skip("haproxy is not installed; these tests need a real HAProxy 2.6 or later (apt-get install haproxy)")
	}
	return bin
}

// checkConfig runs haproxy -c on dir's haproxy.cfg. With namedHosts (the
// config or --upstream names a host by a DNS name), a name that does not
// resolve here is no fault of the export: the only alerts then allowed are
// those.
func checkConfig(t *testing.T, bin, dir string, namedHosts bool) {
	t.Helper()
	cmd := exec.Command(bin, "-c", "-f", filepath.Join(dir, export.ConfigFile))
	cmd.Env = append(os.Environ(), "INQUIR_ADMIN_SOCKET="+filepath.Join(dir, "admin.sock"))
	out, err := cmd.CombinedOutput()
	if err == nil {
		return
	}
	unresolved := func(line string) bool {
		for _, s := range []string{"could not resolve address", "Failed to initialize server(s) addr", "'bind' : invalid address"} {
			if namedHosts && strings.Contains(line, s) {
				return true
			}
		}
		return strings.Contains(line, "Error(s) found in configuration file") || strings.Contains(line, "Fatal errors found in configuration")
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "[ALERT]") && !unresolved(line) {
			cfg, _ := os.ReadFile(filepath.Join(dir, export.ConfigFile))
			t.Fatalf("haproxy -c: %v\n%s\n%s", err, out, cfg)
		}
	}
}

func diffLines(want, got [][]string) string {
	var b bytes.Buffer
	for i := 0; i < max(len(want), len(got)); i++ {
		var w, g []string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if fmt.Sprint(w) != fmt.Sprint(g) {
			fmt.Fprintf(&b, "%d:\n  want %q\n  got  %q\n", i, w, g)
		}
	}
	return b.String()
}

// TestExportRefusesUnsafeValues: a value HAProxy cannot be given safely is
// refused, the error naming the field.
func TestExportRefusesUnsafeValues(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*fuzzValues)
		want   string
	}{
		{"listen with a newline", func(v *fuzzValues) { v.ListenHost = "127.0.0.1\n    acl x always_true" }, "gateway.listen"},
		{"listen with a brace", func(v *fuzzValues) { v.ListenHost = "a}b" }, "gateway.listen"},
		{"key header with #", func(v *fuzzValues) { v.KeyHeader = "x-api#key" }, "gateway.key_header"},
		{"key header with a quote", func(v *fuzzValues) { v.KeyHeader = "x'api" }, "gateway.key_header"},
		{"upstream host with a quote", func(v *fuzzValues) { v.UpstreamHost = "a'b" }, "--upstream"},
		{"upstream host with a parenthesis", func(v *fuzzValues) { v.UpstreamHost = "a)b" }, "--upstream"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := exportValues(t, with(tc.change))
			if got != nil || err == nil {
				t.Fatalf("exported; want an error naming %s", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %s", err, tc.want)
			}
		})
	}
}

// TestManyRoutesStayWithinHAProxysWords: HAProxy refuses a line of more
// than 64 words, and the export writes a list of routes or path patterns
// on some lines (a 405's paths, the public routes, a backend's routes):
// with 150 routes, haproxy -c still accepts the export.
func TestManyRoutesStayWithinHAProxysWords(t *testing.T) {
	bin := haproxyBin(t)
	var b strings.Builder
	b.WriteString("[keys.k]\nsecret = \"sha256:" + strings.Repeat("ab", 32) + "\"\n\n[functions.f]\nruntime = \"process\"\ncommand = [\"./f\"]\n")
	for i := range 150 {
		method, auth := []string{"GET", "HEAD", "POST"}[i%3], `keys = ["k"]`
		if i%2 == 0 {
			auth = "auth = \"none\"\nreason = \"open\""
		}
		fmt.Fprintf(&b, "\n[[routes]]\nmethod = %q\npath = \"/r%d\"\nfunction = \"f\"\n%s\n", method, i, auth)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "inquir.toml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := policy.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	if _, err := export.HAProxy(p, out, export.Options{Upstreams: map[string]string{"": "http://127.0.0.1:9000"}}); err != nil {
		t.Fatal(err)
	}
	checkConfig(t, bin, out, false)
}
