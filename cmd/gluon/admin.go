package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/gluon-gateway/gluon/controlplane"
	"github.com/gluon-gateway/gluon/dataplane"
)

// adminHandler serves the control plane's own endpoints; /statusz also
// shows the endpoint health of the embedded data plane, dp, when there is one.
func adminHandler(p *controlplane.Pipeline, dp *dataplane.DataPlane) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !p.Status().Ready {
			http.Error(w, "no good snapshot yet", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /statusz", func(w http.ResponseWriter, _ *http.Request) {
		st := p.Status()
		if dp != nil {
			st.EndpointHealth = dp.Status().Upstreams
		}
		writeJSON(w, st)
	})
	// The control plane's metrics, and the embedded data plane's
	// statistics under Envoy's names.
	var more []prometheus.Collector
	if dp != nil {
		more = append(more, dp.Stats())
	}
	mux.Handle("GET /metrics", p.MetricsHandler(more...))
	mux.HandleFunc("GET /snapshot", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, servedConfig(p))
	})
	// Go's profiles, as Gloo's admin port has them: the admin endpoint is
	// an operator's, on loopback by default.
	consoleHandlers(mux, p, dp)
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	return mux
}

// servedProxy is one proxy's served xDS, rendered as protojson.
type servedProxy struct {
	Proxy     string                       `json:"proxy"`
	Version   string                       `json:"version"`
	Versions  map[string]string            `json:"versions"`
	Restored  bool                         `json:"restored"`
	Resources map[string][]json.RawMessage `json:"resources"`
}

// secretTypeURL is SDS's type; secrets are never shown.
const secretTypeURL = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"

func servedConfig(p *controlplane.Pipeline) []servedProxy {
	var out []servedProxy
	secrets := secretSet(p.SecretValues())
	for _, snap := range p.Snapshots() {
		sp := servedProxy{Proxy: snap.Proxy, Version: snap.Version, Versions: snap.Versions, Restored: snap.Restored, Resources: map[string][]json.RawMessage{}}
		for typeURL, rs := range snap.Resources {
			sp.Resources[typeURL] = renderResources(typeURL, rs, secrets)
		}
		out = append(out, sp)
	}
	return out
}

func renderResources(typeURL string, rs []types.Resource, secrets secretSet) []json.RawMessage {
	out := []json.RawMessage{}
	for _, r := range rs {
		if typeURL == secretTypeURL {
			name, _ := json.Marshal(map[string]any{"name": nameOf(r), "redacted": true})
			out = append(out, name)
			continue
		}
		b, err := protojson.Marshal(r)
		if err == nil {
			b, err = redactJSON(b, secrets)
		}
		if err != nil {
			b, _ = json.Marshal(map[string]string{"error": err.Error()})
		}
		out = append(out, b)
	}
	return out
}

func nameOf(r proto.Message) string {
	if n, ok := r.(interface{ GetName() string }); ok {
		return n.GetName()
	}
	return ""
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// sensitiveFields are config fields whose values are credentials, in any
// filter config: they are shown as "[redacted]".
var sensitiveFields = map[string]bool{
	"accessKeyId": true, "secretAccessKey": true, "sessionToken": true,
	"functionKey": true, "functionKeys": true, "hostKey": true, "masterKey": true, "apiKeys": true,
	"clientSecret": true, "privateKey": true,
}

// secretSet is every secret value the config holds: a string that is one,
// or holds one, is redacted wherever it appears (a header a route adds
// from a header Secret has no telling field name).
type secretSet map[string]bool

// minSecretInside is the shortest secret looked for inside longer strings:
// shorter ones are redacted only where they are the whole value.
const minSecretInside = 6

func (s secretSet) holds(v string) bool {
	if s[v] {
		return true
	}
	for secret := range s {
		if len(secret) >= minSecretInside && strings.Contains(v, secret) {
			return true
		}
	}
	return false
}

// redactJSON replaces the values of sensitive fields, and every string that
// holds a secret value, at any depth.
func redactJSON(b []byte, secrets secretSet) ([]byte, error) {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("redacting: %w", err)
	}
	return json.Marshal(redact(v, secrets))
}

func redact(v any, secrets secretSet) any {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			if sensitiveFields[k] {
				t[k] = "[redacted]"
				continue
			}
			t[k] = redact(child, secrets)
		}
	case []any:
		for i, child := range t {
			t[i] = redact(child, secrets)
		}
	case string:
		if secrets.holds(t) {
			return "[redacted]"
		}
	}
	return v
}

// serveStats serves a data plane's statistics on addr until stop.
func serveStats(addr string, h http.Handler, log *slog.Logger) (stop func(), err error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("admin listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /stats/prometheus", h)
	mux.Handle("GET /metrics", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go serveAdmin(srv, lis, log)
	return func() { _ = srv.Close() }, nil
}
