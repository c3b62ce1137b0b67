//go:build !unix

package dataplane

// alive cannot peek at a socket here; a closed connection then fails the
// request it is used for.
func (c *h1Conn) alive() bool { return true }
