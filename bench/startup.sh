#!/usr/bin/env bash
# Start-up and idle: time from starting the release k8x on a fresh data directory (database created and
# migrated, demo project loaded) to its first page, again on that data directory, and its resident memory once
# idle. `first-page` spawns the server and asks for the page every millisecond (a `curl` per attempt would add
# its own ~20 ms); the baseline is the bare handler's first answer, timed the same way in the same run.
# Targets: ~20 ms to the first page, ~21 MB idle.
source "$(dirname "$0")/lib.sh"
build_release
mkdir -p "$scratch/startup"
FIRST_PAGE="$CARGO_TARGET_DIR/release/first-page"

# start_once LABEL: starts k8x on the scratch data dir, prints the time to its first page, leaves it running.
start_once() {
  local out
  out=$(env K8X_DATA_DIR="$scratch/startup" K8X_LISTEN=127.0.0.1:3105 K8X_SITE_ROOT="$K8X_ROOT/target/site" \
    RUST_LOG=warn "$FIRST_PAGE" http://127.0.0.1:3105/login -- "$K8X_BIN" 2>>"$scratch/startup.log")
  pid=$(field "$out" pid)
  pids+=("$pid")
  figure "start -> first page ($1)" "$(field "$out" first_page_ms)" "ms"
}

out=$("$FIRST_PAGE" --expect 405 http://127.0.0.1:3999/api/v1/events -- "$BARE" 127.0.0.1:3999)
pids+=("$(field "$out" pid)")
figure "bare handler: start -> first answer (baseline)" "$(field "$out" first_page_ms)" "ms"

# stop_k8x: stops the k8x start_once left running and waits until it has exited.
stop_k8x() {
  kill -TERM "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
}

# The binary read from disk as after a reboot: its pages are dropped from the page cache before the first start,
# so that they come back through k8x's own page faults (and the later starts find them so). (A binary the linker has just written sits in the page cache in other units, and
# a kernel that maps a whole cached folio on a fault would show an idle RSS that depends on how it got there.)
sync "$K8X_BIN"
dd if="$K8X_BIN" iflag=nocache count=0 status=none
start_once "fresh data directory: migrations, first admin"
stop_k8x
for run in 1 2 3; do
  start_once "again, on that data directory (run $run)"
  [ "$run" = 3 ] || stop_k8x
done
sleep 3
figure "idle RSS" "$(awk '/VmRSS/ { printf "%d", $2 / 1024 }' "/proc/$pid/status")" "MB"
figure "  of which file-backed (the binary's code and libraries)" "$(awk '/RssFile/ { printf "%d", $2 / 1024 }' "/proc/$pid/status")" "MB"
wasm="$K8X_ROOT/target/site/pkg/k8x.wasm"
figure "hydrate bundle (wasm-opt -Oz), gzipped" "$(( $(gzip -9c "$wasm" | wc -c) / 1024 ))" "KB"
figure "  uncompressed" "$(( $(wc -c <"$wasm") / 1024 ))" "KB"
