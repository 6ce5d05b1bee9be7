#!/usr/bin/env bash
# Builds the Node addon (napi build, release) and runs the JavaScript tests against it:
# conformance vectors, the libmbus corpus against the Rust CLI, hostile input, input types,
# TypeScript declarations, and the native/WASM cross-check when the WASM build exists.
#
#   bash scripts/test-node.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/node-env.sh
# The CLI the tests compare decodeJson with, built from the same tree.
cargo build -p meterwire-cli --locked
bash scripts/sync-js.sh
(cd bindings-node && ../node_modules/.bin/napi build --platform --release --js binding.cjs --dts binding.d.ts -- --locked)

MW_BACKEND=native node --test bindings-node/test/*.test.mjs
