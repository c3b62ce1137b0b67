package adapter

import (
	"github.com/envoyproxy/envoy/contrib/golang/common/go/api"

	"github.com/gluon-gateway/gluon/envoy-filters/azure"
	"github.com/gluon-gateway/gluon/envoy-filters/basicauth"
	"github.com/gluon-gateway/gluon/envoy-filters/clientheaders"
	"github.com/gluon-gateway/gluon/envoy-filters/lambda"
	"github.com/gluon-gateway/gluon/envoy-filters/mcp"
	"github.com/gluon-gateway/gluon/envoy-filters/transformation"
)

// Plugin is a Gluon filter as Envoy's golang filter registers it.
type Plugin struct {
	Factory api.StreamFilterFactory
	Parser  api.StreamFilterConfigParser
}

// Plugins are the Envoy adapters of Gluon's filters, by plugin name: one
// for every plugin of wire.Plugins (a test holds them equal).
var Plugins = map[string]Plugin{
	transformation.PluginName: {Factory: TransformationFactory, Parser: TransformationParser{}},
	lambda.PluginName:         {Factory: LambdaFactory, Parser: LambdaParser{}},
	azure.PluginName:          {Factory: AzureFactory, Parser: AzureParser{}},
	clientheaders.PluginName:  {Factory: ClientHeadersFactory, Parser: ClientHeadersParser},
	basicauth.PluginName:      {Factory: BasicAuthFactory, Parser: BasicAuthParser},
	mcp.PluginName:            {Factory: MCPFactory, Parser: MCPParser},
}
