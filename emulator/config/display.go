package config

// DisplayPath spells path as Error does: relative to the working folder when
// it is inside it ("inquir.toml", "app/inquir.toml"), absolute otherwise.
// Tools that print positions of their own (inquir lint) use it so their
// lines read like the config's errors.
func DisplayPath(path string) string { return displayPath(path) }
