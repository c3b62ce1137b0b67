package dataplane

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"

	bufferv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/buffer/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/anypb"
)

const (
	bufferType         = "type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer"
	bufferPerRouteType = "type.googleapis.com/envoy.extensions.filters.http.buffer.v3.BufferPerRoute"
	// payloadTooLarge is Envoy's local reply to a body over a buffer limit.
	payloadTooLarge = "Payload Too Large"
)

// bufferFilterDef is Envoy's buffer filter: the whole request body is read
// before the request goes on, up to max_request_bytes (413 past it), and
// that is the limit of every filter after it that buffers the body.
func bufferFilterDef() httpFilterDef {
	return httpFilterDef{
		name: wellknown.Buffer, typeURL: bufferType, disableable: true,
		compile: func(name string, cfg *anypb.Any) (httpFilter, error) {
			b := &bufferv3.Buffer{}
			if err := decodeAny(cfg, b); err != nil {
				return nil, err
			}
			max, err := compileBufferLimit(b)
			if err != nil {
				return nil, err
			}
			return &bufferFilter{name: name, max: max}, nil
		},
		perRouteType:    bufferPerRouteType,
		compilePerRoute: compileBufferPerRoute,
	}
}

func compileBufferLimit(b *bufferv3.Buffer) (int, error) {
	if err := onlyFields(b, "max_request_bytes"); err != nil {
		return 0, err
	}
	if b.GetMaxRequestBytes().GetValue() == 0 {
		return 0, errors.New("max_request_bytes must be positive")
	}
	return int(b.GetMaxRequestBytes().GetValue()), nil
}

// bufferRoute is a compiled BufferPerRoute: off, or on with its own limit.
type bufferRoute struct {
	disabled bool
	max      int
}

func compileBufferPerRoute(a *anypb.Any) (any, error) {
	p := &bufferv3.BufferPerRoute{}
	if err := decodeAny(a, p); err != nil {
		return nil, err
	}
	if err := onlyFields(p, "disabled", "buffer"); err != nil {
		return nil, err
	}
	if p.GetDisabled() {
		return &bufferRoute{disabled: true}, nil
	}
	if p.GetBuffer() == nil {
		return nil, errors.New("BufferPerRoute sets neither disabled nor buffer")
	}
	max, err := compileBufferLimit(p.GetBuffer())
	if err != nil {
		return nil, err
	}
	return &bufferRoute{max: max}, nil
}

// bufferFilter is envoy.filters.http.buffer on one listener; off by default
// (HttpFilter.disabled) it buffers only routes whose config turns it on.
type bufferFilter struct {
	name     string
	max      int
	disabled bool
}

func (f *bufferFilter) disableByDefault() { f.disabled = true }

func (f *bufferFilter) withRoutes(rt *routeTable) (middleware, error) {
	routes, err := nativeRouteConfigs[*bufferRoute](rt, f.name, "BufferPerRoute")
	if err != nil {
		return nil, err
	}
	return func(next handler, _ map[string]*upstreamCluster) handler {
		return func(w http.ResponseWriter, r *http.Request, m *routeMatch) {
			limit := f.max
			if f.disabled {
				limit = 0
			}
			if m.route != nil {
				if br := routes[m.route.idx]; br != nil {
					limit = br.max // 0 when the route turns buffering off
				}
			}
			if limit == 0 {
				next(w, r, m)
				return
			}
			body, tooLarge, err := readBody(r, limit)
			switch {
			case err != nil:
				localReply(w, http.StatusBadRequest, "")
				return
			case tooLarge:
				localReply(w, http.StatusRequestEntityTooLarge, payloadTooLarge)
				return
			}
			// The whole body is here: it goes on with its length known.
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
			r.Header.Set("Content-Length", strconv.Itoa(len(body)))
			r.TransferEncoding = nil
			m.bufferLimit = limit
			next(w, r, m)
		}
	}, nil
}
