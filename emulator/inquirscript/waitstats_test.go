package inquirscript

import "testing"

// TestStatsPredicate checks how waitstats reads a value out of
// /_inquir/stats and compares it.
func TestStatsPredicate(t *testing.T) {
	body := []byte(`{"reloads":{"applied":5,"refused":1,"last_error":"inquir.toml:3:1: error INQ003: x"},` +
		`"functions":{"gofn":{"workers_running":2,"crash_loop":false}},"invocations":{"pid":7}}`)
	tests := []struct {
		name, path, op, want string
		hold                 bool
	}{
		{"equal number", "reloads.applied", "==", "5", true},
		{"unequal number", "reloads.applied", "==", "6", false},
		{"number spelled otherwise", "reloads.applied", "==", "5.0", true},
		{"at least", "invocations.pid", ">=", "7", true},
		{"more than", "invocations.pid", ">", "7", false},
		{"at most", "functions.gofn.workers_running", "<=", "1", false},
		{"not", "reloads.refused", "!=", "0", true},
		{"regexp", "reloads.last_error", "~", `error INQ003`, true},
		{"regexp no match", "reloads.last_error", "~", `error INQ001`, false},
		{"bool as text", "functions.gofn.crash_loop", "==", "false", true},
		{"absent value", "functions.gofn.last_build_error", "~", ".", false},
		{"absent function", "functions.nope.workers_running", "==", "0", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check, err := statsPredicate(tt.op, tt.want)
			if err != nil {
				t.Fatal(err)
			}
			got, ok, err := statsValue(body, tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if hold := ok && check(got); hold != tt.hold {
				t.Errorf("%s %s %s on %q (present %v): %v, want %v", tt.path, tt.op, tt.want, got, ok, hold, tt.hold)
			}
		})
	}

	for _, bad := range [][2]string{{"=", "1"}, {">=", "many"}, {"~", "("}} {
		if _, err := statsPredicate(bad[0], bad[1]); err == nil {
			t.Errorf("statsPredicate(%q, %q) accepted", bad[0], bad[1])
		}
	}
	if _, _, err := statsValue(body, "reloads.applied.x"); err == nil {
		t.Error("a path into a number was accepted")
	}
}
