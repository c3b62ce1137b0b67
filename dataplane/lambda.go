package dataplane

import (
	"net/http"

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
	routes, err := compileRoutes(rt, lambda.PluginName, lf.f.CompileRoute)
	if err != nil {
		return nil, err
	}
	return func(next handler, _ map[string]*upstreamCluster) handler {
		return func(w http.ResponseWriter, r *http.Request, m *routeMatch) {
			if m.route == nil || routes[m.route.idx] == nil {
				next(w, r, m)
				return
			}
			runPlugin(lambdaStream{routes[m.route.idx].NewStream()}, next, w, r, m)
		}
	}, nil
}
