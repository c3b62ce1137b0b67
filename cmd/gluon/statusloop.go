package main

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/api/kubesource"
	"github.com/gluon-gateway/gluon/functions"
)

// statusLoop writes statuses off the translation path: only the latest
// verdicts matter, so a new offer replaces one not yet written.
type statusLoop struct {
	write  func(context.Context, statusOffer) error
	log    *slog.Logger
	latest chan statusOffer
	// offered counts offers, so that a retry never overtakes newer verdicts.
	offered atomic.Uint64
}

type statusOffer struct {
	seq        uint64
	reports    []api.Report
	fns        functions.Snapshot
	gatewayAPI api.GatewayAPIStatus
}

func newStatusLoop(write func(context.Context, statusOffer) error, log *slog.Logger) *statusLoop {
	return &statusLoop{write: write, log: log, latest: make(chan statusOffer, 1)}
}

// writeKubeStatus writes verdicts into the resources' status.
func writeKubeStatus(w *kubesource.StatusWriter) func(context.Context, statusOffer) error {
	return func(ctx context.Context, o statusOffer) error {
		return errors.Join(w.Write(ctx, o.reports, discoveredCounts(o.fns)), w.WriteGatewayAPI(ctx, o.gatewayAPI))
	}
}

func (s *statusLoop) offer(reports []api.Report, fns functions.Snapshot, gatewayAPI api.GatewayAPIStatus) {
	for {
		select {
		case s.latest <- statusOffer{s.offered.Add(1), reports, fns, gatewayAPI}:
			return
		default:
		}
		select { // drop the stale offer, then try again
		case <-s.latest:
		default:
		}
	}
}

// statusRetry is how long a failed write (a conflict, the API server
// away) waits before it is tried again, unless newer verdicts come first.
const statusRetry = time.Second

// run writes statuses until ctx ends; it runs on the leader. Verdicts
// offered while it does not run wait (the latest only) for the next run.
func (s *statusLoop) run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case o := <-s.latest:
			err := s.write(ctx, o)
			if err == nil {
				continue
			}
			s.log.Error("writing status; trying again", "err", err, "in", statusRetry)
			time.AfterFunc(statusRetry, func() { s.retry(o) })
		}
	}
}

// retry offers o again unless newer verdicts were offered since.
func (s *statusLoop) retry(o statusOffer) {
	if s.offered.Load() != o.seq {
		return
	}
	select {
	case s.latest <- o:
	default:
	}
}

func discoveredCounts(fns functions.Snapshot) map[api.ResourceRef]api.FunctionCount {
	out := map[api.ResourceRef]api.FunctionCount{}
	for ref, d := range fns {
		out[api.ResourceRef{Namespace: ref.Namespace, Name: ref.Name}] = api.FunctionCount{Functions: int32(len(d.Functions)), Source: d.Source}
	}
	return out
}
