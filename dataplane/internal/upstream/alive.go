package upstream

import "github.com/gluon-gateway/gluon/dataplane/internal/h1"

// alive reports whether an idle upstream connection is still usable: the
// endpoint has neither closed it nor sent anything unasked. It is used only
// before requests that could not be sent again should the connection turn
// out to be closed.
func (c *h1Conn) alive() bool {
	s := h1.Peek(c.conn)
	return s == h1.PeekEmpty || s == h1.PeekUnknown
}
