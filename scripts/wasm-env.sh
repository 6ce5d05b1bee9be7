#!/usr/bin/env bash
# Installs what the WebAssembly build needs: the wasm32-unknown-unknown Rust target and the
# wasm-bindgen CLI at exactly the version of the `wasm-bindgen` crate in
# bindings-wasm/Cargo.toml (they must match). Each is skipped when already present.
#
#   bash scripts/wasm-env.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    echo "wasm-env: adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
fi

want="$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' bindings-wasm/Cargo.toml)"
if [ -z "$want" ]; then
    echo "wasm-env: no exact wasm-bindgen version pin in bindings-wasm/Cargo.toml" >&2
    exit 1
fi
have="$(wasm-bindgen --version 2>/dev/null || true)"
if [ "$have" != "wasm-bindgen $want" ]; then
    # Without --locked: the CLI's lockfile names a version the registry lacks (toolchain.md).
    echo "wasm-env: installing wasm-bindgen-cli $want (found: ${have:-none}; takes ~6 min)"
    cargo install wasm-bindgen-cli --version "$want"
fi
echo "wasm-env: $(wasm-bindgen --version), target wasm32-unknown-unknown"
