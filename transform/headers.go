package transform

import (
	"strings"

	"golang.org/x/net/http/httpguts"
)

// invalidHeaderValue says why v cannot be sent as header name, "" when it
// can. Rendered values carry request and response data: a NUL, CR or LF
// in one would split the message or be refused by the next hop.
func invalidHeaderValue(name, v string) string {
	if v == "" {
		return "" // an empty value removes the header
	}
	switch name {
	case ":path":
		if strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return "a space or control character in the path"
		}
	case ":method":
		if !httpguts.ValidHeaderFieldName(v) { // a method is a token, as a name is
			return "not a method token"
		}
	case ":authority":
		if !httpguts.ValidHostHeader(v) {
			return "not a host"
		}
	default:
		if !httpguts.ValidHeaderFieldValue(v) {
			return "a control character (NUL, CR, LF …) in the value"
		}
	}
	return ""
}
