package fds

import (
	"io"
)

// AnswersH2CPreface sends HTTP/2's cleartext connection preface (prior
// knowledge) on conn and reports whether the server answers with a
// SETTINGS frame, as gRPC servers do. Any failure says it does not.
func AnswersH2CPreface(conn io.ReadWriter) bool {
	// The client preface, then an empty SETTINGS frame.
	const preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + "\x00\x00\x00\x04\x00\x00\x00\x00\x00"
	if _, err := io.WriteString(conn, preface); err != nil {
		return false
	}
	head := make([]byte, 9) // a frame header; byte 3 is its type, 0x4 SETTINGS
	_, err := io.ReadFull(conn, head)
	return err == nil && head[3] == 0x4
}
