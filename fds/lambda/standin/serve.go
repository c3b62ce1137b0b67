package standin

import (
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"strings"
)

const (
	apiPrefix = "/2015-03-31/functions"
	// maxSyncPayload is Lambda's limit on a synchronous invocation's request.
	maxSyncPayload = 6 << 20
	// maxAsyncPayload is Lambda's limit on an asynchronous one.
	maxAsyncPayload = 256 << 10
)

// ServeHTTP authenticates the request, then routes it to ListFunctions,
// ListAliases or Invoke; POST / is STS (sts.go).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	w.Header().Set("X-Amzn-Requestid", reqID)
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSyncPayload+1))
	s.obs.request(r, body)
	if err != nil {
		(&apiError{status: http.StatusBadRequest, code: "InvalidRequestContentException", message: err.Error()}).write(w)
		return
	}
	if len(body) > maxSyncPayload {
		(&apiError{status: http.StatusRequestEntityTooLarge, code: "RequestTooLargeException",
			message: fmt.Sprintf("Request must be smaller than %d bytes for the InvokeFunction operation", maxSyncPayload)}).write(w)
		return
	}
	if r.URL.Path == "/" {
		s.serveSTS(w, r, body, reqID)
		return
	}
	if e := s.verify(r, body, "lambda"); e != nil {
		e.write(w)
		return
	}
	if e := s.route(w, r, body, reqID); e != nil {
		e.write(w)
	}
}

func (s *Server) route(w http.ResponseWriter, r *http.Request, body []byte, reqID string) *apiError {
	path := r.URL.Path
	if (path == apiPrefix || path == apiPrefix+"/") && r.Method == http.MethodGet {
		return s.listFunctions(w, r)
	}
	name, op, ok := strings.Cut(strings.TrimPrefix(path, apiPrefix+"/"), "/")
	switch {
	case !ok || !strings.HasPrefix(path, apiPrefix+"/") || name == "":
	case op == "aliases" && r.Method == http.MethodGet:
		return s.listAliases(w, r, name)
	case op == "invocations" && r.Method == http.MethodPost:
		return s.invoke(w, r, name, body, reqID)
	}
	return &apiError{status: http.StatusNotFound, code: "UnknownOperationException",
		message: fmt.Sprintf("%s %s is not an operation of this stand-in", r.Method, path)}
}

// newRequestID returns a random UUID, the shape of Lambda's request IDs.
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:]) //nolint:errcheck // never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
