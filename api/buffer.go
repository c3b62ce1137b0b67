package api

// ListenerOptions are a gateway's listener options, as in Gloo.
type ListenerOptions struct {
	// PerConnectionBufferLimitBytes bounds what is buffered per connection:
	// it is the default limit on request and response bodies that filters
	// buffer (transformations: 1 MiB, Lambda: 6 MiB otherwise); past it a
	// request gets 413.
	PerConnectionBufferLimitBytes *uint32 `json:"perConnectionBufferLimitBytes,omitempty"`
	// AccessLoggingService writes a line per request, as Gloo's does.
	AccessLoggingService *AccessLoggingService `json:"accessLoggingService,omitempty"`
}

// AccessLoggingService lists a gateway's access logs.
type AccessLoggingService struct {
	AccessLog []AccessLog `json:"accessLog"`
}

// AccessLog is one access log: to a file (or /dev/stdout).
type AccessLog struct {
	FileSink *FileSink `json:"fileSink"`
}

// FileSink writes lines to Path in Envoy's format: StringFormat (a text
// line with command operators such as %REQ(:METHOD)%), or JSONFormat (an
// object of such texts); neither is Envoy's default line.
type FileSink struct {
	Path         string            `json:"path"`
	StringFormat string            `json:"stringFormat,omitempty"`
	JSONFormat   map[string]string `json:"jsonFormat,omitempty"`
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
	if o == nil {
		return
	}
	if o.PerConnectionBufferLimitBytes != nil && *o.PerConnectionBufferLimitBytes == 0 {
		f.add(path+".perConnectionBufferLimitBytes", "must be positive")
	}
	if a := o.AccessLoggingService; a != nil {
		for i, l := range a.AccessLog {
			p := idx(path+".accessLoggingService.accessLog", i)
			switch {
			case l.FileSink == nil:
				f.add(p, "a fileSink is required")
			case l.FileSink.Path == "":
				f.add(p+".fileSink.path", "is required")
			case l.FileSink.StringFormat != "" && len(l.FileSink.JSONFormat) > 0:
				f.add(p+".fileSink", "only one of stringFormat, jsonFormat may be set")
			}
		}
	}
}
