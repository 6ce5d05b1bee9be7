#!/usr/bin/env bash
# Builds the web demo into web-demo/dist/ (git-ignored), a self-contained static folder:
# the page (index.html, app.js, lib.js, style.css), the WebAssembly package (web.js, wrap.js,
# pkg-web/) under meterwire/, the sample frames (samples/*.hex + samples/index.json) and the
# example Modbus register profiles (profiles/*.json, examples.jsonl + profiles/index.json).
# Runs scripts/build-wasm.sh only when pkg-web is missing or older than the Rust sources
# (SKIP_WASM_BUILD=1 takes an existing pkg-web as it is, e.g. while the core is mid-edit).
#
#   bash scripts/build-web-demo.sh          # then: bash scripts/serve-web-demo.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/sync-js.sh

wasm="bindings-wasm/pkg-web/meterwire_wasm_bg.wasm"
sources=(Cargo.toml Cargo.lock core/Cargo.toml core/src bindings-wasm/Cargo.toml bindings-wasm/src)
# pkg-node (same build) is what the demo's tests compare the hex reader and build fixtures with.
if [ ! -f "$wasm" ] || [ ! -f bindings-wasm/pkg-web/meterwire_wasm.js ] || [ ! -f bindings-wasm/pkg-node/meterwire_wasm.js ]; then
    echo "build-web-demo: no WebAssembly package yet, building it"
    bash scripts/build-wasm.sh
elif [ "${SKIP_WASM_BUILD:-0}" = 1 ]; then
    echo "build-web-demo: SKIP_WASM_BUILD=1: using the existing WebAssembly package"
elif [ -n "$(find "${sources[@]}" -newer "$wasm" -print -quit 2>/dev/null)" ]; then
    echo "build-web-demo: the WebAssembly package is older than the Rust sources, rebuilding it"
    bash scripts/build-wasm.sh
else
    echo "build-web-demo: WebAssembly package up to date"
fi

dist="web-demo/dist"
rm -rf "$dist"
mkdir -p "$dist/meterwire/pkg-web" "$dist/samples" "$dist/profiles"
cp web-demo/index.html web-demo/app.js web-demo/lib.js web-demo/style.css "$dist/"
cp bindings-wasm/web.js bindings-wasm/wrap.js "$dist/meterwire/"
cp bindings-wasm/pkg-web/meterwire_wasm.js bindings-wasm/pkg-web/meterwire_wasm_bg.wasm "$dist/meterwire/pkg-web/"

# Prints its arguments (JSON objects) as one JSON array.
json_array() {
    printf '['
    local first=1
    for item in "$@"; do
        [ "$first" -eq 1 ] || printf ', '
        first=0
        printf '%s' "$item"
    done
    printf ']\n'
}

# samples/<protocol>.hex → one sample group per protocol (the page shows the groups whose
# protocol the loaded core decodes).
entries=()
for f in samples/*.hex; do
    [ -e "$f" ] || continue
    name="$(basename "$f")"
    cp "$f" "$dist/samples/$name"
    entries+=("{\"protocol\": \"${name%.hex}\", \"file\": \"$name\"}")
done
json_array "${entries[@]}" >"$dist/samples/index.json"

# profiles/*.json → the page's register-profile choices (by file name, without .json), and
# profiles/examples.jsonl → request/response pairs shown as samples with their profile.
profiles=()
for f in profiles/*.json; do
    [ -e "$f" ] || continue
    name="$(basename "$f")"
    cp "$f" "$dist/profiles/$name"
    profiles+=("{\"name\": \"${name%.json}\", \"file\": \"$name\"}")
done
[ -f profiles/examples.jsonl ] && cp profiles/examples.jsonl "$dist/profiles/examples.jsonl"
json_array "${profiles[@]}" >"$dist/profiles/index.json"

echo "build-web-demo: $dist ($(du -sk "$dist" | cut -f1) KB, wasm $(wc -c <"$dist/meterwire/pkg-web/meterwire_wasm_bg.wasm" | tr -d ' ') bytes)"
