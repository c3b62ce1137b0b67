package translator

import (
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/gluon-gateway/gluon/xds/ir"
)

// webSocketUpgrade is Envoy's upgrade type for WebSockets.
const webSocketUpgrade = "websocket"

// listenerUpgrades lets WebSocket upgrades through a listener unless it
// turns them off; routes may say otherwise.
func listenerUpgrades(l *ir.Listener) []*hcmv3.HttpConnectionManager_UpgradeConfig {
	if l.NoWebSockets {
		return nil
	}
	return []*hcmv3.HttpConnectionManager_UpgradeConfig{{UpgradeType: webSocketUpgrade}}
}

// webSocketsFeature sets a route's own WebSocket setting and idle timeout.
var webSocketsFeature = feature{
	name: "websockets",
	route: func(out *routev3.Route, r *ir.Route, _ *ir.VirtualHost) error {
		action := out.GetRoute()
		if action == nil {
			return nil
		}
		if r.WebSockets != nil {
			action.UpgradeConfigs = []*routev3.RouteAction_UpgradeConfig{{UpgradeType: webSocketUpgrade, Enabled: wrapperspb.Bool(*r.WebSockets)}}
		}
		action.IdleTimeout = optDuration(r.IdleTimeout)
		return nil
	},
}
