package dataplane

import (
	"bufio"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The data plane's statistics carry Envoy's names and labels, as Envoy's
// /stats/prometheus writes them, so that dashboards and alerts made for
// Envoy work on either. Requests count into plain atomics (a few per
// request); Prometheus reads them only when it scrapes.

// rqTimeBuckets are Envoy's default histogram buckets, in milliseconds.
var rqTimeBuckets = []float64{0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000}

// latency is a histogram of durations in Envoy's millisecond buckets.
type latency struct {
	counts    [20]atomic.Uint64 // per bucket, the last for +Inf
	sumMicros atomic.Uint64
}

func (h *latency) observe(d time.Duration) {
	ms := float64(d) / float64(time.Millisecond)
	i, _ := slices.BinarySearch(rqTimeBuckets, ms)
	h.counts[i].Add(1)
	h.sumMicros.Add(uint64(d / time.Microsecond))
}

// constHistogram is the histogram as Prometheus wants it: cumulative.
func (h *latency) constHistogram(desc *prometheus.Desc, labels ...string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(rqTimeBuckets))
	var total uint64
	for i, le := range rqTimeBuckets {
		total += h.counts[i].Load()
		buckets[le] = total
	}
	total += h.counts[len(rqTimeBuckets)].Load()
	return prometheus.MustNewConstHistogram(desc, total, float64(h.sumMicros.Load())/1000, buckets, labels...)
}

// codeClasses counts responses by class: index 1 for 1xx to 5 for 5xx.
type codeClasses [6]atomic.Uint64

func (c *codeClasses) add(status int) {
	if class := status / 100; class >= 1 && class <= 5 {
		c[class].Add(1)
	}
}

// clusterStats are one cluster's (Envoy's cluster.<name>.*).
type clusterStats struct {
	rq       codeClasses
	rqActive atomic.Int64
	// cxActive counts the open connections of the cluster's HTTP clients.
	cxActive atomic.Int64
	retry    atomic.Uint64
	timeout  atomic.Uint64
	overflow atomic.Uint64
	// overLimit counts requests the global rate limit refused on routes to
	// this cluster (Envoy's cluster.<name>.ratelimit.over_limit).
	overLimit atomic.Uint64
	rqTime    latency
}

// httpStats are a connection manager's (Envoy's http.<prefix>.*).
type httpStats struct {
	rq           codeClasses
	localLimited atomic.Uint64
	// all are every statistic, for the filters that count functions.
	all *stats
}

// The counting methods do nothing on nil statistics: a data plane
// started with its statistics off pays for no atomic on the request path.

func (c *clusterStats) begin() {
	if c != nil {
		c.rqActive.Add(1)
	}
}

func (c *clusterStats) end() {
	if c != nil {
		c.rqActive.Add(-1)
	}
}

func (c *clusterStats) response(status int) {
	if c != nil {
		c.rq.add(status)
	}
}

func (c *clusterStats) took(start time.Time) {
	if c != nil {
		c.rqTime.observe(time.Since(start))
	}
}

func (c *clusterStats) retried() {
	if c != nil {
		c.retry.Add(1)
	}
}

func (c *clusterStats) timedOut() {
	if c != nil {
		c.timeout.Add(1)
	}
}

func (c *clusterStats) overflowed() {
	if c != nil {
		c.overflow.Add(1)
	}
}

func (c *clusterStats) overLimited() {
	if c != nil {
		c.overLimit.Add(1)
	}
}

func (h *httpStats) response(status int) {
	if h != nil {
		h.rq.add(status)
	}
}

func (h *httpStats) limited() {
	if h != nil {
		h.localLimited.Add(1)
	}
}

// routeStats are one route's (Envoy's vhost.<vh>.route.<prefix>.*), for
// routes with a stat prefix.
type routeStats struct {
	rq     codeClasses
	rqTime latency
}

func (r *routeStats) response(status int, start time.Time) {
	if r != nil {
		r.rq.add(status)
		r.rqTime.observe(time.Since(start))
	}
}

// routeKey names a route's statistics: its virtual host and stat prefix.
type routeKey struct{ vhost, prefix string }

// routes are the statistics of a route table's routes that have a stat
// prefix, by route number; nil with statistics off.
func (h *httpStats) routes(rt *routeTable) []*routeStats {
	if h == nil || rt == nil {
		return nil
	}
	out := make([]*routeStats, rt.nroutes)
	h.all.mu.Lock()
	defer h.all.mu.Unlock()
	for _, vh := range rt.vhosts {
		for _, cr := range vh.routes {
			if cr.statPrefix == "" {
				continue
			}
			k := routeKey{vh.name, cr.statPrefix}
			if h.all.routes[k] == nil {
				h.all.routes[k] = &routeStats{}
			}
			out[cr.idx] = h.all.routes[k]
		}
	}
	return out
}

// RouteCounts are a route's requests and those answered 5xx.
type RouteCounts struct {
	Requests uint64 `json:"requests"`
	Errors   uint64 `json:"errors"`
}

