// Package ratelimit is Gluon's rate-limit service: Envoy's
// envoy.service.ratelimit.v3.RateLimitService over gRPC, with the config
// model, matching, counting and responses of envoyproxy/ratelimit, so that
// users can switch between the two without changing descriptors or limits.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	rlcommon "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	rlspb "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Options configure a Service; every field is optional.
type Options struct {
	Backend Backend          // counters; Memory() by default
	Clock   func() time.Time // time.Now by default; tests inject theirs
	Logger  *slog.Logger     // slog.Default() by default
}

// Service answers ShouldRateLimit from the limits of SetConfigs. It is safe
// for concurrent use; until SetConfigs is called every descriptor is OK.
type Service struct {
	rlspb.UnimplementedRateLimitServiceServer
	backend Backend
	clock   func() time.Time
	log     *slog.Logger
	domains atomic.Pointer[map[string]*node]
	counts  counts
}

// counts are the service's decisions and failures since it started.
type counts struct {
	ok, overLimit, invalid, backendErrors atomic.Uint64
}

// Counts are the service's answers since it started: OK and OVER_LIMIT
// decisions, requests refused as invalid, and calls that failed because
// the counters' backend (Redis) did.
type Counts struct {
	OK, OverLimit, Invalid, BackendErrors uint64
}

// Counts returns the service's answers so far.
func (s *Service) Counts() Counts {
	return Counts{OK: s.counts.ok.Load(), OverLimit: s.counts.overLimit.Load(),
		Invalid: s.counts.invalid.Load(), BackendErrors: s.counts.backendErrors.Load()}
}

