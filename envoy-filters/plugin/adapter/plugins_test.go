package adapter

import (
	"testing"

	"github.com/gluon-gateway/gluon/envoy-filters/wire"
)

// TestEveryPluginHasAnAdapter: the library registers wire.Plugins, and
// would refuse to load with one missing.
func TestEveryPluginHasAnAdapter(t *testing.T) {
	for _, p := range wire.Plugins() {
		if _, ok := Plugins[p.Name]; !ok {
			t.Errorf("plugin %s has no Envoy adapter", p.Name)
		}
	}
	if len(Plugins) != len(wire.Plugins()) {
		t.Errorf("%d adapters for %d plugins", len(Plugins), len(wire.Plugins()))
	}
}
