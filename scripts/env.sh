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

# The major version of the LLVM inside this rustc (an execution profile is read only by the LLVM that wrote it).
k8x_rustc_llvm_major() { rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p'; }

# The flags of the release server and of everything built alongside it for the host (its benchmarks' tools):
# K8X_RELEASE_RUSTFLAGS, and the execution profile in pgo/ when this rustc's LLVM is the one that wrote it
# (pgo/README.md; K8X_PGO=0 builds without it). With the profile, LLVM optimises the paths the benchmarks'
# workloads run, and lays out apart every function no run touched, so that the code a running k8x uses sits
# together. The profile is unpacked once per version into the target directory.
k8x_server_rustflags() {
  local llvm packed sum profile
  llvm=$(k8x_rustc_llvm_major)
  packed="$K8X_ROOT/pgo/k8x-llvm$llvm.profdata.xz"
  if [ "${K8X_PGO:-1}" = 0 ] || [ ! -f "$packed" ]; then
    if [ "${K8X_PGO:-1}" != 0 ]; then
      echo "[build] pgo/ holds no execution profile for LLVM $llvm (this rustc's): building without one" \
        "(scripts/pgo.sh makes it)" >&2
    fi
    echo "$K8X_RELEASE_RUSTFLAGS"
    return
  fi
  sum=$(sha256sum "$packed" | head -c 16)
  profile="$CARGO_TARGET_DIR/pgo/k8x-$sum.profdata"
  if [ ! -f "$profile" ]; then
    mkdir -p "$CARGO_TARGET_DIR/pgo"
    xz -dc "$packed" >"$profile.part" && mv "$profile.part" "$profile"
  fi
  # -profile-summary-cold-count=0: only what no run touched is cold (by default, code a run touched once, such as
  # start-up's, is cold too, and would be laid out among the untouched code); -pgso=false: cold code is still
  # optimised for speed, not size (the Kafka and Kubernetes paths are not in the workloads); no warning for a
  # function changed since the profile was made (it is built as without a profile).
  echo "$K8X_RELEASE_RUSTFLAGS -Cprofile-use=$profile -Cllvm-args=-profile-summary-cold-count=0" \
    "-Cllvm-args=-pgso=false -Cllvm-args=-no-pgo-warn-mismatch -Clink-arg=-Wl,-z,keep-text-section-prefix"
}
