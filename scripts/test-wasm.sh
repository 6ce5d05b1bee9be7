#!/usr/bin/env bash
# Builds the WebAssembly package (scripts/build-wasm.sh) and runs the same JavaScript tests as
# scripts/test-node.sh against it: MW_BACKEND=wasm (the --target nodejs build in
# bindings-wasm/pkg-node) and MW_BACKEND=web (the --target web build the browser demo loads,
# initialised from bytes in Node).
#
#   bash scripts/test-wasm.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/build-wasm.sh
cargo build -p meterwire-cli --locked

status=0
MW_BACKEND=wasm node --test bindings-node/test/*.test.mjs || status=$?
MW_BACKEND=web node --test bindings-node/test/*.test.mjs || status=$?
exit "$status"
