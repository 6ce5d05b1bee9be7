#!/usr/bin/env bash
# Instructions per frame of the zero-copy paths, free of the machine's timing noise: two
# callgrind runs of benches/examples/profile_decode.rs (N and 2N rounds) and their
# difference over N. Needs valgrind.
#   bash scripts/bench-instructions.sh            # wview (wM-Bus telegram: values + storage)
#   bash scripts/bench-instructions.sh wwalk view # walk only; the 22 wired frames (per set)
#   bash scripts/bench-instructions.sh decode json write mbp
#       # per set of wired frames: decode (owned model), decode_json, the JSON writer alone,
#       # and m-bus-parser's record walk (divide by the set's 22 frames for per-frame counts)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
cargo build -q --release -p meterwire-bench --example profile_decode
bin=target/release/examples/profile_decode
n=10000
modes=("$@")
[ ${#modes[@]} -eq 0 ] && modes=(wview)
count() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" 2>&1 \
        | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
for mode in "${modes[@]}"; do
    a=$(count "$n" "$mode")
    b=$(count $((2 * n)) "$mode")
    echo "$mode: $(((b - a) / n)) instructions per round"
done
