package dataplane

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	filev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/file/v3"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/gluon-gateway/gluon/envoy-filters/accessformat"
)

const fileAccessLogType = "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog"

// accessLog writes a line per request to a file, in its format.
type accessLog struct {
	format *accessformat.Format
	file   *logFile
}

// logFile is a file access logs append to; one per path, shared by every
// listener writing there, so lines never interleave.
type logFile struct {
	mu sync.Mutex
	f  *os.File
}

func (l *logFile) write(line []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = l.f.Write(line) // a full disk must not fail requests
}

// logFiles are the files opened for access logs, by path, for the data
// plane's life.
type logFiles struct {
	mu    sync.Mutex
	files map[string]*logFile
}

func (lf *logFiles) open(path string) (*logFile, error) {
	lf.mu.Lock()
	defer lf.mu.Unlock()
	if f := lf.files[path]; f != nil {
		return f, nil
	}
	var f *os.File
	switch path {
	case "/dev/stdout":
		f = os.Stdout
	case "/dev/stderr":
		f = os.Stderr
	default:
		var err error
		if f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err != nil {
			return nil, err
		}
	}
	if lf.files == nil {
		lf.files = map[string]*logFile{}
	}
	lf.files[path] = &logFile{f: f}
	return lf.files[path], nil
}

func compileAccessLogs(in []*accesslogv3.AccessLog, files *logFiles) ([]*accessLog, error) {
	var out []*accessLog
	for i, a := range in {
		if err := onlyFields(a, "name", "typed_config"); err != nil {
			return nil, fmt.Errorf("access_log[%d]: %w", i, err)
		}
		if a.GetTypedConfig().GetTypeUrl() != fileAccessLogType {
			return nil, fmt.Errorf("access_log[%d]: only the file access logger is supported", i)
		}
		fl := &filev3.FileAccessLog{}
		if err := decodeAny(a.GetTypedConfig(), fl); err != nil {
			return nil, err
		}
		format, err := compileLogFormat(fl)
		if err != nil {
			return nil, fmt.Errorf("access_log[%d]: %w", i, err)
		}
		file, err := files.open(fl.GetPath())
		if err != nil {
			return nil, fmt.Errorf("access_log[%d]: %w", i, err)
		}
		out = append(out, &accessLog{format: format, file: file})
	}
	return out, nil
}

func compileLogFormat(fl *filev3.FileAccessLog) (*accessformat.Format, error) {
	if err := onlyFields(fl, "path", "log_format"); err != nil {
		return nil, err
	}
	if fl.GetPath() == "" {
		return nil, errors.New("path is required")
	}
	lf := fl.GetLogFormat()
	if lf == nil {
		return accessformat.ParseText(accessformat.DefaultText)
	}
	if err := onlyFields(lf, "text_format_source", "json_format"); err != nil {
		return nil, err
	}
	if j := lf.GetJsonFormat(); j != nil {
		fields := map[string]string{}
		for k, v := range j.GetFields() {
			if _, ok := v.GetKind().(*structpb.Value_StringValue); !ok {
				return nil, fmt.Errorf("json_format field %q: only string values are supported", k)
			}
			fields[k] = v.GetStringValue()
		}
		return accessformat.ParseJSON(fields)
	}
	text, err := dataSourceBytes(lf.GetTextFormatSource())
	if err != nil {
		return nil, fmt.Errorf("text_format_source: %w", err)
	}
	return accessformat.ParseText(string(text))
}

// logRequest writes the request's line to each access log.
func (h *hcm) logRequest(r *http.Request, m *routeMatch, start time.Time) {
	e := &accessformat.Entry{Start: start, Duration: time.Since(start), Method: r.Method, Path: m.received, Authority: r.Host,
		Protocol: r.Proto, Request: r.Header.Get, Response: m.sw.Header().Get, Code: m.sw.status(), Flags: orDash(m.flags),
		BytesSent: m.sw.bytes, UpstreamHost: m.upstreamHost, Cluster: m.cluster, RemoteAddr: r.RemoteAddr}
	if r.ContentLength > 0 {
		e.BytesReceived = r.ContentLength
	}
	if m.route != nil {
		e.Route = m.route.name
	}
	for _, l := range h.lc.accessLogs {
		l.file.write(l.format.Render(e))
	}
}

// orDash is a value, or Envoy's "-" for none.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
