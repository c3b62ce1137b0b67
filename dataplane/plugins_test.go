package dataplane

import (
	"github.com/gluon-gateway/gluon/envoy-filters/mcp"
	"testing"

	"github.com/gluon-gateway/gluon/envoy-filters/wire"
)

// TestEveryPluginRunsNatively: the data plane runs each plugin of
// wire.Plugins, the list the Envoy library registers too.
func TestEveryPluginRunsNatively(t *testing.T) {
	for _, p := range knownGoPlugins(mcp.NewSessions()) {
		if p.newFilter == nil {
			t.Errorf("plugin %s has no native filter", p.name)
		}
	}
	if len(goPluginFilters(nil)) != len(wire.Plugins()) {
		t.Errorf("%d native filters for %d plugins", len(goPluginFilters(nil)), len(wire.Plugins()))
	}
}
