package translator

import (
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
)

// slab hands out pointers into chunks of Ts. A push builds a few small
// messages for each of thousands of routes; one allocation per message was
// most of stage 2's time, spent in the allocator and the collector. A chunk
// stays alive while any message in it does, which costs nothing here: the
// messages of one push live and die together, with its snapshot.
type slab[T any] struct {
	free []T
	size int
}

const (
	firstSlabChunk = 8
	maxSlabChunk   = 256
)

func (s *slab[T]) next() *T {
	if len(s.free) == 0 {
		// Chunks grow so a small config wastes little, a large one
		// allocates seldom.
		s.size = min(max(2*s.size, firstSlabChunk), maxSlabChunk)
		s.free = make([]T, s.size)
	}
	p := &s.free[0]
	s.free = s.free[1:]
	return p
}

// routeMessages are the slabs of the messages every route has.
type routeMessages struct {
	routes   slab[routev3.Route]
	matches  slab[routev3.RouteMatch]
	prefixes slab[routev3.RouteMatch_Prefix]
	forwards slab[routev3.Route_Route]
	actions  slab[routev3.RouteAction]
	clusters slab[routev3.RouteAction_Cluster]
}
