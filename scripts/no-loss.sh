#!/usr/bin/env bash
# The no-loss test at full size: 100,000 events (or $1) posted while k8x is SIGKILLed and restarted at random
# moments, on the embedded bus and on a real Kafka broker (restarted once); every accepted event must get exactly
# one execution. The test suite runs the same tests with 2,000.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$K8X_ROOT"
"$K8X_ROOT/scripts/kafka.sh" install
K8X_NO_LOSS_EVENTS="${1:-100000}" cargo nextest run --profile long -p server -E 'test(/no_event_is_lost/)' --no-capture
