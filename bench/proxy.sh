#!/usr/bin/env bash
# bench/proxy.sh: proxy CPU time per request, Gluon's Go data plane
# (`gluon dataplane`, fed by `gluon serve --dataplane=none`) against haproxy,
# on the same machine in the same run, both in front of the same backend.
# The goal is at most 1.3× haproxy's CPU µs per request.
#
# CPU time, not throughput, is compared: on a small shared machine the load
# generator and the backend compete with the proxy for cores, which moves
# requests per second far more than it moves the proxy's own CPU cost.
#
# Environment: REQUESTS (per measurement, default 50000), CONCURRENCY
# (keep-alive connections, default 32), ROUNDS (default 7), WARMUP
# (requests per proxy before measuring, default 5000), GOAL_RATIO (1.3),
# POLICIES (1 puts a CORS policy and a 0% fault abort on the route and
# circuit breakers, never reached, on the upstream, to measure what they
# cost; default 0), TLS (1 serves both proxies over TLS with the same
# ECDSA P-256 certificate, keep-alive connections), HANDSHAKE (1, with
# TLS: a new connection, so a full handshake, per request; set REQUESTS
# lower, e.g. 5000), STATS_COST (1 measures the data plane's statistics:
# it runs against the same data plane started with --stats=false instead of
# haproxy, with a goal of 1.05), TRACE_COST (1 measures OpenTelemetry
# tracing at 1% sampling: the data plane's gateway traces to a real Jaeger
# (scripts/jaeger-testenv) and runs against the same data plane serving an
# untraced gateway instead of haproxy, with a goal of 1.05), JWT_COST (1
# measures JWT verification: the data plane's route requires an ES256 token,
# which every request carries, against the same data plane's route without
# JWT; goal 1.05, the token cache making repeated tokens cheap).
# Exit status: 0 when the goal is met, non-zero when it is missed or the
# run fails (then the processes' logs are printed).
set -euo pipefail

REQUESTS=${REQUESTS:-50000}
CONCURRENCY=${CONCURRENCY:-32}
ROUNDS=${ROUNDS:-7}
WARMUP=${WARMUP:-5000}
GOAL_RATIO=${GOAL_RATIO:-1.3}
POLICIES=${POLICIES:-0}
TLS=${TLS:-0}
HANDSHAKE=${HANDSHAKE:-0}
STATS_COST=${STATS_COST:-0}
TRACE_COST=${TRACE_COST:-0}
JWT_COST=${JWT_COST:-0}
# base is what the data plane is measured against: haproxy, the data
# plane without statistics, or the data plane without tracing.
base=haproxy
if [ "$STATS_COST" = 1 ]; then
	base=nostats
	GOAL_RATIO=${GOAL_RATIO_STATS:-1.05}
elif [ "$TRACE_COST" = 1 ]; then
	base=untraced
	GOAL_RATIO=${GOAL_RATIO_TRACE:-1.05}
elif [ "$JWT_COST" = 1 ]; then
	base=nojwt
	GOAL_RATIO=${GOAL_RATIO_JWT:-1.05}
fi
# What each proxy's requests carry beyond the defaults (loadgen flags).
gluon_args=()
base_args=()
LOAD_TIMEOUT=120 # seconds for one load run
READY_TIMEOUT=30 # seconds for a process to become ready

cd "$(dirname "${BASH_SOURCE[0]}")/.."
work=$(mktemp -d "${TMPDIR:-/tmp}/gluon-bench-proxy.XXXXXX")
pids=()
measured=false

