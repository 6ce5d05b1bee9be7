#!/usr/bin/env bash
# The M-Bus master and the meter simulator over a real serial line: a pseudo-terminal pair
# made by socat (the Debian package, installed when missing), `meterwire simulate --serial`
# on one end, `meterwire read --serial` and `meterwire scan --serial` on the other. Builds the
# CLI with the `serial` feature. Every wait is bounded; the background processes are stopped
# by the process ids this script recorded.
#
#   bash scripts/test-serial.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

apt_install socat socat
cargo build -p meterwire-cli --features serial --locked
bin="$root/target/debug/meterwire"

dir="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT

# Two linked pseudo-terminals: the master's end and the meters' end.
socat pty,raw,echo=0,link="$dir/master" pty,raw,echo=0,link="$dir/meters" 2>"$dir/socat.log" &
pids+=($!)
for _ in $(seq 50); do
    [ -e "$dir/master" ] && [ -e "$dir/meters" ] && break
    sleep 0.1
done
[ -e "$dir/meters" ] || { echo "test-serial: socat made no pty pair" >&2; cat "$dir/socat.log" >&2; exit 1; }

"$bin" simulate --serial "$dir/meters" --meters samples/mbus-bus.ndjson 2>"$dir/sim.log" &
pids+=($!)
for _ in $(seq 50); do
    grep -q "simulating" "$dir/sim.log" 2>/dev/null && break
    sleep 0.1
done
grep -q "simulating 5 meter(s)" "$dir/sim.log" || { echo "test-serial: the simulator did not start" >&2; cat "$dir/sim.log" >&2; exit 1; }

fail=0
# Read by primary address: the first meter's line of the file, byte for byte.
got="$(timeout 30 "$bin" read --serial "$dir/master" --address 1 --timeout 500)"
want="$(head -1 samples/mbus-bus.ndjson)"
if [ "$got" = "$want" ]; then echo "test-serial: read --address 1: ok"; else
    echo "test-serial: read --address 1 printed: $got" >&2; fail=1; fi

# Read by secondary address and a two-telegram meter.
got="$(timeout 30 "$bin" read --serial "$dir/master" --secondary 00000042 --timeout 500 --format csv | tail -n +2 | wc -l)"
if [ "$got" -eq 3 ]; then echo "test-serial: read --secondary 00000042 (two telegrams, 3 records): ok"; else
    echo "test-serial: read --secondary 00000042 gave $got records" >&2; fail=1; fi

# The wildcard scan finds all five meters.
got="$(timeout 120 "$bin" scan --serial "$dir/master" --timeout 100 --retries 0 2>"$dir/scan.log" | wc -l)"
cat "$dir/scan.log"
if [ "$got" -eq 5 ]; then echo "test-serial: scan: 5 meters: ok"; else
    echo "test-serial: scan found $got meters" >&2; fail=1; fi
exit "$fail"
