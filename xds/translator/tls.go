package translator

import (
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/gluon-gateway/gluon/xds/ir"
)

func upstreamTLS(t *ir.TLS) (*corev3.TransportSocket, error) {
	cfg, err := anypb.New(&tlsv3.UpstreamTlsContext{Sni: t.SNI})
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	return &corev3.TransportSocket{Name: wellknown.TransportSocketTLS, ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: cfg}}, nil
}
