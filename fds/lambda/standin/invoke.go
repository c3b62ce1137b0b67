package standin

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"time"
)

// Invocation types (X-Amz-Invocation-Type).
const (
	RequestResponse = "RequestResponse"
	Event           = "Event"
	DryRun          = "DryRun"
)

// FunctionError lets a handler choose the errorType Lambda reports, as an
// exception class does in other runtimes.
type FunctionError struct {
	Type    string
	Message string
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// outcome is what running a handler gave: a payload, or an error document
// with X-Amz-Function-Error: Unhandled.
type outcome struct {
	payload       []byte
	functionError string
	duration      time.Duration
}

// invoke answers Invoke. Lambda's order: find the function and qualifier
// (404), check the invocation type (400), throttling (429), then DryRun
// (204), Event (202, run in the background) or RequestResponse (200 with
// the handler's payload or error).
func (s *Server) invoke(w http.ResponseWriter, r *http.Request, pathName string, body []byte, reqID string) *apiError {
	fn, qualifier, version, e := s.resolve(pathName, r.URL.Query().Get("Qualifier"))
	if e != nil {
		return e
	}
	typ := r.Header.Get("X-Amz-Invocation-Type")
	if typ == "" {
		typ = RequestResponse
	}
	if typ != RequestResponse && typ != Event && typ != DryRun {
		return invalidParameter("Invalid invocation type: " + typ)
	}
	s.mu.Lock()
	retryAfter := s.throttled[fn.Name]
	s.mu.Unlock()
	if retryAfter > 0 {
		return throttled("ReservedFunctionConcurrentInvocationLimitExceeded", retryAfter)
	}
	if typ == DryRun {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if len(body) == 0 {
		body = []byte("{}") // Lambda hands a function {} when no payload was sent
	} else if !json.Valid(body) {
		return &apiError{status: http.StatusBadRequest, code: "InvalidRequestContentException", message: "Could not parse request body into json"}
	}
	inv := Invocation{Function: fn.Name, Qualifier: qualifier, Version: version, Type: typ, Payload: body, Header: r.Header.Clone()}
	if typ == Event {
		if len(body) > maxAsyncPayload {
			return &apiError{status: http.StatusRequestEntityTooLarge, code: "RequestTooLargeException",
				message: fmt.Sprintf("Request must be smaller than %d bytes for the InvokeAsync operation", maxAsyncPayload)}
		}
		started := s.goHandler(func() {
			out := s.run(s.bg, fn, version, body, reqID)
			inv.Response, inv.FunctionError = out.payload, out.functionError
			s.obs.invoked(inv)
		})
		if !started {
			return &apiError{status: http.StatusServiceUnavailable, code: "ServiceException", message: "the stand-in is closed"}
		}
		w.WriteHeader(http.StatusAccepted)
		return nil
	}
	out := s.run(r.Context(), fn, version, body, reqID)
	inv.Response, inv.FunctionError = out.payload, out.functionError
	s.obs.invoked(inv)
	w.Header().Set("X-Amz-Executed-Version", version)
	if out.functionError != "" {
		w.Header().Set("X-Amz-Function-Error", out.functionError)
	}
	if r.Header.Get("X-Amz-Log-Type") == "Tail" {
		w.Header().Set("X-Amz-Log-Result", base64.StdEncoding.EncodeToString([]byte(logTail(reqID, version, out))))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(out.payload) //nolint:errcheck // the client went away
	return nil
}

// resolve finds the function and the version to run. The function may be
// named by name, "name:qualifier" or ARN; a qualifier in the name must
// agree with the Qualifier parameter.
func (s *Server) resolve(pathName, qualifier string) (*function, string, string, *apiError) {
	name := functionNameOf(pathName)
	if strings.HasPrefix(pathName, "arn:") {
		if parts := strings.Split(pathName, ":"); len(parts) == 8 {
			name += ":" + parts[7]
		}
	}
	name, inName, _ := strings.Cut(name, ":")
	if inName != "" && qualifier != "" && inName != qualifier {
		return nil, "", "", invalidParameter("The derived qualifier from the function name does not match the specified qualifier.")
	}
	if qualifier == "" {
		qualifier = inName
	}
	s.mu.Lock()
	fn, ok := s.functions[name]
	s.mu.Unlock()
	if !ok {
		return nil, "", "", notFound("Function not found: " + s.functionARN(name, qualifier))
	}
	switch {
	case qualifier == "" || qualifier == latest:
		return fn, qualifier, latest, nil
	case fn.Aliases[qualifier] != "":
		return fn, qualifier, fn.Aliases[qualifier], nil
	}
	for _, v := range fn.versions {
		if v == qualifier {
			return fn, qualifier, v, nil
		}
	}
	return nil, "", "", notFound("Function not found: " + s.functionARN(name, qualifier))
}

// run runs the handler within the function's timeout. Past the timeout
// Lambda stops waiting and reports "Task timed out"; so does the stand-in
// (the handler's context is cancelled; Close waits for it to return).
func (s *Server) run(ctx context.Context, fn *function, version string, payload []byte, reqID string) outcome {
	ctx, cancel := context.WithTimeout(ctx, fn.Timeout)
	defer cancel()
	start := time.Now()
	done := make(chan outcome, 1)
	if !s.goHandler(func() { done <- call(ctx, fn.Handler, version, payload) }) {
		return errorOutcome("Runtime.Unavailable", "the stand-in is closed")
	}
	var out outcome
	select {
	case out = <-done:
	case <-ctx.Done():
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		out = outcome{functionError: "Unhandled", payload: mustJSON(map[string]string{
			"errorMessage": fmt.Sprintf("%s %s Task timed out after %.2f seconds",
				time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), reqID, fn.Timeout.Seconds()),
		})}
	}
	out.duration = time.Since(start)
	return out
}

// call runs a handler, turning an error or a panic into Lambda's error
// document.
func call(ctx context.Context, h Handler, version string, payload []byte) (out outcome) {
	defer func() {
		if p := recover(); p != nil {
			out = errorOutcome("Runtime.Panic", fmt.Sprint(p))
		}
	}()
	res, err := h(ctx, version, payload)
	if err != nil {
		var fe *FunctionError
		if errors.As(err, &fe) {
			return errorOutcome(fe.Type, fe.Message)
		}
		return errorOutcome(typeName(err), err.Error())
	}
	return outcome{payload: res}
}

// typeName is the Go Lambda runtime's errorType: the error's type name.
func typeName(err error) string {
	t := reflect.TypeOf(err)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

func errorOutcome(typ, msg string) outcome {
	return outcome{functionError: "Unhandled", payload: mustJSON(map[string]string{"errorMessage": msg, "errorType": typ})}
}

func mustJSON(v map[string]string) []byte {
	data, _ := json.Marshal(v) // a map of strings always marshals
	return data
}

// logTail is the short log Lambda returns with X-Amz-Log-Type: Tail.
func logTail(reqID, version string, out outcome) string {
	ms := float64(out.duration.Microseconds()) / 1000
	var b strings.Builder
	fmt.Fprintf(&b, "START RequestId: %s Version: %s\n", reqID, version)
	if out.functionError != "" {
		fmt.Fprintf(&b, "%s\n", out.payload)
	}
	fmt.Fprintf(&b, "END RequestId: %s\n", reqID)
	fmt.Fprintf(&b, "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: 128 MB\tMax Memory Used: 32 MB\n",
		reqID, ms, int(ms)+1)
	return b.String()
}
