package redact

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"io"
	"strconv"
	"testing"
)

// testPEM returns a fresh P-256 private key in PKCS #8 PEM: three base64
// lines of 64, 64 and 56 characters between the armor lines.
func testPEM(tb testing.TB) string {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		tb.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// benchRedactor knows what a modest project holds: a dozen key secrets and
// env values, a PEM key and one secret with characters JSON escapes.
func benchRedactor(b *testing.B) *Redactor {
	r := New()
	for i := 0; i < 12; i++ {
		r.Add("s3cr3t-key-" + strconv.Itoa(i) + "-0123456789abcdef")
	}
	r.Add(testPEM(b), `pa"ss\w<o>rd&-é`)
	return r
}

// BenchmarkString redacts a log line as inquir writes it, holding no
// secret (the common case) and holding one.
func BenchmarkString(b *testing.B) {
	r := benchRedactor(b)
	lines := map[string]string{
		"clean":  `time=2025-01-01T12:00:00.000Z level=INFO msg=request method=GET path=/orders/42 route="GET /orders/{id}" key=partner status=200 duration=1.2ms function=orders` + "\n",
		"secret": `[orders] 2025-01-01T12:00:00.000Z	c0ffee	ERROR	connect failed: password s3cr3t-key-7-0123456789abcdef rejected` + "\n",
	}
	for name, line := range lines {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(line)))
			for b.Loop() {
				_ = r.String(line)
			}
		})
	}
}

// BenchmarkWriterLongLine writes a 200 KB line 16 bytes at a time, as a
// function printing without newlines would: the Writer's cost must grow
// with the line, not with its square.
func BenchmarkWriterLongLine(b *testing.B) {
	r := New()
	chunk := []byte("0123456789abcdef")
	for b.Loop() {
		w := r.Writer(io.Discard)
		for range 200 << 10 / len(chunk) {
			_, _ = w.Write(chunk)
		}
		_ = w.Flush()
	}
}
