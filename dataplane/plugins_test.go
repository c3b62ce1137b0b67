package dataplane

import (
	"testing"

	"github.com/gluon-gateway/gluon/envoy-filters/wire"
)

// TestEveryPluginRunsNatively: the data plane runs each plugin of
// wire.Plugins, the list the Envoy library registers too.
func TestEveryPluginRunsNatively(t *testing.T) {
	for _, p := range knownGoPlugins() {
		if p.newFilter == nil {
			t.Errorf("plugin %s has no native filter", p.name)
		}
	}
	if len(goPluginFilters) != len(wire.Plugins()) {
		t.Errorf("%d native filters for %d plugins", len(goPluginFilters), len(wire.Plugins()))
	}
}
