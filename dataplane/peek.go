package dataplane

// peekState is what peekConn found waiting on a connection.
type peekState int

const (
	peekUnknown peekState = iota // the platform cannot tell
	peekEmpty                    // nothing yet; still open
	peekData                     // bytes to read
	peekClosed                   // the peer closed or reset it
)

// alive reports whether an idle upstream connection is still usable: the
// endpoint has neither closed it nor sent anything unasked. It is used only
// before requests that could not be sent again should the connection turn
// out to be closed.
func (c *h1Conn) alive() bool {
	s := peekConn(c.conn)
	return s == peekEmpty || s == peekUnknown
}
