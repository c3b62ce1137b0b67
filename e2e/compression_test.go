package e2e

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
)

// curlCompressed is what `curl --compressed` sends.
const curlCompressed = "deflate, gzip, br, zstd"

// TestCompression: a client that accepts gzip gets a large JSON body
// gzipped and a small one as it is; one that prefers brotli gets brotli;
// one that accepts nothing gets identity; a listed type only.
func TestCompression(t *testing.T) {
	large := "[" + strings.Repeat(`{"name":"gluon","kind":"gateway"},`, 200) + "{}]"
	backend := func(w http.ResponseWriter, r *http.Request) {
		body := large
		switch r.URL.Path {
		case "/small":
			body = `{"ok":true}`
		case "/image":
			w.Header().Set("Content-Type", "image/png")
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
		}
		w.Header().Set("X-Saw-Accept-Encoding", r.Header.Get("Accept-Encoding"))
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		io.WriteString(w, body)
	}
	base := serveWithGatewayOptions(t, backend, `
    options:
      gzip: {compressionLevel: SPEED, contentLength: 100}
      brotli: {}`, "")

	type answer struct {
		encoding, vary, sawAccept string
		body                      []byte
	}
	fetch := func(path, accept string) answer {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		if accept != "" {
			req.Header.Set("Accept-Encoding", accept)
		}
		// A Transport that does not ask for gzip itself nor undo it.
		resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		var r io.Reader = resp.Body
		switch resp.Header.Get("Content-Encoding") {
		case "gzip":
			if r, err = gzip.NewReader(resp.Body); err != nil {
				t.Fatal(err)
			}
		case "br":
			r = brotli.NewReader(resp.Body)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("%s: reading the %q body: %v", path, resp.Header.Get("Content-Encoding"), err)
		}
		return answer{resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"), resp.Header.Get("X-Saw-Accept-Encoding"), b}
	}
	check := func(name string, a answer, encoding, body string) {
		t.Helper()
		if a.encoding != encoding || string(a.body) != body {
			t.Errorf("%s: Content-Encoding %q (want %q), body of %d bytes intact: %v", name, a.encoding, encoding, len(a.body), string(a.body) == body)
		}
	}
	a := fetch("/large", curlCompressed)
	check("curl --compressed, large JSON", a, "gzip", large) // gzip and br tie: the first configured wins
	if a.vary != "Accept-Encoding" || a.sawAccept != curlCompressed {
		t.Errorf("Vary %q, upstream saw Accept-Encoding %q", a.vary, a.sawAccept)
	}
	check("curl --compressed, small JSON", fetch("/small", curlCompressed), "", `{"ok":true}`)
	check("brotli preferred", fetch("/large", "gzip;q=0.5, br"), "br", large)
	check("no Accept-Encoding", fetch("/large", ""), "", large)
	check("gzip refused", fetch("/large", "gzip;q=0, identity"), "", large)
	check("an image", fetch("/image", "gzip"), "", large)
}

// TestBufferLimits: a gateway buffering requests up to 1 KiB answers 413
// past it and serves everything else; a route raises its limit, another
// turns buffering off; the listener's buffer limit raises the
// transformation's body limit above its 1 MiB default.
func TestBufferLimits(t *testing.T) {
	echo := func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Length", r.Header.Get("Content-Length"))
		w.Header().Set("X-Got", strconv.Itoa(len(b)))
	}
	base := serveWithGatewayOptions(t, echo, `
    options:
      buffer: {maxRequestBytes: 1024}`, `
  options: {perConnectionBufferLimitBytes: 4194304}`, `
    - matchers: [{prefix: /big}]
      options: {bufferPerRoute: {buffer: {maxRequestBytes: 4096}}}
      routeAction: {single: {upstream: {name: a}}}
    - matchers: [{prefix: /stream}]
      options: {bufferPerRoute: {disabled: true}}
      routeAction: {single: {upstream: {name: a}}}
    - matchers: [{prefix: /template}]
      options:
        bufferPerRoute: {disabled: true}
        transformations: {requestTransformation: {transformationTemplate: {body: {text: "{{ body() }}"}}}}
      routeAction: {single: {upstream: {name: a}}}`)
	post := func(path string, n int, chunked bool) (int, http.Header) {
		t.Helper()
		var body io.Reader = bytes.NewReader(bytes.Repeat([]byte("x"), n))
		if chunked {
			body = io.MultiReader(body) // hides the length: sent chunked
		}
		resp, err := http.Post(base+path, "text/plain", body)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header
	}
	for _, c := range []struct {
		path    string
		n       int
		chunked bool
		want    int
	}{
		{"/x", 1000, false, 200},
		{"/x", 2000, false, 413},
		{"/x", 2000, true, 413},
		{"/big", 2000, true, 200},
		{"/big", 5000, false, 413},
		{"/stream", 100000, true, 200},
		{"/template", 2 << 20, false, 200}, // over the 1 MiB default, under the listener's 4 MiB
		{"/template", 5 << 20, false, 413},
	} {
		code, h := post(c.path, c.n, c.chunked)
		if code != c.want {
			t.Errorf("POST %s with %d bytes (chunked %v): %d, want %d", c.path, c.n, c.chunked, code, c.want)
			continue
		}
		if code == 200 && h.Get("X-Got") != strconv.Itoa(c.n) {
			t.Errorf("POST %s: the upstream got %s of %d bytes", c.path, h.Get("X-Got"), c.n)
		}
	}
	// A buffered chunked body reaches the upstream with its length.
	if _, h := post("/x", 500, true); h.Get("X-Length") != "500" {
		t.Errorf("a buffered chunked body went on with Content-Length %q", h.Get("X-Length"))
	}
}

// serveWithGatewayOptions serves one upstream (handler h) behind a gateway
// with the given httpGateway and gateway-level YAML, and a virtual service
// with extra routes before its catch-all route.
func serveWithGatewayOptions(t *testing.T, h http.HandlerFunc, httpGatewayOptions, gatewayOptions string, routes ...string) string {
	t.Helper()
	return serveUpstreamA(t, h, gatewayOptions+`
  httpGateway:`+httpGatewayOptions, "", `apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: default}
spec:
  virtualHost:
    routes:`+strings.Join(routes, "")+`
    - matchers: [{prefix: /}]
      routeAction: {single: {upstream: {name: a}}}
`)
}
