#!/usr/bin/env bash
# The web demo's tests: unit tests of web-demo/lib.js and the end-to-end tests in headless
# Debian Chromium (web-demo/test/*.test.mjs, node --test). Installs what is missing first:
# npm packages (playwright-core, pinned in package.json), the chromium package (apt), the
# WebAssembly package and the demo (scripts/build-web-demo.sh), and the CLI the tests compare
# against. Screenshots go to web-demo/test/screenshots/. The exit status is the tests'.
#
#   bash scripts/test-web.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/node-env.sh

if [ ! -x /usr/bin/chromium ]; then
    echo "test-web: installing Debian chromium"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    # A fresh machine's package lists may be empty or old: read them once first.
    $sudo apt-get update || true
    # apt can fail once mid-unpack (shared/toolchain.md): repair and retry, three times.
    for attempt in 1 2 3; do
        if $sudo apt-get install -y chromium; then
            break
        fi
        [ "$attempt" -eq 3 ] && { echo "test-web: could not install chromium" >&2; exit 1; }
        $sudo apt-get install -f -y || true
        $sudo apt-get update || true
    done
fi
echo "test-web: $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"

cargo build -p meterwire-cli --locked
bash scripts/build-web-demo.sh

node --test web-demo/test/
