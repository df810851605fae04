#!/usr/bin/env bash
# Every benchmark in turn (builds once); the figures of README's Performance table.
set -euo pipefail
dir="$(dirname "$0")"
"$dir/startup.sh"
BENCH_SKIP_BUILD=1 "$dir/ingest.sh"
BENCH_SKIP_BUILD=1 "$dir/logs.sh"
BENCH_SKIP_BUILD=1 "$dir/pages.sh"
"$dir/dispatch.sh"
