package transcode

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/dynamicpb"
)

// maxMessageBytes bounds one answer message, as gRPC's default receive
// limit does.
const maxMessageBytes = 4 << 20

// Response turns a method's gRPC answer, fed as it arrives, into JSON: the
// message of a unary method, a JSON array (or lines) of a streaming one.
type Response struct {
	b       *Binding
	pending []byte // bytes of a message not complete yet
	n       int    // messages converted
}

// NewResponse starts converting an answer of b's method.
func (b *Binding) NewResponse() *Response { return &Response{b: b} }

// Reset makes r convert an answer of b's method, from its start (a
// Response held by value costs no allocation of its own).
func (r *Response) Reset(b *Binding) { *r = Response{b: b} }

// Streaming reports whether the answer is a stream of messages.
func (r *Response) Streaming() bool { return r.b.Method.IsStreamingServer() }

// Messages reports how many messages have been converted so far.
func (r *Response) Messages() int { return r.n }

// Feed takes answer body bytes and returns the JSON of the messages they
// complete: a stream's separators included.
func (r *Response) Feed(p []byte) ([]byte, error) {
	if len(r.pending) > 0 {
		p = append(r.pending, p...)
	}
	out, rest, err := r.convert(p)
	if err != nil {
		return nil, err
	}
	// What is left of p may be the caller's buffer: keep a copy.
	r.pending = append(r.pending[:0], rest...)
	return out, nil
}

// convert converts the complete messages at the start of p, returning the
// bytes after them.
func (r *Response) convert(p []byte) (out, rest []byte, err error) {
	r.pending = p
	for len(r.pending) >= 5 {
		if r.pending[0] != 0 {
			return nil, nil, fmt.Errorf("a compressed gRPC message (flag %d) cannot be transcoded", r.pending[0])
		}
		size := binary.BigEndian.Uint32(r.pending[1:5])
		if size > maxMessageBytes {
			return nil, nil, fmt.Errorf("a gRPC message of %d bytes is more than %d", size, maxMessageBytes)
		}
		if len(r.pending) < 5+int(size) {
			break
		}
		msg := message(&r.b.outputs, r.b.Method.Output())
		err = (proto.UnmarshalOptions{AllowPartial: true, Merge: true}).Unmarshal(r.pending[5:5+size], msg)
		if err != nil {
			err = fmt.Errorf("the method's answer is not a %s: %w", msg.Descriptor().FullName(), err)
		} else {
			out, err = r.appendMessage(out, msg)
		}
		release(&r.b.outputs, msg)
		if err != nil {
			return nil, nil, err
		}
		r.pending = r.pending[5+size:]
	}
	return out, r.pending, nil
}

func (r *Response) appendMessage(out []byte, msg *dynamicpb.Message) ([]byte, error) {
	if !r.Streaming() && r.n > 0 {
		return nil, fmt.Errorf("a unary method answered more than one message")
	}
	ndjson := r.b.t.opts.StreamNewlineDelimited
	switch {
	case !r.Streaming() || ndjson:
	case r.n == 0:
		out = append(out, '[')
	default:
		out = append(out, ',')
	}
	out, err := r.b.t.marshal.MarshalAppend(out, msg)
	if err != nil {
		return nil, err
	}
	if r.Streaming() && ndjson {
		out = append(out, '\n')
	}
	r.n++
	return out, nil
}

// Finish returns what ends the JSON after the last message: a stream's
// closing bracket (or "[]" for none), or "{}" for a unary method that sent
// no message.
func (r *Response) Finish() ([]byte, error) {
	if len(r.pending) > 0 {
		return nil, fmt.Errorf("the answer ended inside a message")
	}
	switch {
	case r.Streaming() && r.b.t.opts.StreamNewlineDelimited:
		return nil, nil
	case r.Streaming() && r.n == 0:
		return []byte("[]"), nil
	case r.Streaming():
		return []byte("]"), nil
	case r.n == 0:
		return []byte("{}"), nil
	}
	return nil, nil
}

// StatusJSON is a gRPC status as google.rpc.Status JSON: from
// grpc-status-details-bin when it decodes, else from code and message.
func StatusJSON(code int, message, detailsBin string) []byte {
	if detailsBin != "" {
		raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(detailsBin, "="))
		st := &status.Status{}
		if err == nil && proto.Unmarshal(raw, st) == nil {
			if out, err := protojson.Marshal(st); err == nil {
				return out
			}
		}
	}
	out, _ := json.Marshal(struct {
		Code    int    `json:"code"`
		Message string `json:"message,omitempty"`
	}{code, message})
	return out
}
