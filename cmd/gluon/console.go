package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/controlplane"
	"github.com/gluon-gateway/gluon/dataplane"
	"github.com/gluon-gateway/gluon/functions"
	"github.com/gluon-gateway/gluon/gateway"
	"github.com/gluon-gateway/gluon/xds/server"
)

// consoleAssets are the web console's page, script and style: embedded,
// so that it works offline and asks nothing of any other origin.
//
//go:embed console
var consoleAssets embed.FS

// consoleState is what the console shows: read-only, and no secret value
// (Secrets appear nowhere; reasons are the reports' own).
type consoleState struct {
	Ready           bool             `json:"ready"`
	Upstreams       []consoleItem    `json:"upstreams"`
	VirtualServices []consoleItem    `json:"virtualServices"`
	Proxies         []consoleProxy   `json:"proxies"`
	RateLimits      []string         `json:"rateLimits"`
	Listeners       []string         `json:"listeners"`
	Errors          []string         `json:"errors,omitempty"`
	Functions       map[string][]fun `json:"functions"`
}

// consoleItem is a resource with its state, why, and what it holds: an
// upstream's type and discovery source, a virtual service's domains and
// routes.
type consoleItem struct {
	Key     string   `json:"key"`
	Kind    string   `json:"kind"`
	State   string   `json:"state"`
	Reasons []string `json:"reasons,omitempty"`
	Detail  string   `json:"detail,omitempty"`
	Routes  []route  `json:"routes,omitempty"`
}

type route struct {
	Match  string `json:"match"`
	Action string `json:"action"`
	// Requests and Errors (5xx) are what the embedded data plane counted
	// on the route, its matchers together; the page turns them into rates.
	Requests uint64 `json:"requests"`
	Errors   uint64 `json:"errors"`
}

type fun struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	Call string `json:"call,omitempty"`
}

type consoleProxy struct {
	Name    string   `json:"name"`
	Version string   `json:"version"`
	Clients []string `json:"clients"`
}

// consoleView builds the console's state from the resources in force, the
// pipeline's status and the embedded data plane's per-route counts (nil
// without one).
func consoleView(res api.Resources, st controlplane.Status, counts map[string]dataplane.RouteCounts) consoleState {
	reports := map[api.Key]api.Report{}
	for _, r := range st.Reports {
		reports[r.Key] = r
	}
	out := consoleState{Ready: st.Ready, Errors: st.Errors, Functions: map[string][]fun{}}
	for _, u := range res.Upstreams {
		out.Upstreams = append(out.Upstreams, item(api.KeyOf(u), reports, u.TypeName()))
	}
	for _, d := range st.Functions {
		key := d.Upstream.Namespace + "/" + d.Upstream.Name
		for _, f := range d.Functions {
			out.Functions[key] = append(out.Functions[key], fun{Name: f.Name, Kind: string(f.Kind), Call: call(f)})
		}
	}
	for _, vs := range res.VirtualServices {
		it := item(api.KeyOf(vs), reports, strings.Join(vs.Spec.VirtualHost.Domains, ", "))
		for i, r := range vs.Spec.VirtualHost.Routes {
			rt := route{Match: matchOf(r), Action: action(r)}
			for j := range max(1, len(r.Matchers)) {
				c := counts[gateway.RouteName(vs, i, j)]
				rt.Requests, rt.Errors = rt.Requests+c.Requests, rt.Errors+c.Errors
			}
			it.Routes = append(it.Routes, rt)
		}
		out.VirtualServices = append(out.VirtualServices, it)
	}
	out.Upstreams = append(out.Upstreams, unread(api.KindUpstream, res.Upstreams, st.Reports)...)
	out.VirtualServices = append(out.VirtualServices, unread(api.KindVirtualService, res.VirtualServices, st.Reports)...)
	out.Listeners = consoleListeners(res.Gateways)
	for _, s := range st.Snapshots {
		p := consoleProxy{Name: s.Proxy, Version: s.Version}
		for _, c := range st.Clients {
			if c.Proxy == s.Proxy {
				p.Clients = append(p.Clients, clientLine(c))
			}
		}
		out.Proxies = append(out.Proxies, p)
	}
	if s := res.Settings; s != nil && s.Spec.Ratelimit != nil {
		for _, d := range s.Spec.Ratelimit.Descriptors {
			out.RateLimits = append(out.RateLimits, descriptorLine(d))
		}
	}
	return out
}

