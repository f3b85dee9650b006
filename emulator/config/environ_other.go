//go:build !linux

package config

// scrubInitialEnviron does nothing where the kernel shows no environment
// block of its own: os.Unsetenv is all there is.
func scrubInitialEnviron(names []string) {}