# cleanup stops every process this script started (by pid, TERM then KILL)
# and, if the run failed before measuring, shows their logs.
cleanup() {
	local rc=$? pid i
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	if ((rc != 0)) && [[ $measured == false ]]; then
		for f in "$work"/*.log; do
			[[ -e $f ]] || continue
			echo "--- $f (last 20 lines)"
			tail -n 20 "$f"
		done >&2
	fi
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT

die() {
	echo "proxy.sh: $*" >&2
	exit 1
}

# --- tools -----------------------------------------------------------------

if ! command -v haproxy >/dev/null; then
	((EUID == 0)) || die "haproxy is not installed; run: apt-get install haproxy"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y --no-install-recommends haproxy >"$work/apt.log" 2>&1; then
		apt-get update >>"$work/apt.log" 2>&1
		apt-get install -y --no-install-recommends haproxy >>"$work/apt.log" 2>&1
	fi
fi
haproxy_version=$(haproxy -v | awk 'NR == 1 { print $3 }')
clk_tck=$(getconf CLK_TCK)

mkdir -p "$work/bin"
go build -o "$work/bin/" ./cmd/gluon ./bench/cmd/backend ./bench/cmd/loadgen ./bench/cmd/freeports ./bench/cmd/jwtgen ||
	die "build failed"
bin=$work/bin

mapfile -t ports < <("$bin/freeports" -n 8)
((${#ports[@]} == 8)) || die "could not find free ports"
backend_port=${ports[0]} xds_port=${ports[1]} admin_port=${ports[2]}
gluon_port=${ports[3]} haproxy_port=${ports[4]}
otlp_port=${ports[5]} jaeger_query_port=${ports[6]} jaeger_grpc_port=${ports[7]}

# --- helpers ---------------------------------------------------------------

# start NAME CMD...: runs CMD in the background with its output in
# NAME.log; the pid is left in $started.
start() {
	local name=$1
	shift
	"$@" >"$work/$name.log" 2>&1 &
	started=$!
	pids+=("$started")
}

# wait_until PID WHAT CMD...: retries CMD until it succeeds, failing early
# if PID has exited and after READY_TIMEOUT seconds.
wait_until() {
	local pid=$1 what=$2 deadline=$((SECONDS + READY_TIMEOUT))
	shift 2
	until "$@" >/dev/null 2>&1; do
		kill -0 "$pid" 2>/dev/null || die "$what exited before it was ready"
		((SECONDS < deadline)) || die "$what not ready after ${READY_TIMEOUT}s"
		sleep 0.2
	done
}

# one_request URL [ARGS...]: a single request through the whole path, with
# the body checked, so readiness means the backend really answers through
# the proxy.
one_request() {
	"$bin/loadgen" -url "$1" -n 1 -c 1 -timeout 2s "${@:2}"
}

# load URL ARGS...: a bounded loadgen run, a new connection per request
# when HANDSHAKE=1.
load() {
	local url=$1
	shift
	if [ "$HANDSHAKE" = 1 ]; then
		set -- "$@" -new-conn
	fi
	timeout "$LOAD_TIMEOUT" "$bin/loadgen" -url "$url" "$@"
}

# cpu_ticks PID: user + system CPU time of a process, in clock ticks
# (fields 14 and 15 of /proc/PID/stat, counted after the ")" that ends the
# command name, which may itself hold spaces).
cpu_ticks() {
	local stat fields
	stat=$(<"/proc/$1/stat")
	read -r -a fields <<<"${stat##*) }"
	echo $((fields[11] + fields[12]))
}

# measure NAME PID URL: sends REQUESTS requests through a proxy and appends
# "NAME rps cpu_us_per_request" to results.
measure() {
	local name=$1 pid=$2 url=$3 before after out rps
	local -a args=("${base_args[@]}")
	[[ $name == gluon ]] && args=("${gluon_args[@]}")
	before=$(cpu_ticks "$pid")
	out=$(load "$url" -n "$REQUESTS" -c "$CONCURRENCY" "${args[@]}") ||
		die "$name: load run failed: $out"
	after=$(cpu_ticks "$pid")
	rps=$(sed -n 's/.*rps=\([0-9.]*\).*/\1/p' <<<"$out")
	awk -v name="$name" -v rps="$rps" -v ticks=$((after - before)) -v hz="$clk_tck" -v n="$REQUESTS" \
		'BEGIN { printf "%s %.0f %.2f\n", name, rps, ticks / hz * 1e6 / n }' >>"$work/results"
}