// unread are the resources of a kind that have a report but were not read
// (a file that does not decode, a resource that does not validate): shown
// too, with why.
func unread[T api.Object](kind api.Kind, read []T, reports []api.Report) []consoleItem {
	seen := map[api.Key]bool{}
	for _, o := range read {
		seen[api.KeyOf(o)] = true
	}
	var out []consoleItem
	for _, r := range reports {
		if r.Key.Kind == kind && !seen[r.Key] {
			out = append(out, consoleItem{Key: r.Key.Namespace + "/" + r.Key.Name, Kind: string(kind), State: string(r.State), Reasons: r.Reasons()})
		}
	}
	return out
}

func item(k api.Key, reports map[api.Key]api.Report, detail string) consoleItem {
	it := consoleItem{Key: k.Namespace + "/" + k.Name, Kind: string(k.Kind), State: "Pending", Detail: detail}
	if r, ok := reports[k]; ok {
		it.State, it.Reasons = string(r.State), r.Reasons()
	}
	return it
}

// call says how a function is called: a REST operation's method and path.
func call(f functions.Function) string {
	if f.REST != nil {
		return f.REST.Method + " " + f.REST.Path
	}
	return ""
}

func matchOf(r api.Route) string {
	if len(r.Matchers) == 0 {
		return "prefix /"
	}
	var parts []string
	for _, m := range r.Matchers {
		switch {
		case m.Exact != "":
			parts = append(parts, "exact "+m.Exact)
		case m.Regex != "":
			parts = append(parts, "regex "+m.Regex)
		default:
			parts = append(parts, "prefix "+cmp.Or(m.Prefix, "/"))
		}
	}
	return strings.Join(parts, ", ")
}

// action is what a route does: the upstream (and function) it calls, a
// redirect, or a direct response.
func action(r api.Route) string {
	switch {
	case r.RedirectAction != nil:
		return "redirect"
	case r.DirectResponseAction != nil:
		return fmt.Sprintf("direct response %d", r.DirectResponseAction.Status)
	case r.RouteAction == nil:
		return ""
	case r.RouteAction.Single != nil:
		return destination(*r.RouteAction.Single)
	case r.RouteAction.Multi != nil:
		var parts []string
		for _, d := range r.RouteAction.Multi.Destinations {
			parts = append(parts, fmt.Sprintf("%s (%d)", destination(d.Destination), d.Weight))
		}
		return strings.Join(parts, ", ")
	case r.RouteAction.MCP != nil:
		return "MCP server over the functions of its upstreams"
	}
	return ""
}

func destination(d api.Destination) string {
	out := "→ "
	if d.Upstream != nil {
		out += d.Upstream.Name
	}
	if s := d.DestinationSpec; s != nil {
		switch {
		case s.Rest != nil:
			out += " " + s.Rest.FunctionName
		case s.AWS != nil:
			out += " lambda " + s.AWS.LogicalName
		case s.Azure != nil:
			out += " azure " + s.Azure.FunctionName
		}
	}
	return out
}

func clientLine(c server.Client) string {
	state := "ACK"
	for _, t := range c.Types {
		if t.Nack != "" {
			state = "NACK: " + t.Nack
		}
	}
	return fmt.Sprintf("%s (%s)", c.NodeID, state)
}

