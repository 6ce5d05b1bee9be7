#!/usr/bin/env bash
# Copies the shared JavaScript face (bindings-js/) into both JS packages: one source, no
# committed copies. Called by scripts/test-node.sh and scripts/build-wasm.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
for pkg in bindings-node bindings-wasm; do
    mkdir -p "$root/$pkg/types"
    cp "$root/bindings-js/wrap.js" "$root/$pkg/wrap.js"
    cp "$root/bindings-js/meterwire.d.ts" "$root/$pkg/types/meterwire.d.ts"
done
