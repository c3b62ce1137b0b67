//go:build unix

package h1

import (
	"errors"
	"net"
	"syscall"
)

// Peek looks at a connection's receive queue without taking from it or
// blocking: one system call, and no read lock, so a body read in progress
// does not delay it.
func Peek(conn net.Conn) PeekState {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return PeekUnknown
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return PeekClosed
	}
	state := PeekUnknown
	var b [1]byte
	err = rc.Control(func(fd uintptr) {
		n, _, rerr := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case n > 0:
			state = PeekData
		case errors.Is(rerr, syscall.EAGAIN):
			state = PeekEmpty
		default: // end of stream, or an error such as a reset
			state = PeekClosed
		}
	})
	if err != nil {
		return PeekClosed
	}
	return state
}
