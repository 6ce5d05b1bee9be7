#!/usr/bin/env bash
# Fuzzes every decoding entry point (fuzz/fuzz_targets/decode.rs) and the stream deframer
# (fuzz/fuzz_targets/stream.rs) with libFuzzer.
#
#   FUZZ_SECONDS=60 FUZZ_STREAM_SECONDS=30 scripts/fuzz.sh
#
# Starts from the hand-built frames in fuzz/seeds/ plus whatever fuzz/corpus/decode holds;
# new inputs go to fuzz/corpus/<target>, crashes to fuzz/artifacts/<target>/ (all git-ignored).
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
# One run per target: `decode` (every decoding entry point) for FUZZ_SECONDS, `stream` (the
# deframer, whole and in pieces) for FUZZ_STREAM_SECONDS (default: half of FUZZ_SECONDS).
# The first corpus directory receives the new inputs; the seeds are only read.
# --debug-assertions turns integer overflow into a crash too.
run_target() {
    local target="$1" seconds="$2" status=0
    mkdir -p "corpus/$target"
    cargo +nightly fuzz run --debug-assertions "$target" "corpus/$target" seeds -- \
        -max_total_time="$seconds" || status=$?
    if [ "$status" -ne 0 ]; then
        echo "fuzz: the $target target failed (exit $status); inputs in fuzz/artifacts/$target/:" >&2
        ls -1 "artifacts/$target/" >&2 2>/dev/null || true
        exit "$status"
    fi
    echo "fuzz: $target: no crash in ${seconds} s"
}
run_target decode "$seconds"
run_target stream "${FUZZ_STREAM_SECONDS:-$((seconds / 2))}"
