#!/usr/bin/env bash
# Builds the WebAssembly package: cargo (profile `wasm`: LTO, opt-level 3) → wasm-bindgen
# (--target nodejs into bindings-wasm/pkg-node, --target web into bindings-wasm/pkg-web) →
# binaryen's wasm-opt -Oz. Sizes go to pkg-node/build-info.json and are printed.
#
#   bash scripts/build-wasm.sh
#   CARGO_PROFILE_WASM_OPT_LEVEL=s bash scripts/build-wasm.sh   # ~25 % smaller, ~2.5x slower
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/sync-js.sh

bash scripts/wasm-env.sh
bash scripts/node-env.sh

cargo build -p meterwire-wasm --target wasm32-unknown-unknown --profile wasm --locked
wasm="target/wasm32-unknown-unknown/wasm/meterwire_wasm.wasm"
out="bindings-wasm"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

size() { wc -c <"$1" | tr -d ' '; }

# Each package is written to a staging folder and moved in place at the end, so a test
# running meanwhile sees the old package or the new one, never half of one.
for target in nodejs web; do
    case "$target" in
        nodejs) name="pkg-node" ;;
        web) name="pkg-web" ;;
    esac
    stage="$out/.$name.new"
    rm -rf "$stage"
    wasm-bindgen --target "$target" --out-dir "$stage" "$wasm"
    bg="$stage/meterwire_wasm_bg.wasm"
    cp "$bg" "$tmp/$target.wasm"
    if [ "$target" = web ] && cmp -s "$tmp/web.wasm" "$tmp/nodejs.wasm"; then
        # wasm-bindgen wrote the same module for both targets: optimise it once.
        cp "$out/.pkg-node.new/meterwire_wasm_bg.wasm" "$bg"
    else
        # Plain -Oz: the module's target_features section tells wasm-opt which features are
        # on; --all-features would emit stringref, which Node 20 rejects (toolchain.md).
        node_modules/.bin/wasm-opt -Oz "$tmp/$target.wasm" -o "$bg"
    fi
done

# pkg-node is CommonJS inside an ESM package.
printf '{\n  "type": "commonjs"\n}\n' >"$out/.pkg-node.new/package.json"

cat >"$out/.pkg-node.new/build-info.json" <<JSON
{
  "profile": "wasm",
  "opt_level": "${CARGO_PROFILE_WASM_OPT_LEVEL:-3}",
  "cargo_wasm_bytes": $(size "$wasm"),
  "bindgen_wasm_bytes": $(size "$tmp/nodejs.wasm"),
  "wasm_opt_bytes": $(size "$out/.pkg-node.new/meterwire_wasm_bg.wasm"),
  "wasm_opt_gzip_bytes": $(gzip -9 -c "$out/.pkg-node.new/meterwire_wasm_bg.wasm" | wc -c | tr -d ' ')
}
JSON

for name in pkg-node pkg-web; do
    rm -rf "$out/$name"
    mv "$out/.$name.new" "$out/$name"
done
echo "build-wasm: sizes (bytes)"
cat "$out/pkg-node/build-info.json"
