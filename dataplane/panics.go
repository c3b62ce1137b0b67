package dataplane

import (
	"io"
	"log/slog"
	"runtime/debug"
	"sync/atomic"
)

// panicGuard ends a goroutine that panicked instead of the process: a bug
// met by one connection (or one request's helper goroutine) must cost that
// connection only. Panics are logged with their stack and counted.
type panicGuard struct {
	log   *slog.Logger
	count *atomic.Uint64
}

// recover is deferred directly by the goroutine it guards; what names it
// in the log, and closing (when not nil) is closed: a connection whose
// goroutine ended must not be left open.
func (g panicGuard) recover(what string, closing io.Closer, attrs ...any) {
	p := recover()
	if p == nil {
		return
	}
	if closing != nil {
		_ = closing.Close()
	}
	g.count.Add(1)
	g.log.Error("recovered a panic; only this "+what+" ended", append(attrs, "panic", p, "stack", string(debug.Stack()))...)
}
