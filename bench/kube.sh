#!/usr/bin/env bash
# bench/kube.sh: Gluon's Kubernetes mode on a real kube-apiserver and etcd
# (scripts/kube-testenv): 1,000 Services → Upstreams → xDS snapshot,
# EndpointSlice change → EDS push latency (p99 goal 100 ms), and the
# admission webhook with a 1,000-route config (goal < 50 ms).
#
# Environment: SERVICES (default 1000), EDS_ROUNDS (default 100).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

KUBEBUILDER_ASSETS=$(./scripts/kube-testenv)
export KUBEBUILDER_ASSETS
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/gluon" ./cmd/gluon
go build -o "$bin/kubebench" ./bench/cmd/kubebench
timeout 900 "$bin/kubebench" -gluon "$bin/gluon" -services "${SERVICES:-1000}" -eds-rounds "${EDS_ROUNDS:-100}"
