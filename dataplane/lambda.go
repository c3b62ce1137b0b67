package dataplane

import (
	"github.com/gluon-gateway/gluon/envoy-filters/lambda"
)

// lambdaFilter runs the gluon.aws_lambda plugin on one listener.
type lambdaFilter struct{ f *lambda.Filter }

func newLambdaFilter(configJSON []byte) (httpFilter, error) {
	f, err := lambda.NewFilter(configJSON)
	if err != nil {
		return nil, err
	}
	return lambdaFilter{f}, nil
}

func (lf lambdaFilter) withRoutes(rt *routeTable) (middleware, error) {
	return pluginMiddleware(rt, lambda.PluginName, lf.f.CompileRoute, func(r *lambda.Route) pluginStream { return &lambdaStream{Stream: r.NewStream()} })
}
