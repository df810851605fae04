#!/usr/bin/env bash
# Builds k8x without cargo-leptos, the same two builds it does: the browser half (wasm + wasm-bindgen, into
# target/site/pkg) and the server binary. `cargo leptos build` gives the same debug result where it is installed.
# `build.sh --release`: the optimised server and the `wasm-release` bundle with its own std, shrunk by wasm-opt
# (what `run.sh` starts; `cargo leptos build --release` would not build std); without it, the debug builds of the
# fast edit loop (`dev.sh`, the tests).
set -euo pipefail
release=false
if [ "${1:-}" = "--release" ]; then release=true; fi
source "$(dirname "$0")/env.sh"
cd "$K8X_ROOT"

# Cargo decides freshness by file times, so a target directory shared by two checkouts can keep crates built
# from the other one; server functions are named after their crate's path, and a mix of the two breaks them.
# When the checkout changes, mark this one's crates as changed (dependencies stay built).
marker="$CARGO_TARGET_DIR/.k8x-checkout"
if [ "$(cat "$marker" 2>/dev/null)" != "$K8X_ROOT" ]; then
  find app frontend server backend model migration -name '*.rs' -exec touch {} +
  mkdir -p "$CARGO_TARGET_DIR" && echo "$K8X_ROOT" > "$marker"
fi

site="$K8X_ROOT/target/site"
mkdir -p "$site/pkg"
user_rustflags="${RUSTFLAGS:-}"
if $release; then
  export RUSTFLAGS="$user_rustflags $K8X_RELEASE_RUSTFLAGS"
  # wasm-opt from npm's binaryen: Debian's binaryen 108 writes a wasm that fails in the browser.
  binaryen="$K8X_TOOLS/binaryen"
  if [ ! -x "$binaryen/node_modules/.bin/wasm-opt" ]; then
    echo "[build] installing wasm-opt (npm binaryen 132, once)"
    mkdir -p "$binaryen"
    (cd "$binaryen" && npm install --no-save --no-audit --no-fund --loglevel=error binaryen@132.0.0)
  fi
  # The release bundle builds its own std, without panic messages, panic locations or `Debug` formatting,
  # none of which the browser shows (TOOLCHAIN.md; Leptos's size guide): about 30 KB gzipped less. A panic in
  # the release bundle traps without a message; dev.sh's debug bundle keeps them. RUSTC_BOOTSTRAP lets the
  # stable compiler take the -Z flags; it is set for this build only (its host crates are its own profile's).
  wasm_flags="$WASM_BUILD_FLAGS"
  [[ $wasm_flags == *build-std* ]] || wasm_flags="$wasm_flags -Zbuild-std=std,panic_abort"
  # shellcheck disable=SC2086
  RUSTC_BOOTSTRAP=1 \
    RUSTFLAGS="$RUSTFLAGS -Zlocation-detail=none -Zfmt-debug=none -Zunstable-options -Cpanic=immediate-abort" \
    cargo build -p frontend --lib --target wasm32-unknown-unknown --profile wasm-release $wasm_flags
  wasm-bindgen --target web --no-typescript --out-name k8x --out-dir "$site/pkg" \
    "$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/frontend.wasm"
  "$binaryen/node_modules/.bin/wasm-opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-reference-types \
    "$site/pkg/k8x_bg.wasm" -o "$site/pkg/k8x.wasm"
  rm "$site/pkg/k8x_bg.wasm"
else
  # shellcheck disable=SC2086
  cargo build -p frontend --lib --target wasm32-unknown-unknown $WASM_BUILD_FLAGS
  wasm-bindgen --target web --no-typescript --out-name k8x --out-dir "$site/pkg" \
    "$CARGO_TARGET_DIR/wasm32-unknown-unknown/debug/frontend.wasm"
  mv "$site/pkg/k8x_bg.wasm" "$site/pkg/k8x.wasm"
fi
cp style/main.css "$site/pkg/k8x.css"
cp -r public/. "$site/"
if $release; then
  RUSTFLAGS="$user_rustflags $(k8x_server_rustflags)" cargo build -p server --bin k8x --release
else
  cargo build -p server --bin k8x
fi
