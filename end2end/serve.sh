#!/usr/bin/env bash
# Starts the already built k8x for the end-to-end tests: a fresh data directory, the demo project plus the
# services of end2end/services, port $1.
set -euo pipefail
source "$(dirname "$0")/../scripts/env.sh"
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
mkdir -p "$data/project"
cp -r "$K8X_ROOT/demo/." "$K8X_ROOT/end2end/services/." "$data/project/"
export K8X_LISTEN="127.0.0.1:${1:-3117}" K8X_DATA_DIR="$data/data" K8X_PROJECT_DIR="$data/project" \
       K8X_SITE_ROOT="$K8X_ROOT/target/site" \
       K8X_ADMIN_PASSWORD="e2e-admin-password" K8X_BOOTSTRAP_TOKEN="k8x_e2e_bootstrap_token_0123456789abcdef"
unset K8X_DATABASE_URL K8X_KAFKA_BROKERS
# K8X_E2E_BINARY: another build to test, say the release one (after `scripts/build.sh --release`).
"${K8X_E2E_BINARY:-$CARGO_TARGET_DIR/debug/k8x}"
