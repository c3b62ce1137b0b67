package h1

import (
	"fmt"
	"iter"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ClientCheckInterval is how often a request waiting on its upstream checks
// that its client is still there, to abort the upstream request when it is
// not.
const ClientCheckInterval = 250 * time.Millisecond

// copyBuffers hold the buffers that copy bodies, both ways.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// CopyBuffer takes a body-copying buffer; give it back with PutCopyBuffer.
func CopyBuffer() *[]byte { return copyBuffers.Get().(*[]byte) }

// PutCopyBuffer gives a buffer back.
func PutCopyBuffer(b *[]byte) { copyBuffers.Put(b) }

// ContainsToken reports whether a comma-separated header lists token.
func ContainsToken(values []string, token string) bool {
	for _, v := range values {
		for tok := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), token) {
				return true
			}
		}
	}
	return false
}

// ListedNames yields the field names listed in the comma-separated values
// of a header such as Connection or Trailer, canonical, empty ones skipped.
func ListedNames(values []string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for _, v := range values {
			for name := range strings.SplitSeq(v, ",") {
				if name = strings.TrimSpace(name); name != "" && !yield(http.CanonicalHeaderKey(name)) {
					return
				}
			}
		}
	}
}

// ContentLength parses Content-Length, of a request or a response:
// repeated identical values are folded into one, differing ones and
// anything but digits are an error.
func ContentLength(h http.Header) (int64, error) {
	vs := h["Content-Length"]
	first := vs[0]
	for _, v := range vs[1:] {
		if v != first {
			return 0, fmt.Errorf("conflicting Content-Length values %q", vs)
		}
	}
	n, err := strconv.ParseUint(first, 10, 63)
	if err != nil {
		return 0, fmt.Errorf("invalid Content-Length %q", first)
	}
	if len(vs) > 1 {
		h["Content-Length"] = vs[:1]
	}
	return int64(n), nil
}

// contentLength is the declared length of a response, -1 when unknown.
func DeclaredLength(h http.Header) int64 {
	if vs := h["Content-Length"]; len(vs) == 1 {
		if n, err := strconv.ParseInt(vs[0], 10, 64); err == nil {
			return n
		}
	}
	return -1
}
