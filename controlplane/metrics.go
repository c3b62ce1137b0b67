package controlplane

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/fds"
	"github.com/gluon-gateway/gluon/functions"
)

// metrics are the control plane's own: how long translation takes, what
// it pushes, and (read from Status when scraped) the verdicts on
// resources, the xDS clients and discovery.
type metrics struct {
	translation *prometheus.HistogramVec
	pushes      *prometheus.CounterVec
	pushErrors  *prometheus.CounterVec
	resources   *prometheus.GaugeVec
	polls       *prometheus.CounterVec
	pollTime    *prometheus.HistogramVec
	admission   *prometheus.HistogramVec
}

func newMetrics() *metrics {
	m := &metrics{
		translation: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "gluon_translation_duration_seconds",
			Help:    "Time a translation stage takes (gateway: resources to IR; xds: IR to Envoy, per proxy).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"stage"}),
		pushes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gluon_snapshot_pushes_total",
			Help: "Snapshots set for a proxy (an unchanged one counts too)."}, []string{"proxy"}),
		pushErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gluon_snapshot_errors_total",
			Help: "Translations or snapshots refused for a proxy: it keeps its last good config."}, []string{"proxy"}),
		resources: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "gluon_snapshot_resources",
			Help: "Resources in the proxy's snapshot, by xDS type."}, []string{"proxy", "type"}),
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gluon_discovery_polls_total",
			Help: "Function discovery polls of an upstream, by outcome (found, not_mine, transient, failed)."}, []string{"upstream", "outcome"}),
		pollTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "gluon_discovery_poll_duration_seconds",
			Help:    "Time a function discovery poll takes, by outcome.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9)}, []string{"outcome"}),
		admission: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "gluon_admission_duration_seconds",
			Help:    "Time the admission webhook takes to judge an object, by verdict (allowed, denied).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"verdict"}),
	}
	// Every outcome and verdict has a series from the start, so that
	// dashboards and rate() see zeros rather than nothing.
	for _, o := range []fds.PollOutcome{fds.PollFound, fds.PollNotMine, fds.PollTransient, fds.PollFailed} {
		m.pollTime.WithLabelValues(string(o))
	}
	m.admission.WithLabelValues("allowed")
	m.admission.WithLabelValues("denied")
	return m
}

// poll counts a discovery poll.
func (m *metrics) poll(ref functions.UpstreamRef, outcome fds.PollOutcome, took time.Duration) {
	m.polls.WithLabelValues(ref.Namespace+"/"+ref.Name, string(outcome)).Inc()
	m.pollTime.WithLabelValues(string(outcome)).Observe(took.Seconds())
}

func (m *metrics) stage(stage string, start time.Time) {
	m.translation.WithLabelValues(stage).Observe(time.Since(start).Seconds())
}

var (
	descResources  = prometheus.NewDesc("gluon_resources", "User resources by kind and verdict.", []string{"kind", "state"}, nil)
	descClients    = prometheus.NewDesc("gluon_xds_clients", "xDS streams connected, by proxy.", []string{"proxy"}, nil)
	descNacking    = prometheus.NewDesc("gluon_xds_nacks", "Connected clients whose last answer for a type is a NACK.", []string{"proxy", "type"}, nil)
	descFunctions  = prometheus.NewDesc("gluon_discovery_functions", "Functions discovery found on an upstream.", []string{"upstream"}, nil)
	descDiscoveryE = prometheus.NewDesc("gluon_discovery_failing", "1 when an upstream's last function discovery failed.", []string{"upstream"}, nil)
	descReady      = prometheus.NewDesc("gluon_ready", "1 once a good snapshot is served.", nil, nil)
	descXDSAnswers = prometheus.NewDesc("gluon_xds_answers_total", "ACKs and NACKs xDS clients sent, by type.", []string{"type", "answer"}, nil)
	descRLSAnswers = prometheus.NewDesc("gluon_ratelimit_decisions_total", "Rate limit service decisions, by code (OK, OVER_LIMIT).", []string{"code"}, nil)
	descRLSErrors  = prometheus.NewDesc("gluon_ratelimit_errors_total",
		"Rate limit calls answered with an error: invalid requests, and the counters' backend (Redis) failing.", []string{"reason"}, nil)
)

// statusCollector reads what /statusz shows, at scrape time.
type statusCollector struct{ p *Pipeline }

func (c statusCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descResources, descClients, descNacking, descFunctions, descDiscoveryE, descReady, descXDSAnswers, descRLSAnswers, descRLSErrors} {
		ch <- d
	}
}

func (c statusCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.p.Status()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	ready := 0.0
	if st.Ready {
		ready = 1
	}
	gauge(descReady, ready)
	for typ, n := range c.p.XDSAnswers() {
		ch <- prometheus.MustNewConstMetric(descXDSAnswers, prometheus.CounterValue, float64(n.ACKs), typ, "ack")
		ch <- prometheus.MustNewConstMetric(descXDSAnswers, prometheus.CounterValue, float64(n.NACKs), typ, "nack")
	}
	if rls := c.p.RateLimit; rls != nil {
		n := rls.Counts()
		counter := func(d *prometheus.Desc, v uint64, label string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), label)
		}
		counter(descRLSAnswers, n.OK, "OK")
		counter(descRLSAnswers, n.OverLimit, "OVER_LIMIT")
		counter(descRLSErrors, n.Invalid, "invalid")
		counter(descRLSErrors, n.BackendErrors, "backend")
	}
	type kindState struct {
		kind  api.Kind
		state api.State
	}
	counts := map[kindState]int{}
	for _, r := range st.Reports {
		counts[kindState{r.Key.Kind, r.State}]++
	}
	for k, n := range counts {
		gauge(descResources, float64(n), string(k.kind), string(k.state))
	}
	clients, nacks := map[string]int{}, map[[2]string]int{}
	for _, cl := range st.Clients {
		clients[cl.Proxy]++
		for typ, ts := range cl.Types {
			k := [2]string{cl.Proxy, typ}
			nacks[k] += 0 // a type every client accepts is a 0, not a missing series
			if ts.Nack != "" {
				nacks[k]++
			}
		}
	}
	for proxy, n := range clients {
		gauge(descClients, float64(n), proxy)
	}
	for k, n := range nacks {
		gauge(descNacking, float64(n), k[0], k[1])
	}
	// Every upstream has a series: 0 functions until discovery finds some.
	found, failing := map[string]float64{}, map[string]float64{}
	for _, r := range st.Reports {
		if r.Key.Kind == api.KindUpstream {
			found[r.Key.Namespace+"/"+r.Key.Name], failing[r.Key.Namespace+"/"+r.Key.Name] = 0, 0
		}
	}
	for _, d := range st.Functions {
		name := d.Upstream.Namespace + "/" + d.Upstream.Name
		found[name] = float64(len(d.Functions))
		if d.Error != "" {
			failing[name] = 1
		}
	}
	for name, n := range found {
		gauge(descFunctions, n, name)
		gauge(descDiscoveryE, failing[name], name)
	}
}

// MetricsHandler serves the control plane's metrics, and those of the
// collectors given (the embedded data plane's, say), in Prometheus's
// text format.
func (p *Pipeline) MetricsHandler(more ...prometheus.Collector) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(p.metrics.translation, p.metrics.pushes, p.metrics.pushErrors, p.metrics.resources,
		p.metrics.polls, p.metrics.pollTime, p.metrics.admission, statusCollector{p})
	reg.MustRegister(more...)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
