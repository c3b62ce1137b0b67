package dataplane

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	commonfaultv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/common/fault/v3"
	faultv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/fault/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/anypb"
)

const faultType = "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault"

// faultAbortBody is what Envoy's fault filter answers an abort with.
const faultAbortBody = "fault filter abort"

// faultFilterDef is Envoy's fault filter: a listener-level HTTPFault with
// no fault of its own (Gluon's), and faults per route.
func faultFilterDef() httpFilterDef {
	return httpFilterDef{
		name: wellknown.Fault, typeURL: faultType,
		compile: func(name string, cfg *anypb.Any) (httpFilter, error) {
			if err := emptyListenerConfig(cfg, &faultv3.HTTPFault{}, "faults are configured per route"); err != nil {
				return nil, err
			}
			return &faultFilter{name: name}, nil
		},
		perRouteType:    faultType,
		compilePerRoute: compileFault,
	}
}

// faultConfig is a compiled per-route HTTPFault.
type faultConfig struct {
	delay       time.Duration
	delayShare  percent
	abortStatus int
	abortShare  percent
}

func compileFault(a *anypb.Any) (any, error) {
	f := &faultv3.HTTPFault{}
	if err := decodeAny(a, f); err != nil {
		return nil, err
	}
	if err := onlyFields(f, "delay", "abort"); err != nil {
		return nil, err
	}
	c := &faultConfig{}
	if d := f.GetDelay(); d != nil {
		if err := onlyFields(d, "fixed_delay", "percentage"); err != nil {
			return nil, fmt.Errorf("delay: %w", err)
		}
		fixed, ok := d.GetFaultDelaySecifier().(*commonfaultv3.FaultDelay_FixedDelay)
		if !ok {
			return nil, errors.New("delay: only fixed_delay is supported")
		}
		var err error
		if c.delay, err = duration(fixed.FixedDelay); err != nil {
			return nil, fmt.Errorf("delay: %w", err)
		}
		if c.delayShare, err = fractionalPercent(d.GetPercentage()); err != nil {
			return nil, fmt.Errorf("delay: %w", err)
		}
	}
	if ab := f.GetAbort(); ab != nil {
		if err := onlyFields(ab, "http_status", "percentage"); err != nil {
			return nil, fmt.Errorf("abort: %w", err)
		}
		c.abortStatus = int(ab.GetHttpStatus())
		if c.abortStatus < 200 || c.abortStatus > 599 {
			return nil, fmt.Errorf("abort: http_status %d is not in [200, 600)", c.abortStatus)
		}
		var err error
		if c.abortShare, err = fractionalPercent(ab.GetPercentage()); err != nil {
			return nil, fmt.Errorf("abort: %w", err)
		}
	}
	return c, nil
}

// fractionalPercent reads a FractionalPercent; absent is Envoy's 100%.
func fractionalPercent(fp *typev3.FractionalPercent) (percent, error) {
	if fp == nil {
		return percent{num: 1, den: 1}, nil
	}
	return fraction(fp)
}

// faultFilter is envoy.filters.http.fault on one listener.
type faultFilter struct{ name string }

func (f *faultFilter) withRoutes(rt *routeTable) (middleware, error) {
	faults, err := nativeRouteConfigs[*faultConfig](rt, f.name, "HTTPFault")
	if err != nil {
		return nil, err
	}
	return func(next handler, _ map[string]*upstreamCluster) handler {
		return func(w http.ResponseWriter, r *http.Request, m *routeMatch) {
			var fc *faultConfig
			if m.route != nil {
				fc = faults[m.route.idx]
			}
			if fc == nil {
				next(w, r, m)
				return
			}
			if fc.delay > 0 && fc.delayShare.sample() {
				t := time.NewTimer(fc.delay)
				select {
				case <-t.C:
				case <-r.Context().Done():
					t.Stop()
					return // the client went away while the request was held
				}
			}
			if fc.abortStatus != 0 && fc.abortShare.sample() {
				m.flags = "FI"
				localReply(w, fc.abortStatus, faultAbortBody)
				return
			}
			next(w, r, m)
		}
	}, nil
}
