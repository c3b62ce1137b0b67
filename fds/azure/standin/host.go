package standin

import (
	"bytes"
	"crypto/subtle"
	"io"
	"net/http"
	"strings"
)

// maxBody bounds what the host reads of a request (Azure's own limit is 100 MB).
const maxBody = 10 << 20

// serveHost is the function host. The app is the one named by the Host
// header's first label (<app>.azurewebsites.net), or the only app; the
// function is the first whose route matches the path under /api/ and whose
// methods include the request's (404 otherwise, as the Functions host does).
// Then App Service authentication, then the key.
func (s *Server) serveHost(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == msiPath {
		s.serveMSI(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	rec := HostRequest{Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, Host: r.Host, Header: r.Header.Clone(), Body: body}
	status := s.dispatch(w, r, body, err, &rec)
	rec.Status = status
	s.obs.record(rec)
}

func (s *Server) dispatch(w http.ResponseWriter, r *http.Request, body []byte, readErr error, rec *HostRequest) int {
	if readErr != nil || len(body) > maxBody {
		http.Error(w, "request body too large or unreadable", http.StatusRequestEntityTooLarge)
		return http.StatusRequestEntityTooLarge
	}
	a, keys := s.appFor(r.Host)
	if a == nil {
		http.NotFound(w, r)
		return http.StatusNotFound
	}
	rec.App = a.Name
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/")
	if !ok && r.URL.Path != "/api" {
		http.NotFound(w, r)
		return http.StatusNotFound
	}
	f, params := findFunction(a, rest, r.Method)
	if f == nil {
		http.NotFound(w, r)
		return http.StatusNotFound
	}
	rec.Function = f.Name
	if a.RequireAAD && !s.checkToken(r, "api://"+a.Name) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+r.Host+`" authorization_uri="`+s.tls.URL+"/"+s.tenant+`/oauth2/v2.0/authorize"`)
		http.Error(w, "You do not have permission to view this directory or page.", http.StatusUnauthorized)
		return http.StatusUnauthorized
	}
	if !keyAccepted(f.AuthLevel, presentedKey(r), keys, f.Name) {
		w.WriteHeader(http.StatusUnauthorized) // the Functions host answers with no body
		return http.StatusUnauthorized
	}
	for k, v := range params {
		r.SetPathValue(k, v)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	f.Handler(sw, r)
	return sw.status
}

// appFor picks the app a request is for, with a copy of its keys.
func (s *Server) appFor(host string) (*app, Keys) {
	label, _, _ := strings.Cut(strings.ToLower(host), ".")
	label, _, _ = strings.Cut(label, ":")
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[label]
	if a == nil && len(s.apps) == 1 {
		for _, only := range s.apps {
			a = only
		}
	}
	if a == nil {
		return nil, Keys{}
	}
	k := a.keys
	k.Function = map[string]string{}
	for fn, key := range a.keys.Function {
		k.Function[fn] = key
	}
	return a, k
}

func findFunction(a *app, path, method string) (*Function, map[string]string) {
	for i := range a.Functions {
		f := &a.Functions[i]
		if f.Trigger != "httpTrigger" || f.Disabled {
			continue
		}
		params, ok := matchRoute(f.Route, path)
		if ok && (len(f.Methods) == 0 || containsFold(f.Methods, method)) {
			return f, params
		}
	}
	return nil, nil
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// presentedKey is the x-functions-key header, else the code query parameter.
func presentedKey(r *http.Request) string {
	if k := r.Header.Get("x-functions-key"); k != "" {
		return k
	}
	return r.URL.Query().Get("code")
}

// keyAccepted applies the auth level: function keys, the host key and the
// master key open function-level functions; only the master key opens admin.
func keyAccepted(level, key string, k Keys, fn string) bool {
	eq := func(want string) bool {
		return want != "" && subtle.ConstantTimeCompare([]byte(key), []byte(want)) == 1
	}
	switch level {
	case AuthAnonymous:
		return true
	case AuthAdmin:
		return eq(k.Master)
	default:
		return eq(k.Function[fn]) || eq(k.Host) || eq(k.Master)
	}
}

type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

// Flush lets streaming handlers flush through the wrapper.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