// RouteCounts are the counts of every route with a stat prefix, by the
// prefix (Gluon names it after the route); nil with statistics off.
func (d *DataPlane) RouteCounts() map[string]RouteCounts {
	if d.stats == nil {
		return nil
	}
	d.stats.mu.Lock()
	defer d.stats.mu.Unlock()
	out := make(map[string]RouteCounts, len(d.stats.routes))
	for k, r := range d.stats.routes {
		c := out[k.prefix]
		c.Requests += r.rq.total()
		c.Errors += r.rq[5].Load()
		out[k.prefix] = c
	}
	return out
}

// functionStats are one function's calls (Gluon's own: Envoy has none).
type functionStats struct {
	invocations atomic.Uint64
	errors      atomic.Uint64
	throttles   atomic.Uint64
	latency     latency
}

// record counts a call's outcome: the status it was answered with.
func (f *functionStats) record(status int, took time.Duration) {
	switch {
	case status == http.StatusTooManyRequests:
		f.throttles.Add(1)
	case status >= 500:
		f.errors.Add(1)
	}
	f.latency.observe(took)
}

// functionKey names a function: its upstream, name and kind (rest,
// lambda, azure).
type functionKey struct{ upstream, function, kind string }

// stats holds every statistic, by name, for the data plane's life: a
// cluster replaced by a CDS update keeps counting where it was.
type stats struct {
	// cxActive counts the open downstream connections when scraped.
	cxActive  func() int64
	mu        sync.Mutex
	clusters  map[string]*clusterStats
	http      map[string]*httpStats
	functions map[functionKey]*functionStats
	routes    map[routeKey]*routeStats
}

func newStats() *stats {
	return &stats{clusters: map[string]*clusterStats{}, http: map[string]*httpStats{}, functions: map[functionKey]*functionStats{},
		routes: map[routeKey]*routeStats{}}
}

func (s *stats) cluster(name string) *clusterStats {
	if s == nil {
		return nil // statistics off
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.clusters[name]
	if c == nil {
		c = &clusterStats{}
		s.clusters[name] = c
	}
	return c
}

// connections is the open-connections gauge of a cluster's clients; nil
// with statistics off.
func (s *stats) connections(cluster string) *atomic.Int64 {
	if s == nil {
		return nil
	}
	return &s.cluster(cluster).cxActive
}

func (s *stats) connectionManager(prefix string) *httpStats {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.http[prefix]
	if h == nil {
		h = &httpStats{all: s}
		s.http[prefix] = h
	}
	return h
}

func (s *stats) function(k functionKey) *functionStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.functions[k]
	if f == nil {
		f = &functionStats{}
		s.functions[k] = f
	}
	return f
}

var (
	clusterLabels  = []string{"envoy_cluster_name"}
	classLabels    = []string{"envoy_response_code_class", "envoy_cluster_name"}
	hcmLabels      = []string{"envoy_http_conn_manager_prefix"}
	hcmClassLabels = []string{"envoy_response_code_class", "envoy_http_conn_manager_prefix"}
	functionLabels = []string{"upstream", "function", "kind"}
	routeLabels    = []string{"envoy_virtual_host", "envoy_route"}
	routeClass     = []string{"envoy_response_code_class", "envoy_virtual_host", "envoy_route"}

	descUpstreamRqXX      = prometheus.NewDesc("envoy_cluster_upstream_rq_xx", "Upstream responses by code class.", classLabels, nil)
	descUpstreamRqTotal   = prometheus.NewDesc("envoy_cluster_upstream_rq_total", "Upstream requests.", clusterLabels, nil)
	descUpstreamRqActive  = prometheus.NewDesc("envoy_cluster_upstream_rq_active", "Upstream requests in flight.", clusterLabels, nil)
	descUpstreamCxActive  = prometheus.NewDesc("envoy_cluster_upstream_cx_active", "Upstream connections open.", clusterLabels, nil)
	descUpstreamRqRetry   = prometheus.NewDesc("envoy_cluster_upstream_rq_retry", "Upstream request retries.", clusterLabels, nil)
	descUpstreamRqTimeout = prometheus.NewDesc("envoy_cluster_upstream_rq_timeout", "Upstream requests that timed out.", clusterLabels, nil)
	descUpstreamOverflow  = prometheus.NewDesc("envoy_cluster_upstream_rq_pending_overflow", "Requests the circuit breakers turned away.", clusterLabels, nil)
	descOverLimit         = prometheus.NewDesc("envoy_cluster_ratelimit_over_limit", "Requests the global rate limit refused.", clusterLabels, nil)
	descUpstreamRqTime    = prometheus.NewDesc("envoy_cluster_upstream_rq_time", "Upstream request time, in milliseconds.", clusterLabels, nil)
	descDownstreamRqXX    = prometheus.NewDesc("envoy_http_downstream_rq_xx", "Downstream responses by code class.", hcmClassLabels, nil)
	descDownstreamRqTotal = prometheus.NewDesc("envoy_http_downstream_rq_total", "Downstream requests.", hcmLabels, nil)
	descDownstreamCx      = prometheus.NewDesc("envoy_http_downstream_cx_active", "Downstream connections open.", hcmLabels, nil)
	descLocalLimited      = prometheus.NewDesc("envoy_http_local_rate_limit_rate_limited", "Requests the local rate limit refused.", hcmLabels, nil)
	descFnInvocations     = prometheus.NewDesc("gluon_function_invocations_total", "Function calls.", functionLabels, nil)
	descFnErrors          = prometheus.NewDesc("gluon_function_errors_total", "Function calls that failed (5xx, a function error).", functionLabels, nil)
	descFnThrottles       = prometheus.NewDesc("gluon_function_throttles_total", "Function calls the cloud throttled (429).", functionLabels, nil)
	descFnLatency         = prometheus.NewDesc("gluon_function_latency", "Function call time, in milliseconds.", functionLabels, nil)
	descRouteRqXX         = prometheus.NewDesc("envoy_vhost_route_upstream_rq_xx", "A route's responses by code class.", routeClass, nil)
	descRouteRqCompleted  = prometheus.NewDesc("envoy_vhost_route_upstream_rq_completed", "A route's requests.", routeLabels, nil)
	descRouteRqTime       = prometheus.NewDesc("envoy_vhost_route_upstream_rq_time", "A route's request time, in milliseconds.", routeLabels, nil)
)

