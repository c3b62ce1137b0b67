package upstream

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
)

// countedConn is a connection that an open-connections gauge counts (Envoy's
// upstream_cx_active): up when dialed, down on its first Close.
type countedConn struct {
	net.Conn
	open *atomic.Int64
	once sync.Once
}

// counted wraps conn so that open counts it; nil counts nothing.
func counted(conn net.Conn, open *atomic.Int64) net.Conn {
	if open == nil {
		return conn
	}
	open.Add(1)
	return &countedConn{Conn: conn, open: open}
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.open.Add(-1) })
	return c.Conn.Close()
}

// CloseWrite shuts down the sending side, as the wrapped connection does.
func (c *countedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// SyscallConn is the wrapped connection's: the raw socket reads and
// liveness peeks still reach the file descriptor.
func (c *countedConn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := c.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.ErrUnsupported
}
