//go:build !linux

package dataplane

import "net"

// newRawSocket returns conn: raw socket calls are made on Linux only.
func newRawSocket(conn net.Conn) net.Conn { return conn }
