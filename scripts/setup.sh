#!/usr/bin/env bash
# Installs what building and testing k8x needs, skipping whatever is already there at the right version:
# the wasm32 target (rustup, or Debian's Rust as a fallback), wasm-bindgen-cli, cargo-nextest, the C build
# tools rdkafka needs, Chromium, and the end-to-end test's npm packages. A second run takes seconds.
set -euo pipefail
source "$(dirname "$0")/env.sh"
mkdir -p "$K8X_TOOLS"

WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen pinned in Cargo.toml
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

apt_updated=""
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]} (apt)"
  if [ -z "$apt_updated" ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# C tools for rdkafka's bundled librdkafka (cmake-build), OpenSSL's headers for libgit2's https (git2), and
# the browser for end-to-end tests; sshd for the test of projects over ssh; xz to unpack the release build's
# execution profile (pgo/).
apt_install cmake libcurl4-openssl-dev libssl-dev pkg-config chromium openssh-server xz-utils

# PostgreSQL for the tests (trust auth on 127.0.0.1, TOOLCHAIN.md §0): installed and started when missing.
if [ -z "${K8X_TEST_POSTGRES_URL:-}" ]; then
  apt_install postgresql
  pg_version=$(ls /etc/postgresql | head -n1)
  hba=/etc/postgresql/$pg_version/main/pg_hba.conf
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    say "PostgreSQL: trust authentication on 127.0.0.1"
    sed -i '/^\(host\|local\)/d' "$hba"
    printf 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n' >> "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$pg_version" main reload 2>/dev/null || true
  fi
  if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    say "starting PostgreSQL $pg_version"
    pg_ctlcluster --skip-systemctl-redirect "$pg_version" main start
  fi
fi

# The wasm32 target: rustup's if it can be had, else Debian's Rust with build-std (TOOLCHAIN.md §1).
if [ -f "$K8X_TOOLS/toolchain.env" ]; then
  :
elif rustup target list --installed 2>/dev/null | grep -q wasm32-unknown-unknown; then
  :
elif timeout 120 rustup target add wasm32-unknown-unknown; then
  say "wasm32 target installed with rustup"
else
  say "rustup cannot fetch the wasm32 target; using Debian's Rust with build-std"
  apt_install rustc-web cargo-web rust-web-src rust-web-llvm lld-22
  cat > "$K8X_TOOLS/toolchain.env" <<'ENV'
export PATH=/usr/bin:$PATH
export RUSTC_BOOTSTRAP=1
export WASM_BUILD_FLAGS="-Zbuild-std=std,panic_abort"
ENV
  source "$K8X_TOOLS/toolchain.env"
fi

# std's sources, for the release bundle's own std (build.sh --release); Debian's fallback ships them.
if [ ! -f "$K8X_TOOLS/toolchain.env" ] && ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
  timeout 120 rustup component add rust-src || say "rustup cannot fetch rust-src: build.sh --release will fail"
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  # Unlocked first (its lockfile pins a webpki-roots the index no longer serves); locked if a newer dependency
  # turns out to need a newer rustc than this machine's.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force \
    || cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force --locked
fi

if ! cargo nextest --version >/dev/null 2>&1; then
  say "installing cargo-nextest"
  cargo install cargo-nextest --locked
fi

# End-to-end test packages: reinstalled only when the lockfile changes.
lock="$K8X_ROOT/end2end/package-lock.json"
stamp="$K8X_ROOT/end2end/node_modules/.k8x-lock.sha256"
if [ -f "$lock" ]; then
  sum=$(sha256sum "$lock" | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
    say "installing end-to-end test packages (npm ci)"
    (cd "$K8X_ROOT/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
    echo "$sum" > "$stamp"
  fi
fi

# A real Apache Kafka broker for the Kafka bus tests (jars from Maven Central; needs Java 17+ and Maven).
if ! command -v java >/dev/null 2>&1 || ! command -v mvn >/dev/null 2>&1; then
  say "installing Java and Maven for the Kafka broker"
  apt_install openjdk-17-jre-headless maven
fi
"$K8X_ROOT/scripts/kafka.sh" install
