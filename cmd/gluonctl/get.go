package main

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/controlplane"
	"github.com/gluon-gateway/gluon/functions"
	"github.com/gluon-gateway/gluon/gateway"
	"github.com/gluon-gateway/gluon/xds/server"
)

// statusDoc is the control plane's /statusz, and where it was read.
type statusDoc struct {
	controlplane.Status
	// storedIn, when set, says where the verdicts were read instead, the
	// admin endpoint being out of reach: the cluster's resource status,
	// or Consul's status prefix.
	storedIn string
}

func (s *statusDoc) report(k api.Key) *api.Report {
	for i := range s.Reports {
		if s.Reports[i].Key == k {
			return &s.Reports[i]
		}
	}
	return nil
}

func (s *statusDoc) functionsOf(ns, name string) *functions.Discovered {
	for i := range s.Functions {
		if u := s.Functions[i].Upstream; u.Namespace == ns && u.Name == name {
			return &s.Functions[i]
		}
	}
	return nil
}

// status reads /statusz (or, in Kubernetes mode, the resources' status);
// without either, status columns say so.
func (o *options) status() *statusDoc {
	st, err := o.statusOrCluster()
	if err != nil {
		fmt.Fprintln(o.errOut, "warning: no status:", err)
		return &statusDoc{}
	}
	return st
}

// statusOrCluster reads the admin endpoint; when it is out of reach (Gluon
// runs elsewhere), the verdicts its leader stored stand in: in Kubernetes
// mode the resources' status, in Consul mode the status prefix.
func (o *options) statusOrCluster() (*statusDoc, error) {
	var st statusDoc
	err := o.admin("/statusz", &st)
	if err == nil {
		return &st, nil
	}
	var stored *statusDoc
	var serr error
	switch {
	case o.kubeconfig != "":
		stored, serr = kubeStatus(o.kubeconfig)
	case o.consulAddr != "":
		stored, serr = consulStatus(o.consulAddr, o.consulPrefix)
	default:
		return &st, err
	}
	if serr != nil {
		return nil, errors.Join(err, serr)
	}
	return stored, nil
}

func consulStatus(addr, prefix string) (*statusDoc, error) {
	s, err := newConsulStore(addr, prefix)
	if err != nil {
		return nil, err
	}
	return s.status()
}

func kubeStatus(kubeconfig string) (*statusDoc, error) {
	s, err := newKubeStore(kubeconfig)
	if err != nil {
		return nil, err
	}
	reports, err := s.statusReports()
	if err != nil {
		return nil, err
	}
	return &statusDoc{Status: controlplane.Status{Ready: len(reports) > 0, Reports: reports}, storedIn: "the cluster's status"}, nil
}

func stateOf(st *statusDoc, k api.Key) string {
	if r := st.report(k); r != nil {
		return string(r.State)
	}
	return "Unknown"
}

