package main

import (
	"encoding/json"
	"fmt"
	"net"
	"strconv"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/gluon-gateway/gluon/api"
)

func proxyCommand(o *options) *cobra.Command {
	cmd := &cobra.Command{Use: "proxy", Short: "Work with a proxy: its URL, its served config, an Envoy bootstrap"}
	var proxy, xdsAddr, nodeID string
	cmd.PersistentFlags().StringVar(&proxy, "name", api.DefaultProxyName, "the proxy")
	url := &cobra.Command{
		Use:   "url",
		Short: "Print the URL of the proxy's HTTP gateway",
		RunE: func(*cobra.Command, []string) error {
			res, err := o.resources()
			if err != nil {
				return err
			}
			u, err := proxyURL(res, proxy)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(o.out, u)
			return err
		},
	}
	served := &cobra.Command{
		Use:   "served-config",
		Short: "Print the xDS the control plane serves (secrets redacted)",
		RunE: func(*cobra.Command, []string) error {
			var snaps []json.RawMessage
			if err := o.admin("/snapshot", &snaps); err != nil {
				return err
			}
			if o.output == "table" {
				o.output = "yaml"
			}
			return o.render(snaps, nil)
		},
	}
	bootstrap := &cobra.Command{
		Use:   "bootstrap",
		Short: "Print an Envoy bootstrap for the proxy: ADS to the control plane, Gluon's Go filter plugin",
		RunE: func(*cobra.Command, []string) error {
			b, err := envoyBootstrap(proxy, nodeID, xdsAddr)
			if err != nil {
				return err
			}
			_, err = o.out.Write(b)
			return err
		},
	}
	bootstrap.Flags().StringVar(&xdsAddr, "xds-addr", "127.0.0.1:9977", "the control plane's xDS address, as Envoy reaches it")
	bootstrap.Flags().StringVar(&nodeID, "node-id", "envoy-"+api.DefaultProxyName, "the Envoy node id")
	cmd.AddCommand(url, served, bootstrap)
	return cmd
}

// proxyURL is the first HTTP gateway of the proxy.
func proxyURL(res api.Resources, proxy string) (string, error) {
	for _, g := range res.Gateways {
		for _, p := range g.Proxies() {
			if p != proxy {
				continue
			}
			host := g.Spec.BindAddress
			if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
				host = "127.0.0.1"
			}
			return "http://" + net.JoinHostPort(host, strconv.Itoa(int(g.Spec.BindPort))), nil
		}
	}
	return "", fmt.Errorf("no gateway serves proxy %q", proxy)
}

// envoyRequestTimeBuckets are Envoy's default histogram buckets (ms), the
// ones the Gluon data plane's envoy_cluster_upstream_rq_time has.
var envoyRequestTimeBuckets = []float64{0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000}

// envoyBootstrap is a bootstrap for Envoy's contrib image: the node asks
// for its proxy (metadata role, Gloo's convention), all config comes over
// ADS from the control plane, and the golang filter loads Gluon's plugin
// from the library path the control plane names in its filter configs.
func envoyBootstrap(proxy, nodeID, xdsAddr string) ([]byte, error) {
	host, port, err := net.SplitHostPort(xdsAddr)
	if err != nil {
		return nil, fmt.Errorf("--xds-addr: %w", err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil, fmt.Errorf("--xds-addr: %w", err)
	}
	ads := map[string]any{"ads": map[string]any{}, "resource_api_version": "V3"}
	b := map[string]any{
		"node": map[string]any{"id": nodeID, "cluster": proxy, "metadata": map[string]any{"role": proxy}},
		"dynamic_resources": map[string]any{
			"ads_config": map[string]any{
				"api_type": "GRPC", "transport_api_version": "V3",
				"grpc_services": []any{map[string]any{"envoy_grpc": map[string]any{"cluster_name": "gluon_xds"}}},
			},
			"cds_config": ads, "lds_config": ads,
		},
		"static_resources": map[string]any{"clusters": []any{map[string]any{
			"name": "gluon_xds", "type": "STRICT_DNS", "connect_timeout": "5s",
			"typed_extension_protocol_options": map[string]any{"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": map[string]any{
				"@type":                "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
				"explicit_http_config": map[string]any{"http2_protocol_options": map[string]any{}},
			}},
			"load_assignment": map[string]any{"cluster_name": "gluon_xds", "endpoints": []any{map[string]any{"lb_endpoints": []any{
				map[string]any{"endpoint": map[string]any{"address": map[string]any{"socket_address": map[string]any{"address": host, "port_value": p}}}},
			}}}},
		}}},
		"admin": map[string]any{"address": map[string]any{"socket_address": map[string]any{"address": "127.0.0.1", "port_value": 19000}}},
		// Envoy's tag extraction turns its statistics into the Prometheus
		// names and labels the Gluon data plane exports
		// (envoy_cluster_upstream_rq_total{envoy_cluster_name}, ...), and
		// its request-time histograms get the same buckets, so dashboards and
		// alerts in deploy/monitoring work on either proxy.
		"stats_config": map[string]any{
			"use_all_default_tags": true,
			"histogram_bucket_settings": []any{map[string]any{
				"match":   map[string]any{"suffix": "upstream_rq_time"},
				"buckets": envoyRequestTimeBuckets,
			}},
		},
	}
	out, err := yaml.Marshal(b)
	if err != nil {
		return nil, err
	}
	header := "# Envoy bootstrap for proxy " + proxy + ". Run it with the envoyproxy/envoy:contrib image and\n" +
		"# Gluon's Go filter plugin at /etc/envoy/gluon-filters.so (go build -buildmode=c-shared ./envoy-filters/plugin).\n"
	return append([]byte(header), out...), nil
}
