package gateway

import (
	"fmt"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/envoy-filters/accessformat"
	"github.com/gluon-gateway/gluon/xds/ir"
)

// accessLogs are a gateway's access logs, their formats checked: an
// operator Gluon does not know rejects the gateway (the problem says which).
func accessLogs(g *api.Gateway) ([]ir.AccessLog, *api.Problem) {
	o := g.Spec.Options
	if o == nil || o.AccessLoggingService == nil {
		return nil, nil
	}
	var out []ir.AccessLog
	for i, l := range o.AccessLoggingService.AccessLog {
		s := l.FileSink
		var err error
		if len(s.JSONFormat) > 0 {
			_, err = accessformat.ParseJSON(s.JSONFormat)
		} else if s.StringFormat != "" {
			_, err = accessformat.ParseText(s.StringFormat)
		}
		if err != nil {
			return nil, &api.Problem{Code: api.InvalidField, Path: fmt.Sprintf("spec.options.accessLoggingService.accessLog[%d].fileSink", i),
				Message: "access log format: " + err.Error()}
		}
		out = append(out, ir.AccessLog{Path: s.Path, Text: s.StringFormat, JSON: s.JSONFormat})
	}
	return out, nil
}