// Describe implements prometheus.Collector.
func (s *stats) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descUpstreamRqXX, descUpstreamRqTotal, descUpstreamRqActive, descUpstreamCxActive, descUpstreamRqRetry, descUpstreamRqTimeout,
		descUpstreamOverflow, descOverLimit, descUpstreamRqTime, descDownstreamRqXX, descDownstreamRqTotal, descDownstreamCx, descLocalLimited,
		descFnInvocations, descFnErrors, descFnThrottles, descFnLatency, descRouteRqXX, descRouteRqCompleted, descRouteRqTime} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (s *stats) Collect(ch chan<- prometheus.Metric) {
	s.mu.Lock()
	defer s.mu.Unlock()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	for name, c := range s.clusters {
		counter(descUpstreamRqTotal, c.rq.total(), name)
		for class := 1; class <= 5; class++ {
			counter(descUpstreamRqXX, c.rq[class].Load(), strconv.Itoa(class), name)
		}
		gauge(descUpstreamRqActive, c.rqActive.Load(), name)
		gauge(descUpstreamCxActive, c.cxActive.Load(), name)
		counter(descUpstreamRqRetry, c.retry.Load(), name)
		counter(descUpstreamRqTimeout, c.timeout.Load(), name)
		counter(descUpstreamOverflow, c.overflow.Load(), name)
		counter(descOverLimit, c.overLimit.Load(), name)
		ch <- c.rqTime.constHistogram(descUpstreamRqTime, name)
	}
	for prefix, h := range s.http {
		counter(descDownstreamRqTotal, h.rq.total(), prefix)
		for class := 1; class <= 5; class++ {
			counter(descDownstreamRqXX, h.rq[class].Load(), strconv.Itoa(class), prefix)
		}
		if s.cxActive != nil {
			gauge(descDownstreamCx, s.cxActive(), prefix) // all connection managers' connections: Gluon's share "http"
		}
		counter(descLocalLimited, h.localLimited.Load(), prefix)
	}
	for k, r := range s.routes {
		counter(descRouteRqCompleted, r.rq.total(), k.vhost, k.prefix)
		for class := 1; class <= 5; class++ {
			counter(descRouteRqXX, r.rq[class].Load(), strconv.Itoa(class), k.vhost, k.prefix)
		}
		ch <- r.rqTime.constHistogram(descRouteRqTime, k.vhost, k.prefix)
	}
	for k, f := range s.functions {
		counter(descFnInvocations, f.invocations.Load(), k.upstream, k.function, k.kind)
		counter(descFnErrors, f.errors.Load(), k.upstream, k.function, k.kind)
		counter(descFnThrottles, f.throttles.Load(), k.upstream, k.function, k.kind)
		ch <- f.latency.constHistogram(descFnLatency, k.upstream, k.function, k.kind)
	}
}

func (c *codeClasses) total() uint64 {
	var n uint64
	for i := 1; i <= 5; i++ {
		n += c[i].Load()
	}
	return n
}

// MetricsHandler serves the data plane's statistics in Prometheus's text
// format, as Envoy's admin /stats/prometheus does (none when they are off).
func (d *DataPlane) MetricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(d.Stats())
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

// Stats is the data plane's statistics as a Prometheus collector, for a
// process that serves them with its own.
func (d *DataPlane) Stats() prometheus.Collector {
	if d.stats == nil {
		return noStats{}
	}
	return d.stats
}

// noStats is the collector of a data plane whose statistics are off.
type noStats struct{}

func (noStats) Describe(chan<- *prometheus.Desc) {}
func (noStats) Collect(chan<- prometheus.Metric) {}

// statusWriter notes the status a response went out with.
type statusWriter struct {
	http.ResponseWriter
	code  int
	bytes int64 // body bytes written
	grpc  grpcReplies
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 && code >= 200 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// status is the response's status; 200 when the handler wrote nothing.
func (w *statusWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack hands over the connection, as the server's writer does (a
// WebSocket after its 101).
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	return hj.Hijack()
}