func getCommand(o *options) *cobra.Command {
	cmd := &cobra.Command{Use: "get", Short: "Show resources, functions, routes and proxies"}
	var vsName string
	routes := &cobra.Command{Use: "routes", Aliases: []string{"route"}, Short: "Show the routes of a virtual service, or of every one", RunE: func(*cobra.Command, []string) error {
		if vsName == "" {
			return o.allRoutes()
		}
		vs, err := o.virtualService(vsName, false)
		if err != nil {
			return err
		}
		return o.render(vs.Spec.VirtualHost.Routes, func(w io.Writer) error { return routesTable(vs.Spec.VirtualHost.Routes).write(w) })
	}}
	routes.Flags().StringVar(&vsName, "name", "", "the virtual service (default: every one)")
	cmd.AddCommand(
		toolsCommand(o),
		&cobra.Command{Use: "upstreams", Aliases: []string{"upstream", "us"}, Short: "Show upstreams with their discovered functions", RunE: func(*cobra.Command, []string) error {
			res, err := o.resources()
			if err != nil {
				return err
			}
			return o.render(res.Upstreams, func(w io.Writer) error { return upstreamsTable(res.Upstreams, o.status()).write(w) })
		}},
		&cobra.Command{Use: "functions", Aliases: []string{"function", "fn"}, Short: "Show discovered functions", RunE: func(*cobra.Command, []string) error {
			st := o.status()
			return o.render(st.Functions, func(w io.Writer) error { return functionsTable(st.Functions).write(w) })
		}},
		&cobra.Command{Use: "virtualservices", Aliases: []string{"virtualservice", "vs"}, Short: "Show virtual services", RunE: func(*cobra.Command, []string) error {
			res, err := o.resources()
			if err != nil {
				return err
			}
			return o.render(res.VirtualServices, func(w io.Writer) error { return virtualServicesTable(res.VirtualServices, o.status()).write(w) })
		}},
		routes,
		&cobra.Command{Use: "secrets", Aliases: []string{"secret"}, Short: "Show secrets (names and types, never values)", RunE: func(*cobra.Command, []string) error {
			res, err := o.resources()
			if err != nil {
				return err
			}
			rows := secretRows(res.Secrets)
			return o.render(rows, func(w io.Writer) error { return secretsTable(rows).write(w) })
		}},
		&cobra.Command{Use: "proxy", Aliases: []string{"proxies"}, Short: "Show the proxies served and their xDS clients", RunE: func(*cobra.Command, []string) error {
			var st statusDoc
			if err := o.admin("/statusz", &st); err != nil {
				return err
			}
			return o.render(st.Snapshots, func(w io.Writer) error { return proxiesTable(&st).write(w) })
		}},
	)
	return cmd
}

// virtualServiceRoutes are a virtual service's routes, as the routes of
// every virtual service are shown in YAML and JSON.
type virtualServiceRoutes struct {
	VirtualService string      `json:"virtualService"`
	Routes         []api.Route `json:"routes"`
}

// allRoutes shows the routes of every virtual service, each table headed
// by its virtual service.
func (o *options) allRoutes() error {
	res, err := o.resources()
	if err != nil {
		return err
	}
	all := make([]virtualServiceRoutes, 0, len(res.VirtualServices))
	for _, vs := range res.VirtualServices {
		all = append(all, virtualServiceRoutes{VirtualService: vs.Namespace + "/" + vs.Name, Routes: vs.Spec.VirtualHost.Routes})
	}
	return o.render(all, func(w io.Writer) error {
		if len(all) == 0 {
			_, err := fmt.Fprintln(w, "no virtual services")
			return err
		}
		for i, vs := range all {
			if i > 0 {
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "Virtual service %s:\n", vs.VirtualService)
			if err := routesTable(vs.Routes).write(w); err != nil {
				return err
			}
		}
		return nil
	})
}

func (o *options) resources() (api.Resources, error) {
	s, err := o.store()
	if err != nil {
		return api.Resources{}, err
	}
	return s.resources()
}

func upstreamsTable(us []*api.Upstream, st *statusDoc) *table {
	t := &table{headers: []string{"UPSTREAM", "TYPE", "STATUS", "DETAILS"}}
	for _, u := range us {
		typ, details := upstreamDetails(u)
		details = append(details, breakerDetails(u.Spec.CircuitBreakers)...)
		details = append(details, resilienceDetails(&u.Spec)...)
		details = append(details, st.endpointHealth(gateway.ClusterName(api.ResourceRef{Name: u.Name, Namespace: u.Namespace}))...)
		if d := st.functionsOf(u.Namespace, u.Name); d != nil {
			if len(d.Functions) > 0 {
				details = append(details, "functions: "+strconv.Itoa(len(d.Functions)))
				for _, n := range d.Names() {
					details = append(details, "- "+n)
				}
			}
			if d.Error != "" {
				details = append(details, "discovery error: "+d.Error)
			}
		}
		t.add(u.Name, typ, stateOf(st, api.KeyOf(u)), strings.Join(details, "\n"))
	}
	return t
}

// breakerDetails shows an upstream's circuit breakers, those it sets.
func breakerDetails(cb *api.CircuitBreakerConfig) []string {
	if cb == nil {
		return nil
	}
	var parts []string
	for _, f := range []struct {
		name string
		v    *uint32
	}{{"connections", cb.MaxConnections}, {"pending", cb.MaxPendingRequests}, {"requests", cb.MaxRequests}, {"retries", cb.MaxRetries}} {
		if f.v != nil {
			parts = append(parts, "max "+f.name+" "+strconv.FormatUint(uint64(*f.v), 10))
		}
	}
	return []string{"circuit breakers: " + strings.Join(parts, ", ")}
}

