package h1

import (
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"unsafe"
)

// rawSocket is a TCP connection whose reads and writes are made with raw
// system calls under the runtime's poller. Its sockets are non-blocking, so
// read and write return at once (EAGAIN when they would block, and then
// the poller waits); the runtime's bookkeeping for calls that may block
// (entersyscall, which also wakes the sysmon thread, whose retakes and
// short sleeps then cost more than the proxying) buys nothing here. On a
// proxy that makes two reads and two writes per request, it is a tenth of
// the CPU time.
type rawSocket struct {
	net.Conn
	rc syscall.RawConn

	rmu    sync.Mutex // one Read at a time: the fields below are its
	rbuf   []byte
	rn     int
	rerr   error
	readFn func(fd uintptr) bool

	wmu     sync.Mutex
	wbuf    []byte
	wn      int
	werr    error
	writeFn func(fd uintptr) bool

	awaitFn func(fd uintptr) bool // see WriteAwaitingRead
	waited  bool
}

// NewRawSocket wraps conn, or returns it as is when it is not a socket.
func NewRawSocket(conn net.Conn) net.Conn {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return conn
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return conn
	}
	s := &rawSocket{Conn: conn, rc: rc}
	s.readFn, s.writeFn, s.awaitFn = s.read, s.write, s.writeThenWait
	return s
}

func (s *rawSocket) SyscallConn() (syscall.RawConn, error) { return s.rc, nil }

// CloseWrite shuts down the sending side, as the wrapped connection does.
func (s *rawSocket) CloseWrite() error {
	if cw, ok := s.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

func (s *rawSocket) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.rmu.Lock()
	defer s.rmu.Unlock()
	s.rbuf, s.rn, s.rerr = p, 0, nil
	if err := s.rc.Read(s.readFn); err != nil {
		return 0, err // closed, or a deadline passed
	}
	s.rbuf = nil
	return s.rn, s.rerr
}

// read is the poller's callback: false asks it to wait for readability.
func (s *rawSocket) read(fd uintptr) bool {
	for {
		n, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&s.rbuf[0])), uintptr(len(s.rbuf)))
		switch {
		case e == syscall.EINTR:
			continue
		case e == syscall.EAGAIN:
			return false
		case e != 0:
			// A failed read returns -1: the count is 0, never negative.
			s.rn, s.rerr = 0, &net.OpError{Op: "read", Net: "tcp", Source: s.LocalAddr(), Addr: s.RemoteAddr(), Err: e}
			return true
		case n == 0:
			s.rerr = io.EOF
		}
		s.rn = int(n)
		return true
	}
}

func (s *rawSocket) Write(p []byte) (int, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.wbuf, s.wn, s.werr = p, 0, nil
	return s.writeRest()
}

// writeRest writes what is left of wbuf, waiting for writability as needed.
func (s *rawSocket) writeRest() (int, error) {
	err := s.rc.Write(s.writeFn)
	s.wbuf = nil
	if err == nil {
		err = s.werr
	}
	return s.wn, err
}

// WriteAwaitingRead writes p and then, when nothing is left to write,
// waits until the socket is readable or its read deadline passes, so that
// the Read that follows finds data. It is for a message whose answer is all
// that can arrive next: a plain Write followed by Read costs a read that
// fails with EAGAIN before the poller waits, a system call per exchange.
// The wait starts by forgetting readiness the poller saw before (the
// runtime resets it first), so bytes that were already waiting and unread
// are not noticed until the deadline; the caller must know there are none.
// An error of the wait itself is left to that Read to meet again.
func (s *rawSocket) WriteAwaitingRead(p []byte) (int, error) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.wbuf, s.wn, s.werr, s.waited = p, 0, nil, false
	_ = s.rc.Read(s.awaitFn)
	if s.werr != nil || s.wn == len(p) {
		s.wbuf = nil
		return s.wn, s.werr
	}
	// The socket buffer filled, or the wait could not start (a deadline
	// already passed): the rest is an ordinary write.
	return s.writeRest()
}

// writeThenWait is the read poller's callback for WriteAwaitingRead: its
// first call writes, and returns false to wait for readability unless the
// write is incomplete; the call after the wait ends it.
func (s *rawSocket) writeThenWait(fd uintptr) bool {
	if s.waited {
		return true
	}
	s.waited = true
	return !s.write(fd) || s.werr != nil
}

// write is the poller's callback: it writes all of wbuf, and asks the poller
// to wait for writability whenever the socket buffer is full.
func (s *rawSocket) write(fd uintptr) bool {
	for s.wn < len(s.wbuf) {
		rest := s.wbuf[s.wn:]
		n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&rest[0])), uintptr(len(rest)))
		switch {
		case e == syscall.EINTR:
			continue
		case e == syscall.EAGAIN:
			return false
		case e != 0:
			s.werr = &net.OpError{Op: "write", Net: "tcp", Source: s.LocalAddr(), Addr: s.RemoteAddr(), Err: e}
			return true
		}
		s.wn += int(n)
	}
	return true
}
