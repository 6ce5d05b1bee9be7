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

# shellcheck source=scripts/lib.sh
source scripts/lib.sh
apt_install chromium chromium
echo "test-web: $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"

cargo build -p meterwire-cli --locked
bash scripts/build-web-demo.sh

node --test web-demo/test/
