package dataplane

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// TestHTTP2WithoutAuthorityIs400: such a request used to be forwarded with
// an empty Host.
func TestHTTP2WithoutAuthorityIs400(t *testing.T) {
	e := newEnv(t)
	seen := make(chan string, 1)
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case seen <- r.Host:
		default:
		}
	}))
	defer be.Close()
	e.push(e.basic(routeConfig("rc", vhost("all", []string{"*"}, prefixRoute("/", "a"))), map[string]*httptest.Server{"a": be}))
	for _, tc := range []struct {
		authority string
		want      string
	}{{"", "400"}, {"x.test", "200"}} {
		if got := h2cStatus(t, e.port, tc.authority); got != tc.want {
			t.Errorf(":authority %q: status %s, want %s", tc.authority, got, tc.want)
		}
	}
	if host := <-seen; host != "x.test" {
		t.Errorf("the upstream saw Host %q", host)
	}
}

// h2cStatus sends one GET / over h2c with prior knowledge, with the given
// :authority (none when empty), and returns the response's :status.
func h2cStatus(t *testing.T, port int, authority string) string {
	t.Helper()
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(http2.ClientPreface)); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(c, c)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	fields := []hpack.HeaderField{{Name: ":method", Value: "GET"}, {Name: ":scheme", Value: "http"}, {Name: ":path", Value: "/"}}
	if authority != "" {
		fields = append(fields, hpack.HeaderField{Name: ":authority", Value: authority})
	}
	for _, f := range fields {
		_ = enc.WriteField(f) // writes to a bytes.Buffer
	}
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block.Bytes(), EndStream: true, EndHeaders: true}); err != nil {
		t.Fatal(err)
	}
	dec := hpack.NewDecoder(4096, nil)
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("reading the answer: %v", err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = fr.WriteSettingsAck()
			}
		case *http2.HeadersFrame:
			hdrs, err := dec.DecodeFull(f.HeaderBlockFragment())
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range hdrs {
				if h.Name == ":status" {
					return h.Value
				}
			}
		case *http2.RSTStreamFrame, *http2.GoAwayFrame:
			t.Fatalf("the request was reset: %v", f)
		}
	}
}
