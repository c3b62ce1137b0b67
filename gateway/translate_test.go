package gateway

import (
	"testing"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/xds/ir/golden"
	"github.com/gluon-gateway/gluon/xds/translator"
)

// TestGolden runs stage 1 on resources and, as a check that stage 1 only
// builds IR that stage 2 accepts, stage 2 on each proxy.
func TestGolden(t *testing.T) {
	golden.Run(t, func(t *testing.T, in []byte) any {
		var res api.Resources
		var decodeErrors []string
		for _, d := range api.DecodeAll(in) {
			if d.Err != nil {
				decodeErrors = append(decodeErrors, d.Err.Error())
				continue
			}
			res.Add(d.Object)
		}
		res.Sort()
		out := Translate(res)
		for _, p := range out.Proxies {
			if _, err := translator.Translate(p); err != nil {
				t.Errorf("stage 2 refused stage 1's proxy: %v", err)
			}
		}
		return map[string]any{"decodeErrors": decodeErrors, "proxies": out.Proxies, "reports": out.Reports.List()}
	})
}
