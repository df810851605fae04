#!/usr/bin/env bash
# The whole test suite: Rust unit and integration tests (SQLite, PostgreSQL, librdkafka's mock cluster),
# the check that no server-only crate reaches the wasm build, and the Playwright tests in Chromium.
set -euo pipefail
source "$(dirname "$0")/env.sh"
"$K8X_ROOT/scripts/setup.sh"
"$K8X_ROOT/scripts/build.sh"
cd "$K8X_ROOT"

if cargo fmt --version >/dev/null 2>&1; then
  echo "[test] formatting"
  cargo fmt --all -- --check
fi

echo "[test] server-only crates stay out of the wasm build"
tree=$(cargo tree -p frontend --target wasm32-unknown-unknown -e normal)
for crate in rdkafka kube-client sea-orm sqlx tokio-postgres; do
  if grep -q " $crate v" <<<"$tree"; then echo "$crate is in the wasm dependency tree" >&2; exit 1; fi
done

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

echo "[test] this rustc reads the release build's execution profile (pgo/)"
pgo_flags=$(k8x_server_rustflags)
if [[ $pgo_flags == *profile-use* ]]; then
  # A profile rustc cannot read is only a warning (the build goes on without it): any output fails here.
  echo 'fn main() {}' >"$logs/pgo.rs"
  # shellcheck disable=SC2086
  if ! said=$(rustc $pgo_flags -O "$logs/pgo.rs" -o "$logs/pgo" 2>&1) || [ -n "$said" ]; then
    echo "$said" >&2
    exit 1
  fi
fi

echo "[test] Rust: unit and integration tests"
cargo nextest run --no-fail-fast 2>&1 | tee "$logs/rust"   # the default members: all but the wasm entry

echo "[test] end-to-end: Playwright in Chromium"
(cd end2end && npx playwright test) 2>&1 | tee "$logs/e2e"

# One closing line for the whole suite (each part above has already failed the script if anything failed).
rust=$(sed -n 's/.* \([0-9][0-9]*\) tests run: \([0-9][0-9]*\) passed.*/\2/p' "$logs/rust" | tail -n 1)
e2e=$(sed -n 's/^ *\([0-9][0-9]*\) passed.*/\1/p' "$logs/e2e" | tail -n 1)
echo "total: $(( ${rust:-0} + ${e2e:-0} )) passed, 0 failed"
