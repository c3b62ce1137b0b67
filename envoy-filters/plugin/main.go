//go:build cgo

// Command plugin is the shared library (go build -buildmode=c-shared) that
// Envoy's golang HTTP filter loads: it registers every Gluon filter with
// Envoy's Go filter API. Envoy runs a c-shared library's init functions,
// never its main, so registration happens in init.
package main

import (
	"github.com/envoyproxy/envoy/contrib/golang/filters/http/source/go/pkg/http"

	"github.com/gluon-gateway/gluon/envoy-filters/azure"
	"github.com/gluon-gateway/gluon/envoy-filters/lambda"
	"github.com/gluon-gateway/gluon/envoy-filters/plugin/adapter"
	"github.com/gluon-gateway/gluon/envoy-filters/transformation"
)

func init() {
	http.RegisterHttpFilterFactoryAndConfigParser(transformation.PluginName, adapter.TransformationFactory, adapter.TransformationParser{})
	http.RegisterHttpFilterFactoryAndConfigParser(lambda.PluginName, adapter.LambdaFactory, adapter.LambdaParser{})
	http.RegisterHttpFilterFactoryAndConfigParser(azure.PluginName, adapter.AzureFactory, adapter.AzureParser{})
}

func main() {}
