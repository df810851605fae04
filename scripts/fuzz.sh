#!/usr/bin/env bash
# Runs the property tests that feed hostile input to k8x's parsers (CloudEvents in every HTTP mode, service
# files, parameters.json and form submissions, plain webhooks, Kafka records) with many more cases than the test suite does,
# for a bounded time: ./scripts/fuzz.sh [cases per target, default 20000] [seconds, default 600].
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$K8X_ROOT"
cases="${1:-20000}"
limit="${2:-600}"
PROPTEST_CASES="$cases" timeout "$limit" cargo nextest run -p backend -p model -E 'test(/fuzz/)' --no-fail-fast
