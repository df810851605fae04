# Sourced by the other scripts: where builds go and which tools they use.
# shellcheck shell=bash
K8X_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export K8X_ROOT
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/k8x/target}"
export K8X_TOOLS="$HOME/.cache/k8x/tools"
export PATH="$HOME/.cargo/bin:$PATH"
# Written by setup.sh when rustup cannot provide the wasm32 target and Debian's Rust is used instead.
if [ -f "$K8X_TOOLS/toolchain.env" ]; then
  # shellcheck disable=SC1091
  source "$K8X_TOOLS/toolchain.env"
fi
export WASM_BUILD_FLAGS="${WASM_BUILD_FLAGS:-}"
# The release builds' cfg (Leptos's type-erased components: a much smaller browser bundle). Server and wasm
# must share it, or hydration breaks; anything else built with --release uses it too, so that the release
# dependencies are built once.
export K8X_RELEASE_RUSTFLAGS="--cfg erase_components"
