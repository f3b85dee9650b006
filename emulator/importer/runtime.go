package importer

import (
	"os"
	"path/filepath"
	"strings"
)

// handlerFunction makes the [functions] table for a Lambda function of the
// source: handler and runtime as Lambda spells them ("src/index.handler",
// "nodejs20.x"), codeDir the folder the handler is in (SAM's CodeUri; ""
// for the source's folder). ok is false when inquir has no runtime for it;
// the finding is recorded either way.
func (p *Project) handlerFunction(name, handler, runtime, codeDir string, line int, field string) (Function, bool) {
	fn := Function{Name: name, Line: line}
	join := func(rel string) string {
		if codeDir == "" || codeDir == "." {
			return filepath.ToSlash(filepath.Clean(rel))
		}
		return filepath.ToSlash(filepath.Join(codeDir, rel))
	}
	exists := func(rel string) bool {
		for _, f := range p.Files {
			if f.Path == rel {
				return true
			}
		}
		_, err := os.Stat(filepath.Join(p.Dir, filepath.FromSlash(rel)))
		return err == nil
	}
	switch {
	case strings.HasPrefix(runtime, "nodejs"):
		fn.Runtime = "node"
		mod, export := splitHandler(handler)
		fn.Export = export
		fn.Path = join(mod + ".js")
		found := false
		for _, ext := range []string{".mjs", ".js", ".cjs"} {
			if exists(join(mod + ext)) {
				fn.Path, found = join(mod+ext), true
				break
			}
		}
		switch {
		case found:
		case exists(join(mod + ".ts")):
			p.note(line, field, "handler %s is TypeScript: inquir runs %s, so build it first (what serverless-plugin-typescript or esbuild did)", handler, fn.Path)
		default:
			p.note(line, field, "handler %s: %s is not here yet; inquir.toml names it, so put the handler there before inquir dev", handler, fn.Path)
		}
	case runtime == "go1.x" || strings.HasPrefix(runtime, "provided"):
		fn.Runtime = "go"
		var candidates []string
		if codeDir != "" {
			candidates = []string{codeDir}
		} else {
			base := strings.TrimPrefix(strings.TrimPrefix(handler, "./"), "bin/")
			candidates = []string{base, "cmd/" + filepath.Base(base), "functions/" + filepath.Base(base), "."}
		}
		fn.Path = filepath.ToSlash(filepath.Clean(candidates[0]))
		found := false
		for _, c := range candidates {
			if hasGo(filepath.Join(p.Dir, c)) {
				fn.Path, found = filepath.ToSlash(filepath.Clean(c)), true
				break
			}
		}
		if !found {
			p.note(line, field, "runtime %s, handler %s: no Go package found at %s; inquir builds the Go package its path names (a bootstrap of another language needs runtime = \"process\")", runtime, handler, strings.Join(candidates, ", "))
		}
	case strings.HasPrefix(runtime, "python"):
		fn.Runtime = "process"
		mod, export := splitHandler(handler)
		fn.Command = []string{"python3", "-m", "awslambdaric", join(mod) + "." + export}
		p.note(line, field, "runtime %s runs as a process through AWS's runtime interface client: pip install awslambdaric where inquir dev runs", runtime)
	case runtime == "":
		p.drop(line, field, "no runtime: inquir needs one to run the function; its routes are left out")
		return fn, false
	default:
		p.drop(line, field, "runtime %s: inquir runs go, node, python (through awslambdaric) and Runtime API processes; the function and its routes are left out", runtime)
		return fn, false
	}
	return fn, true
}

// splitHandler splits "src/index.handler" into module and export; the
// export is everything after the first dot of the last path element, as
// Lambda's node runtime reads "index.nested.fn".
func splitHandler(h string) (string, string) {
	dir, file := filepath.Split(h)
	mod, export, ok := strings.Cut(file, ".")
	if !ok {
		return h, "handler"
	}
	return dir + mod, export
}

// hasGo reports whether dir holds a .go file.
func hasGo(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".go") {
			return true
		}
	}
	return false
}
