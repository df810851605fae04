# Sourced by the benchmark scripts: builds what they measure (the release builds a user runs) and starts and
# stops k8x on a scratch data directory.
# shellcheck shell=bash
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
cd "$K8X_ROOT"

BENCH_TOKEN="k8x_bench_$(head -c 24 /dev/urandom | base64 | tr -dc 'a-zA-Z0-9' | head -c 32)"
export BENCH_TOKEN
scratch=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$scratch"
}
trap cleanup EXIT

# The release server and UI (what run.sh starts) and the load tools.
build_release() {
  if [ "${BENCH_SKIP_BUILD:-}" != 1 ]; then
    "$K8X_ROOT/scripts/setup.sh" >/dev/null
    "$K8X_ROOT/scripts/build.sh" --release >&2
    RUSTFLAGS="${RUSTFLAGS:-} $(k8x_server_rustflags)" cargo build --release -p k8x-bench >&2
  fi
  # K8X_BIN may name another build of k8x (scripts/pgo.sh runs these workloads on an instrumented one).
  K8X_BIN="${K8X_BIN:-$CARGO_TARGET_DIR/release/k8x}"
  LOAD="$CARGO_TARGET_DIR/release/k8x-load"
  BARE="$CARGO_TARGET_DIR/release/bare-ingest"
}

# Waits until http://$1/health answers (or gives up after 30 s).
wait_for() {
  for _ in $(seq 1 300); do
    if curl -fsS "http://$1/health" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "nothing answered on $1" >&2
  return 1
}

# start_k8x NAME PORT [VAR=value ...]: the release k8x on a data dir of its own, the bench token as admin.
start_k8x() {
  local name=$1 port=$2
  shift 2
  mkdir -p "$scratch/$name"
  env K8X_DATA_DIR="$scratch/$name" K8X_LISTEN="127.0.0.1:$port" K8X_SITE_ROOT="$K8X_ROOT/target/site" \
    K8X_BOOTSTRAP_TOKEN="$BENCH_TOKEN" K8X_TOKEN_REQUESTS_PER_SECOND=10000000 RUST_LOG=warn \
    "$@" "$K8X_BIN" >"$scratch/$name.log" 2>&1 &
  pids+=("$!")
  K8X_PID=$!
  wait_for "127.0.0.1:$port"
}

# A figure: "name  value  unit".
figure() { printf '%-58s %12s  %s\n' "$1" "$2" "$3"; }

# a / b with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

# The field $2 (e.g. requests/s) of a k8x-load line $1.
field() { sed -n "s|.*$2=\([0-9.]*\).*|\1|p" <<<"$1"; }

# A fresh PostgreSQL database for a run, or nothing when PostgreSQL is not there.
postgres_url() {
  local db="k8x_bench_$$"
  if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
    psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db" >/dev/null && echo "postgres://postgres@127.0.0.1:5432/$db"
  fi
}
