//go:build unix

package dataplane

import (
	"errors"
	"syscall"
)

// alive reports whether an idle connection is still usable: the endpoint has
// neither closed it nor sent anything unasked. It peeks without blocking, one
// system call, and is used only before requests that could not be sent again
// should the connection turn out to be closed.
func (c *h1Conn) alive() bool {
	sc, ok := c.conn.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	alive := false
	var b [1]byte
	err = rc.Read(func(fd uintptr) bool {
		_, _, rerr := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		alive = errors.Is(rerr, syscall.EAGAIN)
		return true
	})
	return err == nil && alive
}