func descriptorLine(d api.RateLimitDescriptor) string {
	line := d.Key
	if d.Value != "" {
		line += "=" + d.Value
	}
	if r := d.RateLimit; r != nil {
		line += fmt.Sprintf(": %d per %s", r.RequestsPerUnit, strings.ToLower(r.Unit))
	}
	return line
}

// consoleListeners are where "try it" may send requests: Gluon's own plain
// HTTP listeners, sorted.
func consoleListeners(gateways []*api.Gateway) []string {
	var out []string
	for _, g := range gateways {
		if g.Spec.TCPGateway == nil && !g.Spec.SSL {
			out = append(out, net.JoinHostPort(loopbackFor(g.Spec.BindAddress), strconv.Itoa(int(g.Spec.BindPort))))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// loopbackFor is where the console reaches a listener bound to addr.
func loopbackFor(addr string) string {
	if addr == "" || addr == "0.0.0.0" || addr == "::" {
		return "127.0.0.1"
	}
	return addr
}

// consoleHandlers serves the console under /console/: the page, its state
// (with an ETag, so that polling an unchanged state costs a 304), and
// "try it", which sends a request through one of Gluon's own listeners.
func consoleHandlers(mux *http.ServeMux, p *controlplane.Pipeline, dp *dataplane.DataPlane) {
	view := func() consoleState {
		var counts map[string]dataplane.RouteCounts
		if dp != nil {
			counts = dp.RouteCounts()
		}
		return consoleView(p.Resources(), p.Status(), counts)
	}
	assets, err := fs.Sub(consoleAssets, "console")
	if err != nil {
		panic(err) // the embedded directory is part of the binary
	}
	mux.Handle("GET /console/", http.StripPrefix("/console/", http.FileServerFS(assets)))
	mux.HandleFunc("GET /console/api/state", func(w http.ResponseWriter, r *http.Request) {
		b, err := json.Marshal(view())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		sum := sha256.Sum256(b)
		etag := `"` + hex.EncodeToString(sum[:8]) + `"`
		w.Header().Set("ETag", etag)
		w.Header().Set("Cache-Control", "no-cache")
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	})
	mux.HandleFunc("POST /console/api/try", func(w http.ResponseWriter, r *http.Request) {
		tryIt(w, r, consoleListeners(p.Resources().Gateways))
	})
}

// tryRequest is what the "try it" form sends.
type tryRequest struct {
	Listener string `json:"listener"`
	Method   string `json:"method"`
	Path     string `json:"path"`
	Host     string `json:"host"`
	Body     string `json:"body"`
}

type tryResponse struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
	Error   string            `json:"error,omitempty"`
}

// maxTryBody bounds what "try it" shows of an answer.
const maxTryBody = 64 << 10

// tryIt sends the request through a listener Gluon serves, and only such
// a one: the console is no proxy to anywhere else.
func tryIt(w http.ResponseWriter, r *http.Request, listeners []string) {
	var req tryRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
		return
	}
	if !slices.Contains(listeners, req.Listener) || !strings.HasPrefix(req.Path, "/") {
		http.Error(w, "listener must be one of Gluon's and path must start with /", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	out, err := http.NewRequestWithContext(ctx, cmp.Or(req.Method, http.MethodGet), "http://"+req.Listener+req.Path, strings.NewReader(req.Body))
	var resp tryResponse
	if err == nil {
		out.Host = req.Host
		resp, err = send(out)
	}
	if err != nil {
		resp.Error = err.Error()
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}

func send(req *http.Request) (tryResponse, error) {
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return tryResponse{}, err
	}
	defer res.Body.Close()
	var body bytes.Buffer
	if _, err := io.Copy(&body, io.LimitReader(res.Body, maxTryBody)); err != nil {
		return tryResponse{}, err
	}
	out := tryResponse{Status: res.StatusCode, Headers: map[string]string{}, Body: body.String()}
	for k := range res.Header {
		out.Headers[k] = res.Header.Get(k)
	}
	return out, nil
}
