package dataplane

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"time"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
)

const (
	minReconnectBackoff = 100 * time.Millisecond
	maxReconnectBackoff = time.Second
	// A rejected version is re-sent by go-control-plane at once; repeated
	// NACKs of the same version are delayed up to this to avoid a hot loop.
	maxNACKDelay = time.Second
)

// typeOrder is the order in which Envoy (re)subscribes on a new stream.
var typeOrder = []string{resourcev3.ClusterType, resourcev3.EndpointType, resourcev3.ListenerType, resourcev3.RouteType, resourcev3.SecretType}

// subscription is the SotW protocol state of one resource type.
type subscription struct {
	typeURL  string
	wildcard bool     // CDS and LDS
	names    []string // EDS and RDS resource names
	version  string   // last accepted version; survives reconnects
	nonce    string   // last nonce received on the current stream
	sent     bool     // subscribed on the current stream

	nackVersion string
	nackDelay   time.Duration
}

func (s *subscription) request() *discovery.DiscoveryRequest {
	return &discovery.DiscoveryRequest{
		TypeUrl:       s.typeURL,
		VersionInfo:   s.version,
		ResponseNonce: s.nonce,
		ResourceNames: s.names,
	}
}

// outgoing is a request to send, possibly after a delay.
type outgoing struct {
	req   *discovery.DiscoveryRequest
	delay time.Duration
}

// xdsClient speaks ADS State-of-the-World like Envoy: wildcard CDS and LDS,
// EDS and RDS for the names those reference, an ACK or NACK per response.
type xdsClient struct {
	d    *DataPlane
	node *core.Node
	subs map[string]*subscription
}

func newXDSClient(d *DataPlane, node *core.Node) *xdsClient {
	c := &xdsClient{d: d, node: node, subs: map[string]*subscription{}}
	for _, t := range typeOrder {
		c.subs[t] = &subscription{typeURL: t, wildcard: t == resourcev3.ClusterType || t == resourcev3.ListenerType}
	}
	return c
}

// run keeps an ADS stream open until ctx is done, reconnecting with a
// jittered back-off capped at maxReconnectBackoff.
func (c *xdsClient) run(ctx context.Context, conn *grpc.ClientConn) {
	backoff := minReconnectBackoff
	for {
		received, err := c.stream(ctx, conn)
		if ctx.Err() != nil {
			return
		}
		c.d.setConnected(false)
		c.d.log.Warn("xds stream ended; keeping the last config", "error", err)
		if received {
			backoff = minReconnectBackoff
		}
		if !sleepCtx(ctx, backoff/2+rand.N(backoff/2)) {
			return
		}
		backoff = min(2*backoff, maxReconnectBackoff)
	}
}

// stream runs one ADS stream; received reports whether any response arrived.
func (c *xdsClient) stream(ctx context.Context, conn *grpc.ClientConn) (received bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := discovery.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		return false, err
	}
	nodeSent := false
	send := func(req *discovery.DiscoveryRequest) error {
		if !nodeSent {
			req.Node, nodeSent = c.node, true
		}
		return st.Send(req)
	}
	// Resubscribe with the last accepted versions and names, as Envoy does.
	for _, t := range typeOrder {
		s := c.subs[t]
		s.nonce, s.sent = "", false
		if s.wildcard || len(s.names) > 0 {
			s.sent = true
			if err := send(s.request()); err != nil {
				return false, err
			}
		}
	}

	responses := make(chan *discovery.DiscoveryResponse)
	recvErr := make(chan error, 1)
	go func() {
		for {
			resp, err := st.Recv()
			if err != nil {
				recvErr <- err
				return
			}
			select {
			case responses <- resp:
			case <-ctx.Done():
				return
			}
		}
	}()
	delayed := make(chan *discovery.DiscoveryRequest)
	for {
		select {
		case <-ctx.Done():
			return received, ctx.Err()
		case err := <-recvErr:
			return received, err
		case req := <-delayed:
			if err := send(req); err != nil {
				return received, err
			}
		case resp := <-responses:
			if !received {
				received = true
				c.d.setConnected(true)
			}
			for _, o := range c.handle(resp) {
				if o.delay == 0 {
					if err := send(o.req); err != nil {
						return received, err
					}
					continue
				}
				time.AfterFunc(o.delay, func() {
					select {
					case delayed <- o.req:
					case <-ctx.Done():
					}
				})
			}
		}
	}
}

// handle applies one response and returns the requests to send: the ACK or
// NACK, then any subscription change it causes (EDS after CDS, RDS after LDS).
func (c *xdsClient) handle(resp *discovery.DiscoveryResponse) []outgoing {
	s := c.subs[resp.GetTypeUrl()]
	if s == nil {
		c.d.log.Warn("ignoring xds response of unexpected type", "type", resp.GetTypeUrl())
		return nil
	}
	s.nonce = resp.GetNonce()
	complete, err := c.d.state.apply(resp.GetTypeUrl(), resp.GetResources())
	var out []outgoing
	if err != nil {
		out = []outgoing{c.nack(s, resp.GetVersionInfo(), err)}
		if !errors.As(err, new(*partialUpdateError)) {
			return out
		}
		// The rest of the update serves: follow it with subscriptions.
		c.d.recordPartial(complete)
	} else {
		s.version, s.nackVersion, s.nackDelay = resp.GetVersionInfo(), "", 0
		c.d.recordAccept(s.typeURL, s.version, complete)
		out = []outgoing{{req: s.request()}}
	}
	switch s.typeURL {
	case resourcev3.ClusterType:
		out = c.resubscribe(out, c.subs[resourcev3.EndpointType], c.d.state.edsNames())
	case resourcev3.ListenerType:
		out = c.resubscribe(out, c.subs[resourcev3.RouteType], c.d.state.rdsNames())
		out = c.resubscribe(out, c.subs[resourcev3.SecretType], c.d.state.sdsNames())
	}
	return out
}

// nack rejects version of s, repeated NACKs of one version coming slower:
// go-control-plane sends a rejected version again at once (which retries a
// listener whose port was taken, say).
func (c *xdsClient) nack(s *subscription, version string, err error) outgoing {
	if s.nackVersion == version {
		s.nackDelay = min(max(2*s.nackDelay, maxNACKDelay/10), maxNACKDelay)
	} else {
		s.nackVersion, s.nackDelay = version, 0
	}
	c.d.recordNACK(s.typeURL, version, err)
	req := s.request() // version_info stays the last accepted one
	req.ErrorDetail = &status.Status{Code: int32(codes.InvalidArgument), Message: err.Error()}
	return outgoing{req: req, delay: s.nackDelay}
}

// resubscribe requests names for s when they changed.
func (c *xdsClient) resubscribe(out []outgoing, s *subscription, names []string) []outgoing {
	if slices.Equal(s.names, names) && (s.sent || len(names) == 0) {
		return out
	}
	s.names, s.sent = names, true
	return append(out, outgoing{req: s.request()})
}
