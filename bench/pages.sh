#!/usr/bin/env bash
# Pages at scale: `/services` with 1,000 services and `/executions` with 100,000 executions, rendered by the
# release k8x (server-side, as a browser's first load gets them), one request at a time: p50 and p99 of the
# request time on this machine, and the page size. Targets: p50 <= 30 ms for each.
source "$(dirname "$0")/lib.sh"
build_release
services=${BENCH_SERVICES:-1000}
executions=${BENCH_EXECUTIONS:-100000}

project="$scratch/project"
for n in $(seq -w 1 "$services"); do
  mkdir -p "$project/svc-$n"
  printf '{"name": "svc-%s", "type": "k8x_job", "description": "benchmark service %s", "trigger_events": ["bench.type-%s"], "tags": ["bench"], "allow_manual_triggering": true}\n' \
    "$n" "$n" "$((10#$n % 100))" >"$project/svc-$n/manifest.json"
  printf 'apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: main\n          image: busybox\n          command: ["true"]\n' \
    >"$project/svc-$n/deployment.yaml"
done
start_k8x pages 3104 K8X_PROJECT_DIR="$project"

python3 - "$scratch/pages/k8x.db" "$services" "$executions" <<'PY'
import sqlite3, sys, datetime
path, services, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
db = sqlite3.connect(path, timeout=30)
start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
def rows():
    for i in range(count):
        at = (start + datetime.timedelta(seconds=i)).isoformat()
        service = f"svc-{i % services + 1:0{len(str(services))}d}"
        yield (f"bench-{i}", f"/bench\x1f{i}", str(i), "bench.type", service, "bench", "succeeded", 0, None, "{}",
               at, at, at, "local", None, None, None, 0, None, None, 1, None, None, 1, 10)
with db:
    db.executemany("INSERT INTO executions (id, event_key, event_id, event_type, service, project, status, exit_code, "
                   "error, params, created_at, started_at, finished_at, executor, job_name, job_uid, reason, "
                   "cancel_requested, owner, lease_until, attempt, not_before, chain, max_attempts, "
                   "retry_backoff_seconds) VALUES (" + ",".join("?" * 25) + ")", rows())
PY

measure() {
  local label=$1 path=$2 out bytes
  out=$("$LOAD" "http://127.0.0.1:3104$path" --mode get --token "$BENCH_TOKEN" --connections 1 --seconds 5 --warmup 1)
  bytes=$(curl -fsS -H "authorization: Bearer $BENCH_TOKEN" "http://127.0.0.1:3104$path" | wc -c)
  figure "$label p50 / p99" "$(field "$out" p50_ms) / $(field "$out" p99_ms)" "ms"
  figure "  page size" "$((bytes / 1024))" "KB"
}
measure "/services ($services services)" /services
measure "/services?q=svc-09 (search)" "/services?q=svc-09"
measure "/executions ($executions executions)" /executions