# median NAME COLUMN: the median of a column of results over NAME's rounds.
median() {
	awk -v name="$1" -v col="$2" '$1 == name { print $col }' "$work/results" | sort -g | awk '
		{ v[NR] = $1 }
		END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# paired_ratios: gluon's cpu µs/req over haproxy's in each round, one per
# line. A round measures the two back to back, so a slow phase of a shared
# machine, which moves both, cancels out of the ratio.
paired_ratios() {
	awk -v base="$base" '{ cpu[$1] = $3 } NR % 2 == 0 { printf "%.2f\n", cpu["gluon"] / cpu[base] }' "$work/results"
}

# --- processes -------------------------------------------------------------

start backend "$bin/backend" -addr "127.0.0.1:$backend_port" -body-size 100
wait_until "$started" backend one_request "http://127.0.0.1:$backend_port/"

mkdir -p "$work/config"
scheme=http
gateway_ssl=""
vs_ssl=""
haproxy_ssl=""
if [ "$TLS" = 1 ]; then
	# One ECDSA P-256 certificate for both proxies; haproxy wants it and
	# its key in one file.
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench.local \
		-addext subjectAltName=DNS:bench.local -keyout "$work/bench.key" -out "$work/bench.crt" >"$work/openssl.log" 2>&1 ||
		die "could not make the certificate"
	cat "$work/bench.crt" "$work/bench.key" >"$work/bench.pem"
	scheme=https
	gateway_ssl=", ssl: true"
	vs_ssl="  sslConfig: {sslFiles: {tlsCert: $work/bench.crt, tlsKey: $work/bench.key}, alpnProtocols: [http/1.1]}"
	haproxy_ssl=" ssl crt $work/bench.pem alpn http/1.1"
fi
route_options=""
upstream_options=""
if [ "$POLICIES" = 1 ]; then
	route_options="      options: {cors: {allowOrigin: [https://bench.example]}, faults: {abort: {percentage: 0, httpStatus: 503}}}"
	upstream_options="  circuitBreakers: {maxConnections: 1024, maxRequests: 1024}"
fi
gateway_options=""
if [ "$base" = untraced ]; then
	gateway_options="  httpGateway:
    options:
      httpConnectionManagerSettings:
        tracing:
          openTelemetryConfig: {collectorUpstreamRef: {name: jaeger}}
          tracePercentages: {randomSamplePercentage: ${TRACE_PERCENT:-1}}"
fi
cat >"$work/config/bench.yaml" <<YAML
apiVersion: gluon.dev/v1
kind: Gateway
metadata: {name: bench}
spec:
  bindAddress: 127.0.0.1
  bindPort: $gluon_port
  ssl: $([ "$TLS" = 1 ] && echo true || echo false)
$gateway_options
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: backend}
spec:
  static:
    hosts: [{addr: 127.0.0.1, port: $backend_port}]
$upstream_options
---
apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: bench}
spec:
$vs_ssl
  virtualHost:
    domains: ["*"]
    routes:
    - matchers: [{prefix: /}]
      routeAction: {single: {upstream: {name: backend}}}
$route_options
YAML
if [ "$base" = nostats ] || [ "$base" = untraced ]; then
	# The same virtual service on a second port, for a second data plane
	# (proxy bench-$base) that counts no statistics, or does not trace.
	cat >>"$work/config/bench.yaml" <<YAML
---
apiVersion: gluon.dev/v1
kind: Gateway
metadata: {name: bench-$base}
spec: {bindAddress: 127.0.0.1, bindPort: $haproxy_port$gateway_ssl, proxyNames: [bench-$base]}
YAML
fi
if [ "$base" = untraced ]; then
	# A real collector for the traced gateway.
	jaeger=$(./scripts/jaeger-testenv) || die "no jaeger"
	cat >"$work/jaeger.yaml" <<YAML
