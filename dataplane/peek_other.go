//go:build !unix

package dataplane

import "net"

func peekConn(net.Conn) peekState { return peekUnknown }
