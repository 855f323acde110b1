#!/usr/bin/env bash
# Builds the playground into web/dist/ (static files only):
#   1. rasp-web for wasm32-unknown-unknown (release),
#   2. wasm-bindgen's JavaScript glue (installed at the version Cargo.lock
#      pins for the wasm-bindgen crate, if missing),
#   3. the page and its worker bundled by esbuild (npm ci first if needed).
# Serve the result with `rasp serve` (or any static file server).
set -euo pipefail
web="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$web")"
cd "$root"

if command -v rustup >/dev/null 2>&1; then
  rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
fi

echo "build.sh: compiling rasp-web to WebAssembly" >&2
cargo build --target wasm32-unknown-unknown --release -p rasp-web
wasm="${CARGO_TARGET_DIR:-$root/target}/wasm32-unknown-unknown/release/rasp_web.wasm"

# The glue generator must be exactly the version of the wasm-bindgen crate.
want="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)"
have="$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)"
if [ "$have" != "$want" ]; then
  echo "build.sh: installing wasm-bindgen-cli $want (found: ${have:-none})" >&2
  # Only the `wasm-bindgen` binary, without TLS (it downloads nothing
  # here). --locked uses the CLI's own lock file; when a crate it pins is
  # missing from the registry (webpki-roots 1.0.11 for 0.2.130), fall back
  # to the newest compatible versions.
  cargo install --locked wasm-bindgen-cli --version "=$want" --no-default-features --bin wasm-bindgen ||
    cargo install wasm-bindgen-cli --version "=$want" --no-default-features --bin wasm-bindgen
fi
rm -rf "$web/build/pkg"
wasm-bindgen --target web --no-typescript --out-dir "$web/build/pkg" "$wasm"

cd "$web"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
rm -rf dist
node bundle.mjs

wasm_bytes=$(wc -c < dist/rasp_web_bg.wasm)
wasm_gzip=$(gzip -9 -c dist/rasp_web_bg.wasm | wc -c)
echo "build.sh: web/dist ready (rasp_web_bg.wasm: $wasm_bytes bytes, $wasm_gzip gzipped)" >&2
