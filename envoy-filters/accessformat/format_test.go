package accessformat

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func entry() *Entry {
	req := http.Header{"User-Agent": {"curl/8"}, "X-Request-Id": {"abc"}}
	resp := http.Header{"Content-Type": {"text/plain"}}
	return &Entry{Start: time.Date(2026, 12, 3, 10, 0, 0, 5e6, time.UTC), Duration: 42 * time.Millisecond, Method: "GET", Path: "/x?y=1",
		Authority: "shop.test", Protocol: "HTTP/1.1", Request: req.Get, Response: resp.Get, Code: 200, Flags: "-",
		BytesSent: 100, UpstreamHost: "127.0.0.1:9001", Cluster: "a_default", RemoteAddr: "192.0.2.1:5000"}
}

func TestText(t *testing.T) {
	f, err := ParseText(DefaultText)
	if err != nil {
		t.Fatal(err)
	}
	want := `[2026-12-03T10:00:00.005Z] "GET /x?y=1 HTTP/1.1" 200 - 0 100 42 - "-" "curl/8" "abc" "shop.test" "127.0.0.1:9001"` + "\n"
	if got := string(f.Render(entry())); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	f, err = ParseText("%REQ(X-MISSING?USER-AGENT):4% %RESP(content-type)% 100%% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%")
	if err != nil {
		t.Fatal(err)
	}
	if got := string(f.Render(entry())); got != "curl text/plain 100% 192.0.2.1" {
		t.Errorf("got %q", got)
	}
}

func TestJSON(t *testing.T) {
	f, err := ParseJSON(map[string]string{"code": "%RESPONSE_CODE%", "cluster": "%UPSTREAM_CLUSTER%", "path": "%REQ(:PATH)%"})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(f.Render(entry())); got != `{"cluster":"a_default","code":"200","path":"/x?y=1"}`+"\n" {
		t.Errorf("got %q", got)
	}
}

func TestBadFormats(t *testing.T) {
	for _, s := range []string{"%NOPE%", "%REQ(X%", "%START_TIME(%s)%", "100% done", "%REQ(X):abc%", "%REQ()%"} {
		if _, err := ParseText(s); err == nil {
			t.Errorf("%q parsed", s)
		} else if !strings.Contains(err.Error(), "operator") && !strings.Contains(err.Error(), "%") {
			t.Errorf("%q: unclear error %v", s, err)
		}
	}
}

// FuzzParseText: a format from a user never panics, and a parsed one renders.
func FuzzParseText(f *testing.F) {
	for _, s := range []string{DefaultText, "%REQ(A?B):3%", "%%", "%", "%RESP(", "%REQ(X)):1%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if fm, err := ParseText(s); err == nil {
			fm.Render(entry())
		}
	})
}
