package dataplane

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkProxy measures one request through the data plane to a loopback
// backend, client and backend included (compare with the direct baseline).
func BenchmarkProxy(b *testing.B) {
	e := newEnv(b)
	backendSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "hello")
	}))
	b.Cleanup(backendSrv.Close)
	rt := prefixRoute("/", "b")
	e.push(e.basic(routeConfig("rc", vhost("all", []string{"*"}, rt)), map[string]*httptest.Server{"b": backendSrv}))
	url := "http://127.0.0.1:" + itoa(e.port) + "/bench"
	b.Run("proxied", func(b *testing.B) { benchGet(b, e.client, url) })
	b.Run("direct", func(b *testing.B) { benchGet(b, e.client, backendSrv.URL+"/bench") })
}

// BenchmarkTransformation measures a request through transformation routes:
// the fast path (:path spliced from a header, response streamed) and a
// response body rendered by pongo2 from the upstream's JSON (buffered).
func BenchmarkTransformation(b *testing.B) {
	e := newEnv(b)
	backendSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id": 2, "name": "rex"}`)
	}))
	b.Cleanup(backendSrv.Close)
	rc := routeConfig("rc", vhost("all", []string{"*"},
		transformed(b, prefixRoute("/petstore/findPet", "b"), "path", `{"request": {"headers": {":path": "/api/pets/{{ header(\"x-pet-id\") }}"}}}`),
		transformed(b, prefixRoute("/body", "b"), "body", `{"response": {"body": "{\"petName\": \"{{ name }}\"}"}}`),
		prefixRoute("/", "b")))
	e.push(e.transformationResources(rc, map[string]*httptest.Server{"b": backendSrv}))
	base := "http://127.0.0.1:" + itoa(e.port)
	b.Run("none", func(b *testing.B) { benchGet(b, e.client, base+"/plain") })
	b.Run("request-path", func(b *testing.B) {
		req, _ := http.NewRequest("GET", base+"/petstore/findPet", nil)
		req.Header.Set("X-Pet-Id", "2")
		benchRequest(b, e.client, req)
	})
	b.Run("response-body", func(b *testing.B) { benchGet(b, e.client, base+"/body") })
}

func benchGet(b *testing.B, c *http.Client, url string) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		b.Fatal(err)
	}
	benchRequest(b, c, req)
}

// benchRequest sends req (which has no body, so it can be reused) in a loop.
func benchRequest(b *testing.B, c *http.Client, req *http.Request) {
	b.ReportAllocs()
	for b.Loop() {
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

// BenchmarkRateLimit measures a request through a route whose rate limits
// make the global filter call the (in-test) rate limit service, against the
// same listener's route without rate limits.
func BenchmarkRateLimit(b *testing.B) {
	e := newEnv(b)
	backendSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "hello")
	}))
	b.Cleanup(backendSrv.Close)
	rls := startFakeRLS(b)
	rc := routeConfig("rc", vhost("all", []string{"*"},
		withRateLimits(prefixRoute("/limited", "b"), false, rateLimit(remoteAddress(), genericKey("k", "v"))),
		prefixRoute("/", "b")))
	e.push(e.rateLimitResources(rc, map[string]*httptest.Server{"b": backendSrv}, rls.addr, time.Second, false))
	base := "http://127.0.0.1:" + itoa(e.port)
	b.Run("without", func(b *testing.B) { benchGet(b, e.client, base+"/plain") })
	b.Run("global", func(b *testing.B) {
		benchGet(b, e.client, base+"/limited")
		rls.take()
	})
}