service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces: {receivers: [otlp], exporters: [jaeger_storage_exporter]}
  telemetry: {logs: {level: warn}, metrics: {level: none}}
extensions:
  jaeger_storage: {backends: {mem: {memory: {max_traces: 10000}}}}
  jaeger_query: {storage: {traces: mem}, http: {endpoint: 127.0.0.1:$jaeger_query_port}, grpc: {endpoint: 127.0.0.1:$jaeger_grpc_port}}
receivers:
  otlp: {protocols: {grpc: {endpoint: 127.0.0.1:$otlp_port}}}
exporters:
  jaeger_storage_exporter: {trace_storage: mem}
YAML
	start jaeger "$jaeger" --config "file:$work/jaeger.yaml"
	wait_until "$started" jaeger curl -fsS --max-time 1 "http://127.0.0.1:$jaeger_query_port/api/services"
	cat >>"$work/config/bench.yaml" <<YAML
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: jaeger}
spec:
  useHttp2: true
  static: {hosts: [{addr: 127.0.0.1, port: $otlp_port}]}
YAML
fi
if [ "$base" = nojwt ]; then
	# The bench virtual service requires a token, which every request to the
	# data plane carries; a second one (Host nojwt.local) requires none.
	token=$("$bin/jwtgen" -pub "$work/jwt.pub") || die "jwtgen failed"
	gluon_args=(-header "Authorization: Bearer $token")
	base_args=(-host nojwt.local)
	cat >>"$work/config/bench.yaml" <<YAML
    options:
      jwt:
        providers:
          bench:
            issuer: https://bench.local
            audiences: [bench]
            jwks:
              local:
                key: |
$(sed 's/^/                  /' "$work/jwt.pub")
---
apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: bench-nojwt}
spec:
  virtualHost:
    domains: [nojwt.local]
    routes:
    - matchers: [{prefix: /}]
      routeAction: {single: {upstream: {name: backend}}}
YAML
fi
start control-plane "$bin/gluon" serve --config-dir "$work/config" --dataplane=none \
	--xds-addr "127.0.0.1:$xds_port" --admin-addr "127.0.0.1:$admin_port" --state-dir "$work/state"
wait_until "$started" "gluon serve" curl -fsS --max-time 1 "http://127.0.0.1:$admin_port/readyz"

# The data plane runs as its own process so that its CPU time is the proxy's
# alone, not the control plane's.
start dataplane "$bin/gluon" dataplane --xds-addr "127.0.0.1:$xds_port" --proxy gateway-proxy --node-id bench
gluon_pid=$started
wait_until "$gluon_pid" "gluon dataplane" one_request "$scheme://127.0.0.1:$gluon_port/" "${gluon_args[@]}"

if [ "$base" = nostats ] || [ "$base" = untraced ]; then
	base_flags=()
	base_label="gluon dataplane, gateway untraced"
	if [ "$base" = nostats ]; then
		base_flags=(--stats=false)
		base_label="gluon dataplane --stats=false"
	fi
	start "dataplane-$base" "$bin/gluon" dataplane --xds-addr "127.0.0.1:$xds_port" --proxy "bench-$base" --node-id "bench-$base" "${base_flags[@]}"
	base_pid=$started
elif [ "$base" = nojwt ]; then
	# The same data plane, on its route without JWT.
	base_pid=$gluon_pid
	base_label="gluon dataplane, route without JWT"
	haproxy_port=$gluon_port
