//go:build cgo

// Command plugin is the shared library (go build -buildmode=c-shared) that
// Envoy's golang HTTP filter loads: it registers every Gluon filter with
// Envoy's Go filter API. Envoy runs a c-shared library's init functions,
// never its main, so registration happens in init.
package main

import (
	"github.com/envoyproxy/envoy/contrib/golang/filters/http/source/go/pkg/http"

	"github.com/gluon-gateway/gluon/envoy-filters/plugin/adapter"
	"github.com/gluon-gateway/gluon/envoy-filters/wire"
)

// init registers every plugin of wire.Plugins, the list the embedded data
// plane runs too; a plugin without an adapter stops the library loading.
func init() {
	for _, p := range wire.Plugins() {
		a, ok := adapter.Plugins[p.Name]
		if !ok {
			panic("gluon-filters: no Envoy adapter for plugin " + p.Name)
		}
		http.RegisterHttpFilterFactoryAndConfigParser(p.Name, a.Factory, a.Parser)
	}
}

func main() {}
