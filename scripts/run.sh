#!/usr/bin/env bash
# Builds and starts k8x on the embedded defaults: SQLite in ./data, the embedded bus, the local executor, the
# demo project, at http://127.0.0.1:3000. Any K8X_* variable set in the environment is honoured.
set -euo pipefail
source "$(dirname "$0")/env.sh"
"$K8X_ROOT/scripts/setup.sh"
"$K8X_ROOT/scripts/build.sh"
cd "$K8X_ROOT"
export K8X_SITE_ROOT="${K8X_SITE_ROOT:-$K8X_ROOT/target/site}"
exec "$CARGO_TARGET_DIR/debug/k8x"
