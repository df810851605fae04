#!/usr/bin/env bash
# Start-up and idle: time from starting the release k8x on a fresh data directory (database created and
# migrated, demo project loaded) to its first page, and its resident memory once idle.
source "$(dirname "$0")/lib.sh"
build_release
mkdir -p "$scratch/startup"
# start_once LABEL: starts k8x on the scratch data dir, prints the time to its first page, leaves it running.
start_once() {
  local begin first
  begin=$(date +%s%N)
  env K8X_DATA_DIR="$scratch/startup" K8X_LISTEN=127.0.0.1:3105 K8X_SITE_ROOT="$K8X_ROOT/target/site" RUST_LOG=warn \
    "$K8X_BIN" >>"$scratch/startup.log" 2>&1 &
  pids+=("$!")
  pid=$!
  until curl -fsS -o /dev/null http://127.0.0.1:3105/login 2>/dev/null; do
    kill -0 "$pid" || { cat "$scratch/startup.log" >&2; exit 1; }
    sleep 0.005
  done
  first=$(( ($(date +%s%N) - begin) / 1000000 ))
  figure "start -> first page ($1)" "$first" "ms"
}
start_once "fresh data directory: migrations, first admin"
kill -TERM "$pid"; wait "$pid" || true
start_once "again, on that data directory"
sleep 3
figure "idle RSS" "$(awk '/VmRSS/ { printf "%d", $2 / 1024 }' "/proc/$pid/status")" "MB"
wasm="$K8X_ROOT/target/site/pkg/k8x.wasm"
figure "hydrate bundle (wasm-opt -Oz), gzipped" "$(( $(gzip -9c "$wasm" | wc -c) / 1024 ))" "KB"
figure "  uncompressed" "$(( $(wc -c <"$wasm") / 1024 ))" "KB"
