package h1

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// headerField is one parsed field: its canonical name and where its value
// sits in HeadReader.values.
type headerField struct {
	key        string
	start, end int
}

// HeadReader reads the heads of HTTP/1 messages (request and status lines,
// header and trailer blocks) from br, keeping its scratch space between
// messages. Both the upstream client and the downstream server use one;
// they set BR (and RefuseFolds) and keep the rest.
type HeadReader struct {
	BR       *bufio.Reader
	values   []byte        // scratch space of ReadHeader
	fields   []headerField // scratch space of ReadHeader
	longLine []byte        // scratch space of ReadLine
	// RefuseFolds rejects obs-fold lines, which RFC 9112 §5.2 lets a server
	// refuse in requests; responses still have them joined.
	RefuseFolds bool
}

// ReadHeader reads a header block (a message's headers, a chunked body's
// trailers) up to its empty line into h. The values are gathered into one
// string and the common names are interned, so that a block costs two
// allocations rather than one per field as with net/textproto. A field name
// with spaces or other non-token bytes is an error; a folded line (obs-fold)
// continues the previous value after a space, as RFC 9112 §5.2 asks of a
// proxy.
func (c *HeadReader) ReadHeader(h http.Header) error {
	return c.readHeader(h, nil)
}

// ReadRequestHeader is ReadHeader for a request's header block that also
// returns how the client spelled the names it did not send in canonical
// form: lower-case name → the spelling of its first field, nil when every
// name came canonical. API Gateway's payload 1.0 events keep names as
// received, and http.Header has them canonical.
func (c *HeadReader) ReadRequestHeader(h http.Header) (map[string]string, error) {
	var spelled map[string]string
	err := c.readHeader(h, &spelled)
	return spelled, err
}

// readHeader reads a header block into h and, when spelled is not nil,
// the received spelling of each name that was not canonical into it.
func (c *HeadReader) readHeader(h http.Header, spelled *map[string]string) error {
	values, fields := c.values[:0], c.fields[:0]
	for {
		line, err := c.ReadLine()
		if err != nil {
			return fmt.Errorf("reading header: %w", err)
		}
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			v := trimOWS(line)
			if len(fields) == 0 || c.RefuseFolds || !validFieldValue(v) {
				return fmt.Errorf("malformed header line %q", line)
			}
			values = append(append(values, ' '), v...)
			fields[len(fields)-1].end = len(values)
			continue
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		received := ""
		if spelled != nil && !isCanonical(k) {
			received = string(k) // before canonicalKey rewrites k in place
		}
		key, valid := canonicalKey(k)
		if v = trimOWS(v); !ok || !valid || !validFieldValue(v) {
			return fmt.Errorf("malformed header line %q", line)
		}
		if received != "" && !slices.ContainsFunc(fields, func(f headerField) bool { return f.key == key }) {
			keepSpelling(spelled, received) // the first field of a name sets its spelling
		}
		start := len(values)
		values = append(values, v...)
		fields = append(fields, headerField{key: key, start: start, end: len(values)})
	}
	if len(fields) > 0 {
		all := string(values)
		vs := make([]string, len(fields))
		for i, f := range fields {
			vs[i] = all[f.start:f.end]
			if vv, ok := h[f.key]; ok {
				h[f.key] = append(vv, vs[i])
			} else {
				h[f.key] = vs[i : i+1 : i+1] // an append reallocates rather than overwrite the next value
			}
		}
	}
	// Keep the scratch space for the next block unless an unusual block grew it.
	if cap(values) <= BufferSize {
		c.values = values
	}
	clear(fields)
	c.fields = fields[:0]
	return nil
}

// ReadLine returns the next line without its line ending (CRLF or LF). A
// line longer than the read buffer is gathered in c.longLine; the reader
// under br bounds its length.
func (c *HeadReader) ReadLine() ([]byte, error) {
	line, err := c.BR.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		c.longLine = append(c.longLine[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = c.BR.ReadSlice('\n')
			c.longLine = append(c.longLine, line...)
		}
		line = c.longLine
		c.longLine = nil // rare: not kept
	}
	if err != nil {
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// canonicalKey canonicalises a field name in place (Content-Type) and
// returns it as a string, interned when common. ok is false for an empty
// name or one with a byte outside the token set.
func canonicalKey(k []byte) (key string, ok bool) {
	if len(k) == 0 {
		return "", false
	}
	upper := true
	for i, b := range k {
		if !httpguts.IsTokenRune(rune(b)) {
			return "", false
		}
		switch {
		case upper && 'a' <= b && b <= 'z':
			k[i] = b - ('a' - 'A')
		case !upper && 'A' <= b && b <= 'Z':
			k[i] = b + ('a' - 'A')
		}
		upper = b == '-'
	}
	if s, ok := commonHeaderKeys[string(k)]; ok {
		return s, true
	}
	return string(k), true
}

// isCanonical reports whether a field name is in canonical form already:
// upper case first and after each hyphen, lower case elsewhere.
func isCanonical(k []byte) bool {
	upper := true
	for _, b := range k {
		if upper && 'a' <= b && b <= 'z' || !upper && 'A' <= b && b <= 'Z' {
			return false
		}
		upper = b == '-'
	}
	return true
}

// keepSpelling records a name's received spelling under its lower-case
// form.
func keepSpelling(spelled *map[string]string, received string) {
	if *spelled == nil {
		*spelled = map[string]string{}
	}
	(*spelled)[strings.ToLower(received)] = received
}

// commonHeaderKeys interns the names most requests and responses carry.
var commonHeaderKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		"Accept", "Accept-Encoding", "Accept-Language", "Authorization", "Content-Md5", "Cookie", "Expect",
		"Host", "If-Match", "If-Modified-Since", "If-None-Match", "Origin", "Range", "Referer", "Te",
		"Upgrade", "User-Agent", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip",
		"Accept-Ranges", "Access-Control-Allow-Credentials", "Access-Control-Allow-Headers",
		"Access-Control-Allow-Methods", "Access-Control-Allow-Origin", "Access-Control-Expose-Headers",
		"Age", "Cache-Control", "Connection", "Content-Disposition", "Content-Encoding", "Content-Language",
		"Content-Length", "Content-Type", "Date", "Etag", "Expires", "Keep-Alive", "Last-Modified", "Link",
		"Location", "Pragma", "Retry-After", "Server", "Set-Cookie", "Strict-Transport-Security", "Trailer",
		"Transfer-Encoding", "Vary", "Www-Authenticate", "X-Content-Type-Options", "X-Frame-Options",
		"X-Request-Id",
	} {
		m[k] = k
	}
	return m
}()

// validFieldValue reports whether v holds no control characters other
// than tab (RFC 9110 §5.5).
func validFieldValue(v []byte) bool {
	for _, b := range v {
		if b < ' ' && b != '\t' || b == 0x7f {
			return false
		}
	}
	return true
}

// trimOWS trims the optional whitespace (spaces and tabs) around a value.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}
