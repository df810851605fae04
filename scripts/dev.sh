#!/usr/bin/env bash
# The fast edit loop: `run.sh` with the debug builds (a rebuild after a change takes seconds, not minutes; the
# server is slower and the browser bundle larger). Same configuration, same data directory.
set -euo pipefail
K8X_DEV=1 exec "$(dirname "$0")/run.sh" "$@"
