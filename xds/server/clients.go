package server

import (
	"context"
	"maps"
	"sort"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
)

// Client is one connected xDS stream and what it said about each type.
type Client struct {
	NodeID      string                `json:"nodeId"`
	Proxy       string                `json:"proxy"`
	ConnectedAt time.Time             `json:"connectedAt"`
	Types       map[string]TypeStatus `json:"types"`
}

// TypeStatus is the last version a client acknowledged for a type, and its
// last rejection if it rejected what it was sent after that.
type TypeStatus struct {
	AckedVersion string `json:"ackedVersion,omitempty"`
	Nack         string `json:"nack,omitempty"`
}

// clients tracks streams through go-control-plane's callbacks.
type clients struct {
	mu      sync.Mutex
	streams map[int64]*Client
	answers map[string]Answers // by type URL, since the server started
}

// Answers count the ACKs and NACKs clients sent for a type.
type Answers struct{ ACKs, NACKs uint64 }

func newClients() *clients {
	return &clients{streams: map[int64]*Client{}, answers: map[string]Answers{}}
}

// callbacks track every stream; with auth, each stream is also held to
// the proxies its client certificate names.
func (c *clients) callbacks(auth *nodeAuth) serverv3.CallbackFuncs {
	open := func(context.Context, int64, string) error { return nil }
	check := func(int64, *corev3.Node) error { return nil }
	closed := c.closed
	if auth != nil {
		open = func(ctx context.Context, id int64, _ string) error { return auth.open(ctx, id) }
		check = func(id int64, n *corev3.Node) error { return auth.check(id, ProxyOf(n)) }
		closed = func(id int64) { c.closed(id); auth.closed(id) }
	}
	return serverv3.CallbackFuncs{
		StreamOpenFunc:        open,
		StreamClosedFunc:      func(id int64, _ *corev3.Node) { closed(id) },
		DeltaStreamOpenFunc:   open,
		DeltaStreamClosedFunc: func(id int64, _ *corev3.Node) { closed(id) },
		StreamRequestFunc: func(id int64, r *discoveryv3.DiscoveryRequest) error {
			if err := check(id, r.GetNode()); err != nil {
				return err
			}
			c.request(id, r.GetNode(), r.GetTypeUrl(), r.GetResponseNonce(), r.GetVersionInfo(), r.GetErrorDetail().GetMessage())
			return nil
		},
		StreamDeltaRequestFunc: func(id int64, r *discoveryv3.DeltaDiscoveryRequest) error {
			if err := check(id, r.GetNode()); err != nil {
				return err
			}
			// Delta requests carry no version; an ACK is a nonce without error.
			c.request(id, r.GetNode(), r.GetTypeUrl(), r.GetResponseNonce(), r.GetResponseNonce(), r.GetErrorDetail().GetMessage())
			return nil
		},
	}
}

func (c *clients) request(id int64, node *corev3.Node, typeURL, nonce, version, nack string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cl, ok := c.streams[id]
	if !ok {
		cl = &Client{ConnectedAt: time.Now().UTC(), Types: map[string]TypeStatus{}}
		c.streams[id] = cl
	}
	if node != nil {
		cl.NodeID, cl.Proxy = node.GetId(), ProxyOf(node)
	}
	if nonce == "" {
		return // a subscription, not an answer to a response
	}
	st, n := cl.Types[typeURL], c.answers[typeURL]
	if nack != "" {
		st.Nack = nack
		n.NACKs++
	} else {
		st.AckedVersion, st.Nack = version, ""
		n.ACKs++
	}
	cl.Types[typeURL], c.answers[typeURL] = st, n
}

// answerCounts returns the ACKs and NACKs counted so far, by type URL.
func (c *clients) answerCounts() map[string]Answers {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.answers)
}

func (c *clients) closed(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.streams, id)
}

func (c *clients) list() []Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Client, 0, len(c.streams))
	for _, cl := range c.streams {
		cp := *cl
		cp.Types = map[string]TypeStatus{}
		for k, v := range cl.Types {
			cp.Types[k] = v
		}
		out = append(out, cp)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Proxy != out[j].Proxy {
			return out[i].Proxy < out[j].Proxy
		}
		return out[i].NodeID < out[j].NodeID
	})
	return out
}
