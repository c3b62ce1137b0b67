package h1

import "net"

// AwaitingWriter is a connection as a bufio.Writer writes to it, with the
// option to have the write that ends a message also wait until the answer
// starts arriving (see rawSocket.WriteAwaitingRead). That spares the read
// that would otherwise find nothing yet: a system call per exchange.
type AwaitingWriter struct {
	Conn  net.Conn
	Wrote bool // since the writer was last set up
	Await bool // the next write ends a message; only its answer can come next
}

// ReadAwaiter is a connection that can write and then wait for readability.
type ReadAwaiter interface {
	WriteAwaitingRead(p []byte) (int, error)
}

func (w *AwaitingWriter) Write(p []byte) (int, error) {
	w.Wrote = true
	if w.Await {
		w.Await = false
		if a, ok := w.Conn.(ReadAwaiter); ok {
			return a.WriteAwaitingRead(p)
		}
	}
	return w.Conn.Write(p)
}
