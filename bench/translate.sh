#!/usr/bin/env bash
# bench/translate.sh: how long a full config push of 1,000 upstreams and
# 5,000 routes takes to translate (stage 1 + stage 2), as the median of
# repeated Go benchmark runs, against the goal of 20 ms.
#
# Environment: COUNT (runs, default 10), BENCHTIME (per run, default 20x),
# GOAL_MS (default 20), RAW_OUT (keep the raw `go test` output, in
# benchstat's format, at this path).
# Exit status: 0 when the goal is met, non-zero when it is missed or the
# benchmarks fail.
set -euo pipefail

COUNT=${COUNT:-10}
BENCHTIME=${BENCHTIME:-20x}
GOAL_MS=${GOAL_MS:-20}

cd "$(dirname "${BASH_SOURCE[0]}")/.."
raw=${RAW_OUT:-$(mktemp "${TMPDIR:-/tmp}/gluon-bench-translate.XXXXXX")}
[[ -n ${RAW_OUT:-} ]] || trap 'rm -f "$raw"' EXIT

# The goal is stated for the full push; the stage-2-only benchmark is shown
# alongside to say where the time goes.
full=BenchmarkTranslate1kUpstreams5kRoutes
stage2=BenchmarkTranslateProxy1kClusters5kRoutes

# -run '^$' skips the tests; -p 1 runs the two packages' benchmarks one
# after the other (go test runs packages in parallel, and two benchmarks
# sharing 2 cores measure each other); timeout bounds a hung run.
timeout 600 go test -p 1 -run '^$' -bench "^(${full}|${stage2})\$" -benchmem \
	-count "$COUNT" -benchtime "$BENCHTIME" ./gateway/ ./xds/translator/ >"$raw"

# shellcheck source=bench/lib.sh
. bench/lib.sh

full_ns=$(median "$raw" "$full" ns/op) || { echo "no results for $full" >&2; cat "$raw" >&2; exit 1; }
stage2_ns=$(median "$raw" "$stage2" ns/op) || { echo "no results for $stage2" >&2; cat "$raw" >&2; exit 1; }
full_allocs=$(median "$raw" "$full" allocs/op)
stage2_allocs=$(median "$raw" "$stage2" allocs/op)

verdict=$(awk -v ns="$full_ns" -v goal="$GOAL_MS" 'BEGIN { print (ns / 1e6 <= goal) ? "PASS" : "FAIL" }')
ms() { awk -v ns="$1" 'BEGIN { printf "%.2f", ns / 1e6 }'; }

echo "Translation: 1,000 upstreams, 5,000 routes (median of $COUNT runs × $BENCHTIME, $(nproc) CPUs)"
echo
echo "| benchmark | median ms | goal | verdict |"
echo "|---|---|---|---|"
echo "| $full (stage 1 + 2) | $(ms "$full_ns") | ≤ ${GOAL_MS} ms | $verdict |"
echo "| $stage2 (stage 2 only) | $(ms "$stage2_ns") | (share of the above) | info |"
echo
echo "median allocs/op: full push ${full_allocs%.*}, stage 2 ${stage2_allocs%.*}"
[[ -z ${RAW_OUT:-} ]] || echo "raw output (benchstat format): $raw"
[[ $verdict == PASS ]]
