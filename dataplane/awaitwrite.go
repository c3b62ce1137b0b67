package dataplane

import "net"

// awaitingWriter is a connection as a bufio.Writer writes to it, with the
// option to have the write that ends a message also wait until the answer
// starts arriving (see rawSocket.WriteAwaitingRead). That spares the read
// that would otherwise find nothing yet: a system call per exchange.
type awaitingWriter struct {
	conn  net.Conn
	wrote bool // since the writer was last set up
	await bool // the next write ends a message; only its answer can come next
}

// readAwaiter is a connection that can write and then wait for readability.
type readAwaiter interface {
	WriteAwaitingRead(p []byte) (int, error)
}

func (w *awaitingWriter) Write(p []byte) (int, error) {
	w.wrote = true
	if w.await {
		w.await = false
		if a, ok := w.conn.(readAwaiter); ok {
			return a.WriteAwaitingRead(p)
		}
	}
	return w.conn.Write(p)
}
