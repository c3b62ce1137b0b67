//go:build unix

package dataplane

import (
	"errors"
	"net"
	"syscall"
)

// peekConn looks at a connection's receive queue without taking from it or
// blocking: one system call, and no read lock, so a body read in progress
// does not delay it.
func peekConn(conn net.Conn) peekState {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return peekUnknown
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return peekClosed
	}
	state := peekUnknown
	var b [1]byte
	err = rc.Control(func(fd uintptr) {
		n, _, rerr := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case n > 0:
			state = peekData
		case errors.Is(rerr, syscall.EAGAIN):
			state = peekEmpty
		default: // end of stream, or an error such as a reset
			state = peekClosed
		}
	})
	if err != nil {
		return peekClosed
	}
	return state
}
