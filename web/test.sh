#!/usr/bin/env bash
# The playground's end-to-end test: builds web/dist (./web/build.sh) and the
# rasp binary, then drives the page in headless Chromium (Debian's
# /usr/bin/chromium; `apt-get install -y chromium`) against `rasp serve`.
# Set SKIP_BUILD=1 to test web/dist as it is, RASP_BIN to use another binary.
# `web/test.sh --bench` times redraws instead of checking (a table of ms).
set -euo pipefail
web="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$web")"
cd "$root"

if [ "${SKIP_BUILD:-}" != 1 ]; then
  "$web/build.sh"
fi
if [ -z "${RASP_BIN:-}" ]; then
  # The server only: the binary without training (no candle) is enough.
  cargo build -p rasp-cli --no-default-features
  export RASP_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/rasp"
fi
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "test.sh: no Chromium at ${CHROMIUM:-/usr/bin/chromium} (apt-get install -y chromium)" >&2
  exit 1
fi
[ -d "$web/node_modules" ] || (cd "$web" && npm ci --no-audit --no-fund)
node "$web/tests/browser.mjs" "$@"
