#!/usr/bin/env bash
# Builds (optimised: the release server and the wasm-opt'ed browser bundle) and starts k8x on the embedded
# defaults: SQLite in ./data, the embedded bus, the local executor, the demo project, at http://127.0.0.1:3000.
# Any K8X_* variable set in the environment is honoured. Once k8x answers, it prints where to sign in and the
# quickstart's ingest token (made on the first start). `scripts/dev.sh` does the same with the debug builds,
# which build much faster while you change k8x.
set -euo pipefail
source "$(dirname "$0")/env.sh"
"$K8X_ROOT/scripts/setup.sh"
profile=release
if [ "${K8X_DEV:-}" = 1 ]; then profile=debug; fi
if [ "$profile" = release ]; then "$K8X_ROOT/scripts/build.sh" --release; else "$K8X_ROOT/scripts/build.sh"; fi
cd "$K8X_ROOT"
export K8X_SITE_ROOT="${K8X_SITE_ROOT:-$K8X_ROOT/target/site}"
data="${K8X_DATA_DIR:-data}"
listen="${K8X_LISTEN:-127.0.0.1:3000}"

"$CARGO_TARGET_DIR/$profile/k8x" &
k8x=$!
trap 'kill -TERM "$k8x" 2>/dev/null; wait "$k8x"' INT TERM
for _ in $(seq 1 100); do
  if curl -fsS "http://$listen/health" >/dev/null 2>&1; then break; fi
  kill -0 "$k8x" 2>/dev/null || break
  sleep 0.2
done
if kill -0 "$k8x" 2>/dev/null; then
  echo
  echo "  k8x: http://$listen"
  if [ -f "$data/admin-password" ]; then
    echo "  sign in as admin with the password in $data/admin-password (then: k8x user passwd admin)"
  fi
  if [ -f "$data/ingest-token" ]; then
    echo "  ingest token for the quickstart: $(cat "$data/ingest-token")"
  fi
  echo
fi
wait "$k8x"
