//go:build !unix

package h1

import "net"

func Peek(net.Conn) PeekState { return PeekUnknown }
