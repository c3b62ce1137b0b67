package h1

// PeekState is what Peek found waiting on a connection.
type PeekState int

// The states.
const (
	PeekUnknown PeekState = iota // the platform cannot tell
	PeekEmpty                    // nothing yet; still open
	PeekData                     // bytes to read
	PeekClosed                   // the peer closed or reset it
)

// BufferSize is the size of the buffered readers and writers of HTTP/1
// connections, both ways.
const BufferSize = 4 << 10
