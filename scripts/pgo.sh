#!/usr/bin/env bash
# Regenerates the release server's execution profile, pgo/k8x-rustcR.profdata.xz (R: this rustc's release; see
# pgo/README.md). It builds k8x instrumented, runs the benchmarks' workloads on it (start-up, ingest on SQLite
# and PostgreSQL, a 300,000-line job's logs, the pages at scale), and merges what those runs counted; and the
# start-up order, pgo/k8x-rustcR.order.xz, the functions its start-up ran (scripts/env.sh). Run it
# after changing the server's hot paths or its dependencies, and with each new rustc: the release build uses only
# the profile of its own rustc. Needs the llvm-profdata of that rustc's LLVM (installed from Debian's llvm-N).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$K8X_ROOT"

llvm=$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
profdata=""
for candidate in "llvm-profdata-$llvm" "/usr/lib/llvm-$llvm/bin/llvm-profdata"; do
  if command -v "$candidate" >/dev/null 2>&1; then profdata=$candidate; fi
done
if [ -z "$profdata" ]; then
  echo "[pgo] installing llvm-$llvm for llvm-profdata"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "llvm-$llvm" >/dev/null
  profdata="/usr/lib/llvm-$llvm/bin/llvm-profdata"
fi

# What the workloads need beside k8x: the browser bundle, the load tools, PostgreSQL if it is there.
"$K8X_ROOT/scripts/setup.sh" >/dev/null
"$K8X_ROOT/scripts/build.sh" --release >&2
RUSTFLAGS="${RUSTFLAGS:-} $(k8x_server_rustflags)" cargo build --release -p k8x-bench >&2

# The instrumented server, in a target directory of its own: its flags differ from the release build's, and
# sharing one directory would rebuild every dependency each time one of the two builds. Built by the same cargo
# command as build.sh's server: a package built alongside would change the dependencies' features, so their
# symbol names, which is what the profile is keyed by.
raw="$CARGO_TARGET_DIR/pgo/raw"
rm -rf "$raw" && mkdir -p "$raw"
instrumented="$CARGO_TARGET_DIR/pgo/instrumented"
CARGO_TARGET_DIR="$instrumented" RUSTFLAGS="${RUSTFLAGS:-} $K8X_RELEASE_RUSTFLAGS -Cprofile-generate=$raw" \
  cargo build -p server --bin k8x --release >&2

# Each k8x process writes its counts when it exits (the benchmarks stop it with SIGTERM). Start-up's runs are
# kept apart: they also give the start-up order.
export K8X_BIN="$instrumented/release/k8x" BENCH_SKIP_BUILD=1
LLVM_PROFILE_FILE="$raw/startup-%p.profraw" bench/startup.sh
export LLVM_PROFILE_FILE="$raw/k8x-%p.profraw"
BENCH_SECONDS=${BENCH_SECONDS:-20} bench/ingest.sh
bench/logs.sh
bench/pages.sh

# Only k8x's runs: the build scripts and proc macros of the instrumented build wrote profiles there too. The
# profile and the order this rustc's builds use are replaced together, once both are whole.
shopt -s failglob
out="pgo/k8x-rustc$(k8x_rustc_release)"
"$profdata" merge --output "$raw/all.profdata" "$raw"/startup-*.profraw "$raw"/k8x-*.profraw
xz -9 --force "$raw/all.profdata"

# The start-up order: every function start-up ran (a count above zero), by symbol name (a function local to its
# crate is listed as `unit;symbol`), for the release link to put first (scripts/env.sh).
"$profdata" merge --output "$raw/startup.profdata" "$raw"/startup-*.profraw
"$profdata" show --all-functions --counts "$raw/startup.profdata" | awk '
  /^  [^ ].*:$/ { name = substr($0, 3, length($0) - 3); sub(/^.*;/, "", name); next }
  /^    Block counts: .*[1-9]/ { print name }' | awk '!seen[$0]++' >"$raw/startup.order"
[ -s "$raw/startup.order" ] || { echo "[pgo] start-up ran no function: no profile written" >&2; exit 1; }
xz -9 --force "$raw/startup.order"

mv -f "$raw/all.profdata.xz" "$out.profdata.xz"
mv -f "$raw/startup.order.xz" "$out.order.xz"
echo "[pgo] wrote $out.profdata.xz from $(find "$raw" -name 'startup-*.profraw' -o -name 'k8x-*.profraw' | wc -l)" \
  "runs of k8x ($(du -k "$out.profdata.xz" | cut -f1) KB), and $out.order.xz:" \
  "$(xz -dc "$out.order.xz" | wc -l) functions start-up ran"
