#!/usr/bin/env bash
# Dispatch: finding an event's subscribers among 10,000 services and 1,000 event types — the dispatcher's
# in-memory index against scanning every service row (criterion; target <= 10 us per event); then event
# accepted -> executor launch at 1,000 events/s on the embedded bus (target p99 <= 10 ms).
source "$(dirname "$0")/lib.sh"
# The release builds' flags, so that the optimised dependencies are shared with them, not rebuilt.
RUSTFLAGS="${RUSTFLAGS:-} $(k8x_server_rustflags)"
export RUSTFLAGS
cargo bench -p backend --bench dispatch -- --noplot 2>&1 | grep -E '^subscribers|time:|^Benchmarking.*: Analyzing' | grep -v Analyzing
cargo bench -p backend --bench launch_latency 2>&1 | grep -E '^(accepted|publish called)'
