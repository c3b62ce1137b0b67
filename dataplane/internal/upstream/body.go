package upstream

import (
	"bytes"
	"io"
	"net/http"
)

// Body is the body to send upstream: either buffered (replayable for
// retries) or the downstream body streamed once.
type Body struct {
	buf    []byte        // non-nil when buffered
	stream io.ReadCloser // when not buffered; nil for no body
	length int64
}

// Replayable reports whether the body can be sent again (a retry).
func (b *Body) Replayable() bool { return b.stream == nil }

// NewBody buffers the downstream body when asked to (the route may
// retry, or mirrors the request) and the body fits max bytes;
// otherwise the body is streamed. One buffer serves every attempt and mirror.
func NewBody(r *http.Request, buffer bool, max int64) (Body, error) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return Body{}, nil
	}
	if !buffer || r.ContentLength > max {
		return Body{stream: r.Body, length: r.ContentLength}, nil
	}
	buf, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return Body{}, err
	}
	if int64(len(buf)) > max {
		return Body{stream: io.NopCloser(io.MultiReader(bytes.NewReader(buf), r.Body)), length: r.ContentLength}, nil
	}
	return Body{buf: buf, length: int64(len(buf))}, nil
}
