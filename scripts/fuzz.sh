#!/usr/bin/env bash
# Fuzzes every decoding entry point (fuzz/fuzz_targets/decode.rs) with libFuzzer.
#
#   FUZZ_SECONDS=60 scripts/fuzz.sh
#
# Starts from the hand-built frames in fuzz/seeds/ plus whatever fuzz/corpus/decode holds;
# new inputs go to fuzz/corpus/decode, crashes to fuzz/artifacts/decode/ (all git-ignored).
# Exits non-zero when the fuzzer finds a crash (panic, failed assertion, sanitizer report).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${FUZZ_SECONDS:-60}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz 0.13.2"
    cargo install cargo-fuzz --version 0.13.2
fi
if ! rustup toolchain list | grep -q nightly; then
    echo "fuzz: installing the nightly toolchain"
    rustup toolchain install nightly --profile minimal
fi

cd "$root/fuzz"
mkdir -p corpus/decode
# The first corpus directory receives the new inputs; the seeds are only read.
# --debug-assertions turns integer overflow into a crash too.
status=0
cargo +nightly fuzz run --debug-assertions decode corpus/decode seeds -- \
    -max_total_time="$seconds" || status=$?
if [ "$status" -ne 0 ]; then
    echo "fuzz: the decode target failed (exit $status); inputs in fuzz/artifacts/decode/:" >&2
    ls -1 artifacts/decode/ >&2 2>/dev/null || true
    exit "$status"
fi
echo "fuzz: no crash in ${seconds} s"
