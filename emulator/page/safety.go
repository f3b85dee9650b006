package page

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"html/template"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// TokenHeader carries the page's per-run token on a state-changing call.
const TokenHeader = "X-Inquir-Token"

// newToken is a token for one run of the page: 32 random bytes.
func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// refuse says why a state-changing call is refused (a status and a
// message), or 0 when it may go on. It must carry the token the page's
// HTML holds (a page of another origin cannot read that HTML: the browser
// gives it no CORS grant, and the gateway refused its Host if it rebound a
// name to loopback), come from the page's own origin as browsers say it
// (Sec-Fetch-Site, Origin: a cross-site form or fetch says so), and be
// JSON (which a cross-site form cannot send without a preflight the page
// never grants).
func (pg *Page) refuse(r *http.Request) (int, string) {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return http.StatusForbidden, "a call from another site (Sec-Fetch-Site: " + site + ") is refused"
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || u.Scheme != "http" || !strings.EqualFold(u.Host, r.Host) {
			return http.StatusForbidden, "a call from another origin is refused"
		}
	}
	got := r.Header.Get(TokenHeader)
	if subtle.ConstantTimeCompare([]byte(got), []byte(pg.token)) != 1 {
		return http.StatusForbidden, "the page's token is missing or not this run's (reload the page)"
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return http.StatusUnsupportedMediaType, "send application/json"
	}
	return 0, ""
}

// sameSite refuses a read the browser says another site asked for
// (Sec-Fetch-Site: cross-site or same-site). Without CORS headers such a
// page could not read the answer anyway; this keeps it from even being
// sent (a <script> tag pointed at the state, a stream opened from afar).
// The page itself may be opened from anywhere: a link is a navigation.
func sameSite(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
			writeError(w, http.StatusForbidden, "forbidden", "a read from another site (Sec-Fetch-Site: "+site+") is refused")
			return
		}
		h(w, r)
	}
}

// onLoopback reports whether r came from this machine to a loopback
// address. The gateway checks Host on a loopback listener; on one that
// other machines reach (--listen 0.0.0.0:8787) any Host passes there, and
// the page, which replays with the keys' secrets, must still refuse them.
func onLoopback(r *http.Request) bool {
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	tcp, ok := local.(*net.TCPAddr)
	if !ok || !tcp.IP.IsLoopback() {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	ip := net.ParseIP(host)
	return err == nil && ip != nil && ip.IsLoopback()
}

// proxyHeaders are the headers a proxy or tunnel adds to what it forwards
// (RFC 7239's Forwarded and Via, the de facto X-Forwarded-* and
// X-Real-Ip, ngrok's X-Original-Host when it rewrites Host, Cloudflare's
// Cf-Connecting-Ip). A browser never sends them of itself.
var proxyHeaders = []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Original-Host", "X-Real-Ip", "Via", "Cf-Connecting-Ip"}

// proxied names the proxy header r carries, or "" for none. A tunnel on
// this machine (`ngrok http --host-header=rewrite 8787`, cloudflared, a
// reverse proxy) connects from 127.0.0.1 with a loopback Host, and so
// passes onLoopback and the gateway's Host check, for anyone on the
// internet: the page would hand them its token and replay with the keys'
// secrets. What forwards without a trace (ssh -L) is beyond its reach.
func proxied(r *http.Request) string {
	for _, h := range proxyHeaders {
		if _, ok := r.Header[h]; ok {
			return h
		}
	}
	return ""
}

// serveIndex is the page itself, with this run's token in a meta tag the
// script reads.
func (pg *Page) serveIndex(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// Nothing but the page's own script and style; no frame may hold it
	// (a click on replay must be the user's own).
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	_ = indexTemplate.Execute(w, struct{ Token string }{pg.token})
}

var indexTemplate = template.Must(template.ParseFS(assets, "assets/index.html"))