// upstreamDetails is glooctl's TYPE and first DETAILS lines.
func upstreamDetails(u *api.Upstream) (string, []string) {
	if a := u.Spec.AWS; a != nil {
		details := []string{"region: " + a.Region}
		if a.SecretRef != nil {
			details = append(details, "secret: "+a.SecretRef.Ref(u.Namespace).String())
		}
		if a.Endpoint != "" {
			details = append(details, "endpoint: "+a.Endpoint)
		}
		return "AWS Lambda", details
	}
	if a := u.Spec.Azure; a != nil {
		details := []string{"function app: " + a.FunctionAppName}
		if a.SecretRef != nil {
			details = append(details, "secret: "+a.SecretRef.Ref(u.Namespace).String())
		}
		return "Azure", details
	}
	if k := u.Spec.Kube; k != nil {
		details := []string{"svc name: " + k.ServiceName, "svc namespace: " + k.ServiceNamespace, "port: " + strconv.Itoa(int(k.ServicePort))}
		return "Kubernetes", details
	}
	if c := u.Spec.Consul; c != nil {
		details := []string{"service: " + c.ServiceName}
		if len(c.ServiceTags) > 0 {
			details = append(details, "tags: "+strings.Join(c.ServiceTags, ","))
		}
		if len(c.DataCenters) > 0 {
			details = append(details, "datacenters: "+strings.Join(c.DataCenters, ","))
		}
		return "Consul", details
	}
	var details []string
	for _, h := range u.Spec.Static.Hosts {
		details = append(details, "- "+h.Addr+":"+strconv.Itoa(int(h.Port)))
	}
	return "Static", details
}

func functionsTable(ds []functions.Discovered) *table {
	t := &table{headers: []string{"UPSTREAM", "FUNCTION", "KIND", "METHOD", "PATH"}}
	for _, d := range ds {
		for _, f := range d.Functions {
			method, path := "", ""
			switch {
			case f.REST != nil:
				method, path = f.REST.Method, f.REST.Path
			case f.GRPC != nil:
				method, path = grpcCallKind(f.GRPC), "/"+f.GRPC.Service+"/"+f.GRPC.Method
			}
			t.add(d.Upstream.Name, f.Name, string(f.Kind), method, path)
		}
	}
	return t
}

func virtualServicesTable(vss []*api.VirtualService, st *statusDoc) *table {
	t := &table{headers: []string{"VIRTUAL SERVICE", "DISPLAY NAME", "DOMAINS", "ROUTES", "STATUS"}}
	for _, vs := range vss {
		domains := vs.Spec.VirtualHost.Domains
		if len(domains) == 0 {
			domains = []string{"*"}
		}
		t.add(vs.Name, vs.Spec.DisplayName, strings.Join(domains, "\n"), strconv.Itoa(len(vs.Spec.VirtualHost.Routes)), stateOf(st, api.KeyOf(vs)))
	}
	return t
}

func routesTable(routes []api.Route) *table {
	t := &table{headers: []string{"ID", "MATCHER", "PATH", "METHODS", "HEADERS", "ACTION"}}
	for i, r := range routes {
		ms := r.Matchers
		if len(ms) == 0 {
			ms = []api.Matcher{{Prefix: "/"}}
		}
		for _, m := range ms {
			kind, path := "Prefix", m.Prefix
			switch {
			case m.Exact != "":
				kind, path = "Exact", m.Exact
			case m.Regex != "":
				kind, path = "Regex", m.Regex
			}
			var headers []string
			for _, h := range m.Headers {
				headers = append(headers, h.Name+"="+h.Value)
			}
			t.add(strconv.Itoa(i+1), kind, path, strings.Join(m.Methods, ","), strings.Join(headers, "\n"), action(r))
		}
	}
	return t
}

