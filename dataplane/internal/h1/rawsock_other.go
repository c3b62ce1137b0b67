//go:build !linux

package h1

import "net"

// NewRawSocket returns conn: raw socket calls are made on Linux only.
func NewRawSocket(conn net.Conn) net.Conn { return conn }
