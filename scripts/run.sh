#!/usr/bin/env bash
# The main job: build meterwire, decode the bundled sample frames, and show them.
#
#   bash scripts/run.sh              # table view of samples/*.hex
#   FORMAT=ndjson bash scripts/run.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

cargo build --release -p meterwire-cli --locked
bin="$root/target/release/meterwire"
status=0
for file in samples/*.hex; do
    echo "### $file"
    "$bin" decode --file "$file" --format "${FORMAT:-table}" || status=$?
done
exit "$status"
