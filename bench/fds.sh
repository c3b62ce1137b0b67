#!/usr/bin/env bash
# bench/fds.sh: OpenAPI function discovery on a real document, GitHub's REST
# API description (npm @octokit/openapi 23.0.2, generated/api.github.com.json:
# 13 MB, 1,223 operations; fetched with npm once and cached outside the
# repo, never committed), and on synthetic documents:
# median time, allocations and peak heap, against the goals for GitHub's
# (≤ 150 ms of CPU, ≤ 150 MB peak heap) and for a synthetic 20,000-operation
# one (GitHub's time goal scaled by size). Discovery runs on one goroutine,
# so its time per operation is its CPU time.
#
# Environment: COUNT (runs, default 5), BENCHTIME (per run, default 10x),
# GOAL_MS (150), GOAL_HEAP_MB (150), GLUON_CACHE (default ~/.cache/gluon).
# Exit status: 0 when the goals are met, non-zero when one is missed or the
# run fails.
set -euo pipefail

COUNT=${COUNT:-5}
BENCHTIME=${BENCHTIME:-10x}
GOAL_MS=${GOAL_MS:-150}
GOAL_HEAP_MB=${GOAL_HEAP_MB:-150}
version=23.0.2

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
cache=${GLUON_CACHE:-$HOME/.cache/gluon}/octokit-openapi-$version
doc=$cache/package/generated/api.github.com.json
if [[ ! -f $doc ]]; then
	mkdir -p "$cache"
	(cd "$cache" && timeout 300 npm pack --silent "@octokit/openapi@$version" >/dev/null &&
		tar xzf "octokit-openapi-$version.tgz" package/generated/api.github.com.json &&
		rm "octokit-openapi-$version.tgz")
fi

raw=$(mktemp "${TMPDIR:-/tmp}/gluon-bench-fds.XXXXXX")
trap 'rm -f "$raw"' EXIT
GLUON_GITHUB_OPENAPI=$doc timeout 600 go test -run '^$' -bench '^(BenchmarkDiscoverGitHub|BenchmarkDiscover1000Operations|BenchmarkDiscover20000Operations|BenchmarkDiscoverDense20000Operations)$' \
	-benchmem -count "$COUNT" -benchtime "$BENCHTIME" ./fds/openapi/ >"$raw" || { cat "$raw" >&2; exit 1; }

gh_ns=$(median "$raw" BenchmarkDiscoverGitHub ns/op) || { echo "no results" >&2; cat "$raw" >&2; exit 1; }
gh_allocs=$(median "$raw" BenchmarkDiscoverGitHub allocs/op)
gh_heap=$(median "$raw" BenchmarkDiscoverGitHub peak-heap-MB)
syn_ns=$(median "$raw" BenchmarkDiscover1000Operations ns/op)
syn_allocs=$(median "$raw" BenchmarkDiscover1000Operations allocs/op)
big_ns=$(median "$raw" BenchmarkDiscover20000Operations ns/op)
big_allocs=$(median "$raw" BenchmarkDiscover20000Operations allocs/op)
big_mbs=$(median "$raw" BenchmarkDiscover20000Operations MB/s)
dense_ns=$(median "$raw" BenchmarkDiscoverDense20000Operations ns/op)
dense_mbs=$(median "$raw" BenchmarkDiscoverDense20000Operations MB/s)
dense_mb=$(awk -v ns="$dense_ns" -v mbs="$dense_mbs" 'BEGIN { printf "%.1f", ns / 1e9 * mbs }')
ms() { awk -v ns="$1" 'BEGIN { printf "%.1f", ns / 1e6 }'; }
verdict=$(awk -v ns="$gh_ns" -v heap="$gh_heap" -v gms="$GOAL_MS" -v gheap="$GOAL_HEAP_MB" \
	'BEGIN { print (ns / 1e6 <= gms && heap <= gheap) ? "PASS" : "FAIL" }')
# The 20,000-operation document's goal is GitHub's scaled by size.
big_mb=$(awk -v ns="$big_ns" -v mbs="$big_mbs" 'BEGIN { printf "%.1f", ns / 1e9 * mbs }')
big_goal=$(awk -v mb="$big_mb" -v gms="$GOAL_MS" 'BEGIN { printf "%.0f", gms * mb / 13.0 }')
big_verdict=$(awk -v ns="$big_ns" -v goal="$big_goal" 'BEGIN { print (ns / 1e6 <= goal) ? "PASS" : "FAIL" }')

echo "OpenAPI discovery (median of $COUNT runs × $BENCHTIME, $(nproc) CPUs)"
echo
echo "| document | ms | allocs | peak heap MB | goal | verdict |"
echo "|---|---|---|---|---|---|"
echo "| GitHub REST API, 13 MB, 1,223 operations | $(ms "$gh_ns") | ${gh_allocs%.*} | $gh_heap | ≤ ${GOAL_MS} ms, ≤ ${GOAL_HEAP_MB} MB | $verdict |"
echo "| synthetic, $big_mb MB, 20,000 operations (2 KB examples each) | $(ms "$big_ns") | ${big_allocs%.*} | | ≤ $big_goal ms | $big_verdict |"
echo "| synthetic, $dense_mb MB, 20,000 bare operations | $(ms "$dense_ns") | | | | info |"
echo "| synthetic, 1,000 operations | $(ms "$syn_ns") | ${syn_allocs%.*} | | | info |"
[[ $verdict == PASS && $big_verdict == PASS ]]
