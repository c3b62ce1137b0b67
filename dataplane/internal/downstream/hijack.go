package downstream

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"time"
)

// errNotSwitching refuses a hijack before a 101 response: only a protocol
// switch (a WebSocket upgrade) takes the connection over.
var errNotSwitching = errors.New("downstream: hijack needs a 101 Switching Protocols response first")

// Hijack hands the connection over once the handler wrote 101 Switching
// Protocols: the response head is sent, deadlines are cleared, and the
// returned reader yields first what the client sent after the request
// head. The connection is then the caller's to close; the server forgets it.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.status != http.StatusSwitchingProtocols {
		return nil, nil, errNotSwitching
	}
	w.flush()
	if w.err != nil {
		return nil, nil, w.err
	}
	c := w.c
	c.hijacked = true
	if err := c.conn.SetDeadline(time.Time{}); err != nil {
		return nil, nil, err
	}
	conn := &replayConn{Conn: c.conn, buffered: c.buffered()}
	return conn, bufio.NewReadWriter(bufio.NewReader(conn), bufio.NewWriter(conn)), nil
}
