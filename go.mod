module github.com/inquir-dev/inquir

go 1.26.8

require github.com/BurntSushi/toml v1.6.0

require (
	github.com/aws/aws-lambda-go v1.55.1 // indirect
	github.com/fsnotify/fsnotify v1.10.1 // indirect
	github.com/google/go-cmp v0.7.0 // indirect
	github.com/gorilla/mux v1.8.1 // indirect
	github.com/rogpeppe/go-internal v1.16.0 // indirect
	golang.org/x/sys v0.26.0 // indirect
	golang.org/x/tools v0.26.0 // indirect
)
