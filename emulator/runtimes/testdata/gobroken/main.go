// Command gobroken is a test function that does not compile, so a test can
// check that the compiler's output reaches the error.
package main

func main() {
	undefinedHandler()
}
