#!/usr/bin/env bash
# Ingest on the embedded bus: unique binary-mode events (no service subscribed) from 32 keep-alive connections,
# answered 202 only once durably stored — against the bare handler (parse the CloudEvent, answer 202) in the
# same run. On SQLite (the default), then on PostgreSQL when it runs on 127.0.0.1:5432.
# Targets: >= 10,000 events/s and >= 0.17x the bare handler, p99 <= 20 ms.
source "$(dirname "$0")/lib.sh"
build_release
seconds=${BENCH_SECONDS:-10}

"$BARE" 127.0.0.1:3999 & pids+=("$!")
sleep 0.3
bare=$("$LOAD" http://127.0.0.1:3999/api/v1/events --seconds "$seconds")
figure "bare handler (cloudevents-sdk parse, 202)" "$(field "$bare" requests/s)" "events/s"

start_k8x sqlite 3101
sqlite=$("$LOAD" http://127.0.0.1:3101/api/v1/events --token "$BENCH_TOKEN" --seconds "$seconds")
figure "k8x ingest, embedded bus on SQLite" "$(field "$sqlite" requests/s)" "events/s"
figure "  p50 / p99" "$(field "$sqlite" p50_ms) / $(field "$sqlite" p99_ms)" "ms"
figure "  ratio to the bare handler" "$(ratio "$(field "$sqlite" requests/s)" "$(field "$bare" requests/s)")" "x"

url=$(postgres_url || true)
if [ -n "$url" ]; then
  start_k8x postgres 3102 K8X_DATABASE_URL="$url"
  pg=$("$LOAD" http://127.0.0.1:3102/api/v1/events --token "$BENCH_TOKEN" --seconds "$seconds")
  figure "k8x ingest, embedded bus on PostgreSQL" "$(field "$pg" requests/s)" "events/s"
  figure "  p50 / p99" "$(field "$pg" p50_ms) / $(field "$pg" p99_ms)" "ms"
  figure "  ratio to the bare handler" "$(ratio "$(field "$pg" requests/s)" "$(field "$bare" requests/s)")" "x"
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS k8x_bench_$$ WITH (FORCE)" >/dev/null 2>&1 || true
fi
