package standin

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// apiError is an error answered the way Lambda answers it: the code in
// X-Amzn-ErrorType and in the body's __type (the SDK reads either), the
// message in "message".
type apiError struct {
	status  int
	code    string
	message string
	// reason and retryAfter are set on TooManyRequestsException.
	reason     string
	retryAfter time.Duration
}

func (e *apiError) write(w http.ResponseWriter) {
	body := map[string]string{"__type": e.code, "message": e.message, "Type": "User"}
	if e.status >= 500 {
		body["Type"] = "Service"
	}
	if e.reason != "" {
		body["Reason"] = e.reason
	}
	if e.retryAfter > 0 {
		secs := strconv.Itoa(int((e.retryAfter + time.Second - 1) / time.Second))
		w.Header().Set("Retry-After", secs)
		body["retryAfterSeconds"] = secs
	}
	w.Header().Set("X-Amzn-ErrorType", e.code)
	writeJSON(w, e.status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil { // only our own plain types are written
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(data) //nolint:errcheck // the client went away
}

func invalidParameter(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "InvalidParameterValueException", message: msg}
}

func notFound(msg string) *apiError {
	return &apiError{status: http.StatusNotFound, code: "ResourceNotFoundException", message: msg}
}

func invalidSignature(msg string) *apiError {
	return &apiError{status: http.StatusForbidden, code: "InvalidSignatureException", message: msg}
}

func throttled(reason string, retryAfter time.Duration) *apiError {
	return &apiError{status: http.StatusTooManyRequests, code: "TooManyRequestsException",
		message: "Rate Exceeded.", reason: reason, retryAfter: retryAfter}
}