// New returns a Service with no limits.
func New(o Options) *Service {
	s := &Service{backend: o.Backend, clock: o.Clock, log: o.Logger}
	if s.backend == nil {
		s.backend = Memory()
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// SetConfigs replaces every domain's limits at once. If any config is
// invalid nothing changes and every problem is reported: callers that want
// to reject one domain alone run Config.Validate first.
//
// Counters are keyed by domain, descriptor entries and window only, so
// they survive a reload: an unchanged limit keeps counting, and a limit
// whose number changed applies the new number to the same counter.
func (s *Service) SetConfigs(cfgs []Config) error {
	domains := make(map[string]*node, len(cfgs))
	var errs []error
	for i, c := range cfgs {
		if c.Domain == "" {
			errs = append(errs, fmt.Errorf("configs[%d]: domain is required", i))
			continue
		}
		if _, dup := domains[c.Domain]; dup {
			errs = append(errs, fmt.Errorf("configs[%d]: domain %q is defined twice", i, c.Domain))
			continue
		}
		root, err := compileDomain(c)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		domains[c.Domain] = root
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("rate limit configs rejected: %w", err)
	}
	s.domains.Store(&domains)
	s.log.Info("rate limit configs loaded", "domains", len(domains))
	return nil
}

// Register serves the Service on g.
func (s *Service) Register(g *grpc.Server) { rlspb.RegisterRateLimitServiceServer(g, s) }

// Close releases the backend's connections, if it has any.
func (s *Service) Close() error {
	if c, ok := s.backend.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// ShouldRateLimit counts the request's hits against every descriptor that
// matches a limit and answers OVER_LIMIT if any of them (not in shadow
// mode) went over. If the counters cannot be reached it fails with
// codes.Unavailable, so that Envoy applies its failure mode. Each answer
// is counted (Counts).
func (s *Service) ShouldRateLimit(ctx context.Context, req *rlspb.RateLimitRequest) (*rlspb.RateLimitResponse, error) {
	resp, err := s.decide(ctx, req)
	var unavail unavailable
	switch {
	case errors.As(err, &unavail):
		s.counts.backendErrors.Add(1)
	case err != nil:
		s.counts.invalid.Add(1)
	case resp.GetOverallCode() == rlspb.RateLimitResponse_OVER_LIMIT:
		s.counts.overLimit.Add(1)
	default:
		s.counts.ok.Add(1)
	}
	return resp, err
}

// decide is ShouldRateLimit's answer.
func (s *Service) decide(ctx context.Context, req *rlspb.RateLimitRequest) (*rlspb.RateLimitResponse, error) {
	if req.GetDomain() == "" {
		return nil, status.Error(codes.InvalidArgument, "rate limit domain must not be empty")
	}
	if len(req.GetDescriptors()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "rate limit descriptor list must not be empty")
	}
	var root *node
	if d := s.domains.Load(); d != nil {
		root = (*d)[req.Domain]
	}
	now := s.clock()
	unix := now.Unix()

	// First find every descriptor's limit and its counter, then count
	// them all in one backend call (one Redis round trip).
	limits := make([]*limit, len(req.Descriptors))
	slot := make([]int, len(req.Descriptors)) // index into hits, or -1
	hits := make([]Hit, 0, len(req.Descriptors))
	for i, d := range req.Descriptors {
		slot[i] = -1
		l, err := limitFor(root, d)
		if err != nil {
			return nil, status.Error(codes.InvalidArgument, fmt.Sprintf("descriptors[%d]: %v", i, err))
		}
		limits[i] = l
		if l == nil || l.unlimited {
			continue
		}
		start := unix / l.seconds * l.seconds
		slot[i] = len(hits)
		hits = append(hits, Hit{
			Key:    counterKey(req.Domain, d.Entries, start),
			N:      hitsAddend(req, d),
			Window: time.Duration(l.seconds) * time.Second,
			Expire: time.Unix(start+l.seconds, 0),
		})
	}
	var counts []uint64
	if len(hits) > 0 {
		var err error
		if counts, err = s.backend.Increment(ctx, now, hits); err != nil {
			return nil, unavailable{fmt.Errorf("rate limit counters: %w", err)}
		}
	}

	resp := &rlspb.RateLimitResponse{
		OverallCode: rlspb.RateLimitResponse_OK,
		Statuses:    make([]*rlspb.RateLimitResponse_DescriptorStatus, len(req.Descriptors)),
	}
	for i, l := range limits {
		st := &rlspb.RateLimitResponse_DescriptorStatus{Code: rlspb.RateLimitResponse_OK}
		resp.Statuses[i] = st
		switch {
		case l == nil:
			continue // no limit: OK, no CurrentLimit (as the reference)
		case l.unlimited:
			st.LimitRemaining = math.MaxUint32
			continue
		}
		st.CurrentLimit = l.proto
		st.DurationUntilReset = &durationpb.Duration{Seconds: l.seconds - unix%l.seconds}
		allowed := uint64(l.proto.RequestsPerUnit)
		if n := counts[slot[i]]; n <= allowed {
			st.LimitRemaining = uint32(allowed - n)
			continue
		}
		if !l.shadow { // shadow mode reports OK but still counts
			st.Code = rlspb.RateLimitResponse_OVER_LIMIT
			resp.OverallCode = rlspb.RateLimitResponse_OVER_LIMIT
		}
	}
	return resp, nil
}

// limitFor is the descriptor's limit: the one Envoy sent with it (an
// override, which the reference honours only for a known domain), else the
// config's.
func limitFor(root *node, d *rlcommon.RateLimitDescriptor) (*limit, error) {
	if root == nil {
		return nil, nil
	}
	if o := d.GetLimit(); o != nil {
		unit := rlspb.RateLimitResponse_RateLimit_Unit(o.GetUnit())
		if unitSeconds[unit] == 0 {
			return nil, fmt.Errorf("limit override has unknown unit %v", o.GetUnit())
		}
		return newLimit(o.GetRequestsPerUnit(), unit, false), nil
	}
	return root.lookup(d.GetEntries()), nil
}

// hitsAddend is the reference's: the descriptor's own hits_addend (0
// allowed, to check without counting), else the request's, at least 1.
func hitsAddend(req *rlspb.RateLimitRequest, d *rlcommon.RateLimitDescriptor) uint64 {
	if h := d.GetHitsAddend(); h != nil {
		return h.GetValue()
	}
	return max(1, uint64(req.GetHitsAddend()))
}

// counterKey is envoyproxy/ratelimit's cache key: domain_key_value_..._start.
// It names neither the limit nor a config version, so reloads keep counts.
func counterKey(domain string, entries []*rlcommon.RateLimitDescriptor_Entry, start int64) string {
	var b strings.Builder
	n := len(domain) + 21
	for _, e := range entries {
		n += len(e.GetKey()) + len(e.GetValue()) + 2
	}
	b.Grow(n)
	b.WriteString(domain)
	b.WriteByte('_')
	for _, e := range entries {
		b.WriteString(e.GetKey())
		b.WriteByte('_')
		b.WriteString(e.GetValue())
		b.WriteByte('_')
	}
	b.WriteString(strconv.FormatInt(start, 10))
	return b.String()
}

// unavailable carries a backend error to gRPC as codes.Unavailable while
// keeping it inspectable with errors.Is/As by in-process callers.
type unavailable struct{ err error }

func (u unavailable) Error() string { return u.err.Error() }
func (u unavailable) Unwrap() error { return u.err }
func (u unavailable) GRPCStatus() *status.Status {
	return status.New(codes.Unavailable, u.err.Error())
}
