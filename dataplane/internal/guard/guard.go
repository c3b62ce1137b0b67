// Package guard ends a goroutine that panicked instead of the process.
package guard

import (
	"io"
	"log/slog"
	"runtime/debug"
	"sync/atomic"
)

// Guard ends a goroutine that panicked instead of the process: a bug met
// by one connection (or one request's helper goroutine) must cost that
// connection only. Panics are logged with their stack and counted.
type Guard struct {
	Log   *slog.Logger
	Count *atomic.Uint64
}

// Recover is deferred directly by the goroutine it guards; what names it
// in the log, and closing (when not nil) is closed: a connection whose
// goroutine ended must not be left open.
func (g Guard) Recover(what string, closing io.Closer, attrs ...any) {
	p := recover()
	if p == nil {
		return
	}
	if closing != nil {
		_ = closing.Close()
	}
	g.Count.Add(1)
	g.Log.Error("recovered a panic; only this "+what+" ended", append(attrs, "panic", p, "stack", string(debug.Stack()))...)
}
