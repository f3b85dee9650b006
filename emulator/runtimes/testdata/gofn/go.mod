// A function's own module, as a user's often is. Its own go.mod keeps the
// fixture building whatever inquir's go.mod says (go mod tidy ignores
// testdata, so it would drop a requirement only this fixture uses), and
// shows that a go function builds within whatever module encloses it.
module example.com/inquirtest/gofn

go 1.26

require github.com/aws/aws-lambda-go v1.55.1
