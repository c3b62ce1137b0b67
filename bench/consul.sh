#!/usr/bin/env bash
# bench/consul.sh: Consul upstream discovery on a real Consul agent
# (scripts/consul-testenv): 1,000 services → Upstreams → xDS snapshot with
# their endpoints, and a health check turning passing → EDS push latency at
# an ADS client (p99 goal 100 ms), delta and state-of-the-world.
#
# Environment: SERVICES (default 1000), EDS_ROUNDS (default 100).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

consul=$(./scripts/consul-testenv)
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/gluon" ./cmd/gluon
go build -o "$bin/consulbench" ./bench/cmd/consulbench
# Once with a delta ADS client (only changed resources sent, as Envoy with
# many clusters subscribes), once state of the world (every endpoint resent).
for delta in true false; do
  timeout 900 "$bin/consulbench" -gluon "$bin/gluon" -consul "$consul" -services "${SERVICES:-1000}" -eds-rounds "${EDS_ROUNDS:-100}" -delta=$delta
done