func action(r api.Route) string {
	switch {
	case r.RedirectAction != nil:
		return "redirect"
	case r.DirectResponseAction != nil:
		return "direct response " + strconv.Itoa(int(r.DirectResponseAction.Status))
	case r.RouteAction == nil:
		return ""
	case r.RouteAction.Multi != nil:
		var parts []string
		for _, d := range r.RouteAction.Multi.Destinations {
			parts = append(parts, d.Destination.Upstream.Name+" ("+strconv.Itoa(int(d.Weight))+")")
		}
		return "split: " + strings.Join(parts, ", ")
	case r.RouteAction.MCP != nil:
		return "MCP server: " + mcpUpstreams(r.RouteAction.MCP)
	}
	d := r.RouteAction.Single
	if d.DestinationSpec != nil && d.DestinationSpec.Rest != nil {
		return d.Upstream.Name + " function " + d.DestinationSpec.Rest.FunctionName
	}
	return d.Upstream.Name
}

func proxiesTable(st *statusDoc) *table {
	t := &table{headers: []string{"PROXY", "VERSION", "CLIENTS"}}
	for _, s := range st.Snapshots {
		var clients []string
		for _, c := range st.Clients {
			if c.Proxy == s.Proxy {
				clients = append(clients, c.NodeID+ackSummary(c, s.Versions))
			}
		}
		sort.Strings(clients)
		t.add(s.Proxy, s.Version, strings.Join(clients, "\n"))
	}
	return t
}

// ackSummary says whether a client acknowledged the version served.
// ackSummary compares what a client acknowledged with what is served,
// type by type: each type has its own version.
func ackSummary(c server.Client, versions map[string]string) string {
	types := make([]string, 0, len(c.Types))
	for typ := range c.Types {
		types = append(types, typ)
	}
	sort.Strings(types)
	for _, typ := range types {
		ts := c.Types[typ]
		if ts.Nack != "" {
			return " (NACKed " + shortType(typ) + ": " + ts.Nack + ")"
		}
		if ts.AckedVersion != versions[typ] {
			return " (behind: " + shortType(typ) + " at " + ts.AckedVersion + ")"
		}
	}
	return " (up to date)"
}

func shortType(typeURL string) string { return typeURL[strings.LastIndex(typeURL, ".")+1:] }

// secretRow is what gluonctl shows of a secret: never its values.
type secretRow struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Type      string `json:"type"`
}

func secretRows(secrets []*api.Secret) []secretRow {
	rows := make([]secretRow, 0, len(secrets))
	for _, s := range secrets {
		typ := "unknown"
		switch {
		case s.Spec.AWS != nil:
			typ = "aws"
		case s.Spec.Azure != nil:
			typ = "azure"
		case s.Spec.TLS != nil:
			typ = "tls"
		case s.Spec.Header != nil:
			typ = "header"
		case s.Spec.APIKey != nil:
			typ = "apiKey"
		case s.Spec.Htpasswd != nil:
			typ = "htpasswd"
		}
		rows = append(rows, secretRow{Namespace: s.Namespace, Name: s.Name, Type: typ})
	}
	return rows
}

func secretsTable(rows []secretRow) *table {
	t := &table{headers: []string{"SECRET", "TYPE"}}
	for _, r := range rows {
		t.add(r.Name, r.Type)
	}
	return t
}

// mcpUpstreams names what an MCP route exposes.
func mcpUpstreams(m *api.MCPAction) string {
	var parts []string
	for _, u := range m.Upstreams {
		parts = append(parts, u.Name)
	}
	if len(m.UpstreamSelector) > 0 {
		parts = append(parts, "upstreams labelled "+labelsText(m.UpstreamSelector))
	}
	return strings.Join(parts, ", ")
}

func labelsText(labels map[string]string) string {
	var kv []string
	for k, v := range labels {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}

// grpcCallKind names a gRPC method's shape: unary or which way it streams.
func grpcCallKind(g *functions.GRPCFunction) string {
	switch {
	case g.ClientStreaming && g.ServerStreaming:
		return "bidi-stream"
	case g.ClientStreaming:
		return "client-stream"
	case g.ServerStreaming:
		return "server-stream"
	}
	return "unary"
}
