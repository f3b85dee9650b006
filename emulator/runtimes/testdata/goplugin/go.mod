// The go-plugin fixture's own module, like gofn's: it requires exactly the
// aws-lambda-go inquir is built with, as a plugin must.
module example.com/inquirtest/goplugin

go 1.26

require github.com/aws/aws-lambda-go v1.55.1
