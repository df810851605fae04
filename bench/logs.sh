#!/usr/bin/env bash
# Log capture: a job printing 300,000 lines, run by the release k8x on the local executor, against the same
# pipeline on its own (`seq | sed`) and against raw SQLite inserts of as many rows (Python's sqlite3, WAL,
# 4,000-row transactions) in the same run. Also k8x's peak memory meanwhile and the whole-log download.
# Targets: >= 100,000 lines/s stored; the job runs in about its own time.
source "$(dirname "$0")/lib.sh"
build_release
lines=${BENCH_LINES:-300000}
pipeline="seq 1 $lines | sed 's/^/line /'"

TIMEFORMAT=%R
own=$( { time (eval "$pipeline" >/dev/null) ; } 2>&1 )
figure "baseline: the job on its own ($lines lines)" "$own" "s"

raw=$(python3 - "$lines" "$scratch/raw.db" <<'PY'
import sqlite3, sys, time
n, path = int(sys.argv[1]), sys.argv[2]
db = sqlite3.connect(path)
db.execute("PRAGMA journal_mode=WAL")
db.execute("CREATE TABLE log_lines (execution_id TEXT, seq INTEGER, stream TEXT, text TEXT, at TEXT, PRIMARY KEY (execution_id, seq))")
start = time.perf_counter()
for first in range(1, n + 1, 4000):
    rows = [("x", i, "stdout", f"line {i}", "2026-11-27T00:00:00Z") for i in range(first, min(first + 4000, n + 1))]
    with db:
        db.executemany("INSERT INTO log_lines VALUES (?, ?, ?, ?, ?)", rows)
print(f"{n / (time.perf_counter() - start):.0f}")
PY
)
figure "baseline: raw SQLite inserts (4,000-row transactions)" "$raw" "rows/s"

project="$scratch/project/flood"
mkdir -p "$project"
cat >"$project/manifest.json" <<JSON
{"name": "flood", "type": "k8x_job", "trigger_events": ["bench.flood"], "allow_manual_triggering": true}
JSON
cat >"$project/deployment.yaml" <<YAML
apiVersion: batch/v1
kind: Job
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: flood
          image: bash
          command: ["bash", "-c"]
          args: ["start=\$(date +%s%N); $pipeline; echo k8x-bench-own-ms=\$(( (\$(date +%s%N) - start) / 1000000 )) >&2"]
YAML
start_k8x logs 3103 K8X_PROJECT_DIR="$scratch/project"
api() { curl -fsS -H "authorization: Bearer $BENCH_TOKEN" "http://127.0.0.1:3103$1"; }
curl -fsS -o /dev/null -X POST http://127.0.0.1:3103/api/v1/events -H "authorization: Bearer $BENCH_TOKEN" \
  -H 'ce-specversion: 1.0' -H "ce-id: flood-$$" -H 'ce-source: /bench' -H 'ce-type: bench.flood'
peak=0
for _ in $(seq 1 1200); do
  rss=$(awk '/VmRSS/ { print $2 }' "/proc/$K8X_PID/status")
  [ "$rss" -gt "$peak" ] && peak=$rss
  status=$(api "/api/v1/executions?service=flood" | python3 -c 'import json,sys; e=json.load(sys.stdin)["executions"]; print(e[0]["status"] if e else "none")')
  case $status in succeeded|failed|cancelled|interrupted) break ;; esac
  sleep 0.1
done
read -r id took < <(api "/api/v1/executions?service=flood" | python3 -c '
import json, sys
from datetime import datetime
e = json.load(sys.stdin)["executions"][0]
t = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))
print(e["id"], (t(e["finished_at"]) - t(e["started_at"])).total_seconds())')
TIMEFORMAT=%R
download=$( { time (api "/api/v1/executions/$id/log" >"$scratch/flood.log") ; } 2>&1 )
stored=$(grep -c '^line ' "$scratch/flood.log" || true)
inside=$(sed -n 's/^k8x-bench-own-ms=//p' "$scratch/flood.log")
[ "$status" = succeeded ] && [ "$stored" = "$lines" ] || { echo "flood: $status, $stored of $lines lines stored" >&2; exit 1; }
figure "the job inside k8x (its own clock)" "$(awk -v ms="$inside" 'BEGIN { printf "%.3f", ms / 1000 }')" "s"
figure "  ratio to the job on its own" "$(ratio "$(awk -v ms="$inside" 'BEGIN { print ms / 1000 }')" "$own")" "x"
figure "execution start -> ended, every line stored" "$took" "s"
figure "lines stored per second" "$(awk -v n="$lines" -v s="$took" 'BEGIN { printf "%.0f", n / s }')" "lines/s"
figure "  ratio to raw SQLite inserts" "$(ratio "$(awk -v n="$lines" -v s="$took" 'BEGIN { print n / s }')" "$raw")" "x"
figure "k8x peak RSS meanwhile" "$((peak / 1024))" "MB"
figure "whole-log download ($(du -k "$scratch/flood.log" | cut -f1) KB)" "$download" "s"
