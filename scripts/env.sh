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

# This rustc's release (1.95.0). An execution profile is keyed by symbol names, and rustc puts its own version
# into every symbol's hash: a profile made with another rustc matches nothing, so each is named after its rustc.
k8x_rustc_release() { rustc -vV | sed -n 's/^release: //p'; }

# Prints the path of pgo/NAME.xz (made with this rustc) unpacked into the target directory, once per content;
# nothing if there is none, and nothing, with a message, if it cannot be unpacked.
k8x_pgo_file() {
  local packed="$K8X_ROOT/pgo/$1.xz" sum out part
  [ -f "$packed" ] || return 0
  sum=$(sha256sum "$packed" | head -c 16)
  out="$CARGO_TARGET_DIR/pgo/k8x-$sum.${1##*.}"
  if [ ! -f "$out" ]; then
    # Unpacked to a file of its own and renamed: two builds at once never see half a file.
    mkdir -p "$CARGO_TARGET_DIR/pgo"
    part=$(mktemp "$CARGO_TARGET_DIR/pgo/.unpacking.XXXXXX")
    if ! xz -dc "$packed" >"$part" || ! mv -f "$part" "$out"; then
      rm -f "$part"
      echo "[build] could not unpack $packed" >&2
      return 0
    fi
  fi
  echo "$out"
}

# The flags of the release server and of everything built alongside it for the host (its benchmarks' tools):
# K8X_RELEASE_RUSTFLAGS, and the execution profile in pgo/ made with this rustc (pgo/README.md; K8X_PGO=0
# builds without it). With the profile, LLVM optimises the paths the benchmarks' workloads run, and lays out
# apart every function no run touched, so that the code a running k8x uses sits together. The profile is
# unpacked once per version into the target directory. Without one (or if it cannot be unpacked) the build goes
# on without it, and says so.
k8x_server_rustflags() {
  local release profile order flags
  release=$(k8x_rustc_release)
  if [ "${K8X_PGO:-1}" = 0 ]; then
    echo "$K8X_RELEASE_RUSTFLAGS"
    return
  fi
  profile=$(k8x_pgo_file "k8x-rustc$release.profdata")
  if [ -z "$profile" ]; then
    echo "[build] pgo/ holds no usable execution profile made with rustc $release (this one): building without" \
      "profile-guided optimisation (scripts/pgo.sh makes one)" >&2
    echo "$K8X_RELEASE_RUSTFLAGS"
    return
  fi
  # -profile-summary-cold-count=0: only what no run touched is cold (by default, code a run touched once, such as
  # start-up's, is cold too, and would be laid out among the untouched code); -pgso=false: cold code is not
  # optimised for size (the Kafka and Kubernetes paths are not in the workloads); no warning for a function
  # changed since the profile was made (it is built as without a profile).
  flags="$K8X_RELEASE_RUSTFLAGS -Cprofile-use=$profile -Cllvm-args=-profile-summary-cold-count=0"
  flags+=" -Cllvm-args=-pgso=false -Cllvm-args=-no-pgo-warn-mismatch -Clink-arg=-Wl,-z,keep-text-section-prefix"
  # The start-up order made with the profile: the functions an instrumented k8x ran from its start to an idle
  # first page, which the link puts first in each code section, so that an idle k8x touches few 64 KB runs of its
  # binary. (Flags, not a build script: a build script would change the server crate's symbol names, which the
  # profile is keyed by.) A function of the list not in this build (inlined, or changed since) is no error. Only
  # where rustc links with its own lld (x86_64 Linux): other linkers do not take the flag.
  order=$(k8x_pgo_file "k8x-rustc$release.order")
  if [ -n "$order" ] && [ "$(rustc --print host-tuple)" = x86_64-unknown-linux-gnu ]; then
    flags+=" -Clink-arg=-Wl,--symbol-ordering-file=$order -Clink-arg=-Wl,--no-warn-symbol-ordering"
  fi
  echo "$flags"
}
