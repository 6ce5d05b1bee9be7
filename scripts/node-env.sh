#!/usr/bin/env bash
# Installs the JavaScript build and test tools of meterwire (package.json at the repository
# root: @napi-rs/cli, binaryen's wasm-opt, typescript, playwright-core) into ./node_modules,
# with the exact versions pinned there. Skips npm when every package is already installed at
# its version.
#
#   bash scripts/node-env.sh
#
# Needs Node.js >= 20 and npm. No lockfile and no `npm ci` (shared/toolchain.md: npm ci on
# Node 20 rejects lockfiles that drop optional Node-22 packages).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "node-env: node and npm are required (Node.js >= 20)" >&2
    exit 1
fi
major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 20 ]; then
    echo "node-env: Node.js >= 20 is required, found $(node --version)" >&2
    exit 1
fi

# Every devDependency of package.json present at exactly its pinned version?
missing="$(node -e '
const fs = require("fs");
const pkg = JSON.parse(fs.readFileSync("package.json", "utf8"));
for (const [name, want] of Object.entries(pkg.devDependencies || {})) {
  let have = null;
  try { have = JSON.parse(fs.readFileSync(`node_modules/${name}/package.json`, "utf8")).version; } catch {}
  if (have !== want) console.log(`${name}@${want} (have ${have ?? "none"})`);
}')"
if [ -z "$missing" ]; then
    echo "node-env: node_modules up to date"
    exit 0
fi
echo "node-env: installing: $(echo "$missing" | tr '\n' ' ')"
npm install --no-audit --no-fund --no-package-lock
