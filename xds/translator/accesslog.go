package translator

import (
	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	filev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/file/v3"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/gluon-gateway/gluon/xds/ir"
)

// fileAccessLogger is Envoy's file access logger.
const fileAccessLogger = "envoy.access_loggers.file"

// accessLogs are a listener's access logs, as its connection manager
// writes them: to a file, in the format given (Envoy's default line when
// none).
func accessLogs(l *ir.Listener) ([]*accesslogv3.AccessLog, error) {
	out := make([]*accesslogv3.AccessLog, 0, len(l.AccessLogs))
	for _, a := range l.AccessLogs {
		f := &filev3.FileAccessLog{Path: a.Path}
		switch {
		case len(a.JSON) > 0:
			fields := make(map[string]any, len(a.JSON))
			for k, v := range a.JSON {
				fields[k] = v
			}
			obj, err := structpb.NewStruct(fields)
			if err != nil {
				return nil, err
			}
			f.AccessLogFormat = &filev3.FileAccessLog_LogFormat{LogFormat: &corev3.SubstitutionFormatString{
				Format: &corev3.SubstitutionFormatString_JsonFormat{JsonFormat: obj}}}
		case a.Text != "":
			f.AccessLogFormat = &filev3.FileAccessLog_LogFormat{LogFormat: &corev3.SubstitutionFormatString{
				Format: &corev3.SubstitutionFormatString_TextFormatSource{TextFormatSource: inline(a.Text)}}}
		}
		cfg, err := packAny(f)
		if err != nil {
			return nil, err
		}
		out = append(out, &accesslogv3.AccessLog{Name: fileAccessLogger, ConfigType: &accesslogv3.AccessLog_TypedConfig{TypedConfig: cfg}})
	}
	return out, nil
}
