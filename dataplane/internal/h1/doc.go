// Package h1 is the data plane's HTTP/1 codec, shared by its downstream
// server and its upstream client: the head reader (request and status
// lines, header and trailer blocks, with a byte budget), the writer that
// can wait for the answer, and the raw socket and peek that spare system
// calls. It knows nothing of routes or config.
package h1
