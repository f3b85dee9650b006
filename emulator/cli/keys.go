package cli

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
)

// keyBytes is the entropy of a new key: 32 bytes, as the SPEC asks.
const keyBytes = 32

// runKeys makes and hashes API keys:
//
//	inquir keys new    prints a new key and the sha256: form for inquir.toml
//	inquir keys hash   reads a key on stdin and prints its sha256: form
func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	usage := synopsis("keys")
	for _, a := range args {
		if isHelp(a) { // inquir keys --help, inquir keys new --help, ...
			fmt.Fprint(stdout, commandUsage("keys")+keysHelp)
			return exitOK
		}
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	if args[0] != "new" && args[0] != "hash" {
		fmt.Fprintf(stderr, "inquir keys: unknown subcommand %q\n%s", args[0], usage)
		return exitUsage
	}
	if len(args) > 1 {
		fmt.Fprintf(stderr, "inquir keys %s: unexpected argument %q\n%s", args[0], args[1], usage)
		return exitUsage
	}
	switch args[0] {
	case "new":
		b := make([]byte, keyBytes)
		if _, err := rand.Read(b); err != nil {
			fmt.Fprintf(stderr, "inquir keys new: %v\n", err)
			return exitFail
		}
		key := "inq_" + base64.RawURLEncoding.EncodeToString(b)
		fmt.Fprintf(stdout, "key:    %s\nsecret: %s\n", key, digest(key))
		fmt.Fprintln(stderr, "Give the key to the caller; put the secret line in inquir.toml. The key is not stored anywhere.")
		return exitOK
	case "hash":
		// One line: the key, without its line ending. Surrounding spaces are
		// part of no key inquir makes, so they are trimmed, as file: secrets are.
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			fmt.Fprintf(stderr, "inquir keys hash: reading stdin: %v\n", err)
			return exitFail
		}
		key := strings.TrimSpace(line)
		if key == "" {
			fmt.Fprint(stderr, "inquir keys hash: no key on stdin\n"+usage)
			return exitUsage
		}
		fmt.Fprintln(stdout, digest(key))
	}
	return exitOK
}

const keysHelp = `
inquir keys new prints a new random key (32 bytes, URL-safe) and its
sha256: form: give the key to the caller, put the sha256: line in
inquir.toml as the key's secret.

inquir keys hash reads one key on stdin and prints its sha256: form, for a
key made elsewhere:

    inquir keys hash < partner.key
`

// digest is the sha256: form of a key, as inquir.toml takes it.
func digest(key string) string {
	d := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(d[:])
}
