package api

// ListenerOptions are a gateway's listener options, as in Gloo.
type ListenerOptions struct {
	// PerConnectionBufferLimitBytes bounds what is buffered per connection:
	// it is the default limit on request and response bodies that filters
	// buffer (transformations: 1 MiB, Lambda: 6 MiB otherwise); past it a
	// request gets 413.
	PerConnectionBufferLimitBytes *uint32 `json:"perConnectionBufferLimitBytes,omitempty"`
}

// Buffer is Envoy's buffer filter: the whole request body is read before
// the request goes on, up to MaxRequestBytes (413 past it); it is also the
// limit of every filter buffering the body on that route.
type Buffer struct {
	MaxRequestBytes uint32 `json:"maxRequestBytes"`
}

// BufferPerRoute overrides the gateway's buffer on a route: Disabled turns
// it off, Buffer replaces its limit.
type BufferPerRoute struct {
	Disabled bool    `json:"disabled,omitempty"`
	Buffer   *Buffer `json:"buffer,omitempty"`
}

func validateBuffer(f *fieldErrors, path string, b *Buffer) {
	if b != nil && b.MaxRequestBytes == 0 {
		f.add(path+".maxRequestBytes", "must be positive")
	}
}

func validateBufferPerRoute(f *fieldErrors, path string, b *BufferPerRoute) {
	if b == nil {
		return
	}
	if b.Disabled == (b.Buffer != nil) {
		f.add(path, "exactly one of disabled, buffer must be set")
	}
	validateBuffer(f, path+".buffer", b.Buffer)
}

func validateListenerOptions(f *fieldErrors, path string, o *ListenerOptions) {
	if o != nil && o.PerConnectionBufferLimitBytes != nil && *o.PerConnectionBufferLimitBytes == 0 {
		f.add(path+".perConnectionBufferLimitBytes", "must be positive")
	}
}
