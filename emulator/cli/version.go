package cli

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

func runVersion(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if code, ok := parseFlags(newFlags("version", stderr), args, stdout); !ok {
		return code
	}
	info, _ := debug.ReadBuildInfo()
	fmt.Fprintln(stdout, versionLine(info))
	return exitOK
}

// versionLine is what inquir version prints: "inquir VERSION GOVERSION".
// VERSION is the module version when one was stamped (go install
// module@version, or go build in a checkout, which stamps a
// pseudo-version), else the commit the binary was built from, its first 12
// hex digits as in a pseudo-version, with "-dirty" if the tree had changes,
// else "(devel)". GOVERSION is the toolchain that built it.
func versionLine(info *debug.BuildInfo) string {
	version, goVersion := "(devel)", runtime.Version()
	if info == nil {
		return fmt.Sprintf("inquir %s %s", version, goVersion)
	}
	if info.GoVersion != "" {
		goVersion = info.GoVersion
	}
	var revision string
	var modified bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	switch {
	case info.Main.Version != "" && info.Main.Version != "(devel)":
		version = info.Main.Version
	case revision != "":
		version = revision[:min(12, len(revision))]
		if modified {
			version += "-dirty"
		}
	}
	return fmt.Sprintf("inquir %s %s", version, goVersion)
}
