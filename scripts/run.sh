#!/usr/bin/env bash
# The main job: build meterwire, decode the bundled sample frames and show them, then build
# the web demo and serve it on 127.0.0.1 (the URL is printed; Ctrl-C stops it).
#
#   bash scripts/run.sh              # table view of samples/*.hex, then the web demo
#   FORMAT=ndjson bash scripts/run.sh
#   NO_SERVE=1 bash scripts/run.sh   # stop after building the demo (CI)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

cargo build --release -p meterwire-cli --locked
bin="$root/target/release/meterwire"
status=0
# samples/<protocol>.hex: the file name is the protocol (Modbus RTU cannot be auto-detected;
# for the families that can, naming the protocol decodes the same).
for file in samples/*.hex; do
    echo "### $file"
    "$bin" decode --file "$file" --protocol "$(basename "$file" .hex)" --format "${FORMAT:-table}" || status=$?
done

echo
echo "### web demo"
bash scripts/build-web-demo.sh
if [ "${NO_SERVE:-0}" = 1 ]; then
    echo "web demo built in web-demo/dist (NO_SERVE=1: not serving; bash scripts/serve-web-demo.sh serves it)"
    exit "$status"
fi
if [ "$status" -ne 0 ]; then
    echo "run: some sample frames failed to decode (status $status); serving the demo anyway" >&2
fi
exec bash scripts/serve-web-demo.sh
