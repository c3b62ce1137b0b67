package clientheaders

import (
	"maps"
	"net/textproto"
	"testing"
)

// mapHeaders is a header map keyed by canonical names, as both runtimes'
// maps are case-insensitive.
type mapHeaders map[string]string

func (m mapHeaders) Get(k string) (string, bool) {
	v, ok := m[textproto.CanonicalMIMEHeaderKey(k)]
	return v, ok
}
func (m mapHeaders) Set(k, v string) { m[textproto.CanonicalMIMEHeaderKey(k)] = v }
func (m mapHeaders) Add(k, v string) { m.Set(k, v) }
func (m mapHeaders) Del(k string)    { delete(m, textproto.CanonicalMIMEHeaderKey(k)) }

// TestOnRequest: the admitted client's headers are set; what a caller sent
// in any client's header is gone, also for a client without that header
// or a request without a client; Gluon's own client header is dropped.
func TestOnRequest(t *testing.T) {
	r, err := CompileRoute([]byte(`{"clientHeader": "x-gluon-client", "removeClientHeader": true,
		"headers": {"alice": {"x-user-id": "u-1", "x-plan": "gold"}, "bob": {"x-user-id": "u-2"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct{ in, want mapHeaders }{
		"alice": {in: mapHeaders{"X-Gluon-Client": "alice", "X-Plan": "forged"},
			want: mapHeaders{"X-User-Id": "u-1", "X-Plan": "gold"}},
		"bob, without a plan": {in: mapHeaders{"X-Gluon-Client": "bob", "X-Plan": "forged", "Accept": "*/*"},
			want: mapHeaders{"X-User-Id": "u-2", "Accept": "*/*"}},
		"no client": {in: mapHeaders{"X-User-Id": "forged"}, want: mapHeaders{}},
	} {
		r.OnRequest(tc.in)
		if !maps.Equal(tc.in, tc.want) {
			t.Errorf("%s: %v, want %v", name, tc.in, tc.want)
		}
	}
}

// TestCompileRouteErrors: a config that is not JSON, or names no client
// header, is refused with the plugin's name.
func TestCompileRouteErrors(t *testing.T) {
	for _, js := range []string{`{`, `{"headers": {}}`} {
		if _, err := CompileRoute([]byte(js)); err == nil {
			t.Errorf("%s: accepted", js)
		}
	}
}
