package dataplane

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
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

func benchGet(b *testing.B, c *http.Client, url string) {
	b.ReportAllocs()
	for b.Loop() {
		resp, err := c.Get(url)
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
