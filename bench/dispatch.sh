#!/usr/bin/env bash
# Dispatch: finding an event's subscribers among 10,000 services and 1,000 event types — the dispatcher's
# in-memory index against scanning every service row (criterion). Target: <= 10 us per event.
source "$(dirname "$0")/lib.sh"
cargo bench -p backend --bench dispatch -- --noplot 2>&1 | grep -E '^subscribers|time:|^Benchmarking.*: Analyzing' | grep -v Analyzing
