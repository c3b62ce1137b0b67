package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/pprof"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// adminHandler serves the control plane's own endpoints.
func adminHandler(p *pipeline) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !p.status().Ready {
			http.Error(w, "no good snapshot yet", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /statusz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, p.status())
	})
	mux.HandleFunc("GET /snapshot", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, servedConfig(p))
	})
	// Go's profiles, as Gloo's admin port has them: the admin endpoint is
	// an operator's, on loopback by default.
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	return mux
}

// servedProxy is one proxy's served xDS, rendered as protojson.
type servedProxy struct {
	Proxy     string                       `json:"proxy"`
	Version   string                       `json:"version"`
	Restored  bool                         `json:"restored"`
	Resources map[string][]json.RawMessage `json:"resources"`
}

// secretTypeURL is SDS's type; secrets are never shown.
const secretTypeURL = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"

func servedConfig(p *pipeline) []servedProxy {
	var out []servedProxy
	for _, snap := range p.server.Snapshots() {
		sp := servedProxy{Proxy: snap.Proxy, Version: snap.Version, Restored: snap.Restored, Resources: map[string][]json.RawMessage{}}
		for typeURL, rs := range snap.Resources {
			sp.Resources[typeURL] = renderResources(typeURL, rs)
		}
		out = append(out, sp)
	}
	return out
}

func renderResources(typeURL string, rs []types.Resource) []json.RawMessage {
	out := []json.RawMessage{}
	for _, r := range rs {
		if typeURL == secretTypeURL {
			name, _ := json.Marshal(map[string]any{"name": nameOf(r), "redacted": true})
			out = append(out, name)
			continue
		}
		b, err := protojson.Marshal(r)
		if err == nil {
			b, err = redactJSON(b)
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

// redactJSON replaces the values of sensitive fields, at any depth.
func redactJSON(b []byte) ([]byte, error) {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("redacting: %w", err)
	}
	return json.Marshal(redact(v))
}

func redact(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			if sensitiveFields[k] {
				t[k] = "[redacted]"
				continue
			}
			t[k] = redact(child)
		}
	case []any:
		for i, child := range t {
			t[i] = redact(child)
		}
	}
	return v
}