else
	# haproxy as it would front an API: HTTP mode, keep-alive to clients and to
	# the server (connections reused across client connections), one process
	# with as many threads as the data plane has cores to use, no logging.
	cat >"$work/haproxy.cfg" <<-CFG
	global
	    nbthread 2
	    maxconn 4096

	defaults
	    mode http
	    option http-keep-alive
	    http-reuse always
	    timeout connect 5s
	    timeout client 60s
	    timeout server 60s
	    timeout http-keep-alive 60s

	frontend bench
	    bind 127.0.0.1:$haproxy_port$haproxy_ssl
	    default_backend backend

	backend backend
	    server backend 127.0.0.1:$backend_port
	CFG
	haproxy -c -q -f "$work/haproxy.cfg" || die "invalid haproxy config"
	# -db keeps haproxy in the foreground as a single process, so $! is the
	# process that does the proxying.
	start haproxy haproxy -db -f "$work/haproxy.cfg"
	haproxy_pid=$started
	base_pid=$haproxy_pid
	base_label="haproxy $haproxy_version (nbthread 2)"
fi
wait_until "$base_pid" "$base" one_request "$scheme://127.0.0.1:$haproxy_port/" "${base_args[@]}"

# --- measurement -----------------------------------------------------------

gluon_url="$scheme://127.0.0.1:$gluon_port/"
haproxy_url="$scheme://127.0.0.1:$haproxy_port/"

# Warm up both (connection pools, Go's heap and GC pacing, caches) before
# anything is counted.
load "$gluon_url" -n "$WARMUP" -c "$CONCURRENCY" "${gluon_args[@]}" >/dev/null || die "warm-up through $gluon_url failed"
load "$haproxy_url" -n "$WARMUP" -c "$CONCURRENCY" "${base_args[@]}" >/dev/null || die "warm-up through $haproxy_url failed"

# Alternate which proxy goes first, so neither always gets the quieter slot.
: >"$work/results"
for ((round = 1; round <= ROUNDS; round++)); do
	if ((round % 2)); then
		measure gluon "$gluon_pid" "$gluon_url"
		measure "$base" "$base_pid" "$haproxy_url"
	else
		measure "$base" "$base_pid" "$haproxy_url"
		measure gluon "$gluon_pid" "$gluon_url"
	fi
done
measured=true

gluon_us=$(median gluon 3)
haproxy_us=$(median "$base" 3)
ratio=$(awk -v g="$gluon_us" -v h="$haproxy_us" 'BEGIN { printf "%.2f", g / h }')
paired=$(paired_ratios | sort -g | awk '
	{ v[NR] = $1 }
	END { printf "%.2f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
verdict=$(awk -v r="$paired" -v goal="$GOAL_RATIO" 'BEGIN { print (r <= goal) ? "PASS" : "FAIL" }')

mode="$CONCURRENCY keep-alive connections"
if [ "$HANDSHAKE" = 1 ]; then
	mode="$CONCURRENCY clients, a new connection per request"
fi
if [ "$TLS" = 1 ]; then
	mode="$mode over TLS (ECDSA P-256)"
fi
echo "Proxy CPU per request: $REQUESTS requests × $ROUNDS rounds, $mode, 100-byte responses, $(nproc) CPUs (medians)"
echo
echo "| proxy | requests | rps | cpu µs/req | vs $base |"
echo "|---|---|---|---|---|"
echo "| gluon dataplane | $REQUESTS | $(median gluon 2) | $gluon_us | ${ratio}× |"
echo "| $base_label | $REQUESTS | $(median "$base" 2) | $haproxy_us | 1.00× |"
echo
echo "per round (cpu µs/req): gluon $(awk '$1 == "gluon" { printf " %s", $3 }' "$work/results");" \
	"$base $(awk -v base="$base" '$1 == base { printf " %s", $3 }' "$work/results")"
echo "per round (gluon / $base): $(paired_ratios | tr '\n' ' ')"
echo "goal: gluon dataplane ≤ ${GOAL_RATIO}× $base cpu µs/req, median of the paired rounds → ${paired}× $verdict" \
	"(ratio of the medians: ${ratio}×)"
[[ $verdict == PASS ]]
