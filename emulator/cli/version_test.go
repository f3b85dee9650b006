package cli

import (
	"runtime"
	"runtime/debug"
	"testing"
)

// The version names the build: the module version when go install or a
// release stamped one, else the commit it was built from (and whether the
// tree had changes), else (devel); then the Go toolchain that built it.
func TestVersionLine(t *testing.T) {
	vcs := func(settings ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(settings); i += 2 {
			s = append(s, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return s
	}
	tests := []struct {
		name string
		info *debug.BuildInfo
		want string
	}{
		{"release", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}}, "inquir v1.2.3 go1.26.8"},
		{"pseudo-version stamped by go build", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261202012000-67e69d5c1234+dirty"},
			Settings: vcs("vcs.revision", "67e69d5c12345678901234567890123456789012", "vcs.modified", "true")},
			"inquir v0.0.0-20261202012000-67e69d5c1234+dirty go1.26.8"},
		{"devel, from a clean checkout", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
			Settings: vcs("vcs", "git", "vcs.revision", "67e69d5c12345678901234567890123456789012", "vcs.modified", "false")},
			"inquir 67e69d5c1234 go1.26.8"},
		{"devel, with changes", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
			Settings: vcs("vcs.revision", "67e69d5c12345678901234567890123456789012", "vcs.modified", "true")},
			"inquir 67e69d5c1234-dirty go1.26.8"},
		{"no version, no revision (go test, go run)", &debug.BuildInfo{GoVersion: "go1.26.8"}, "inquir (devel) go1.26.8"},
		{"no build info", nil, "inquir (devel) " + runtime.Version()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionLine(tt.info); got != tt.want {
				t.Errorf("versionLine = %q; want %q", got, tt.want)
			}
		})
	}
}
