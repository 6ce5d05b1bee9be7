#!/usr/bin/env bash
# Runs every test of meterwire in every runtime, installing what is missing first.
# Each stage is one suite; the last line is `ci: N passed, N failed` (N counts suites).
#
#   bash scripts/test.sh            # everything
#   STAGES="rust conformance" bash scripts/test.sh   # a subset
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

passed=0
failed=0
failed_names=()

stage() {
    local name="$1"
    shift
    if [ -n "${STAGES:-}" ] && [[ " $STAGES " != *" $name "* ]]; then
        return 0
    fi
    echo
    echo "=== stage: $name"
    local start=$SECONDS
    if "$@"; then
        passed=$((passed + 1))
        echo "=== stage $name: passed ($((SECONDS - start)) s)"
    else
        failed=$((failed + 1))
        failed_names+=("$name")
        echo "=== stage $name: FAILED ($((SECONDS - start)) s)"
    fi
}

stage_fmt() { cargo fmt --all -- --check; }
stage_clippy() {
    cargo clippy --workspace --all-targets --locked -- -D warnings &&
        cargo clippy -p meterwire-bus -p meterwire-cli --features serial --all-targets --locked -- -D warnings &&
        cargo clippy -p meterwire-python --features arrow --all-targets --locked -- -D warnings
}
stage_rust() { cargo test --workspace --locked; }
stage_no_std() { cargo build -p meterwire --no-default-features --locked; }
stage_docs() { RUSTDOCFLAGS="-D warnings" cargo doc -p meterwire --no-deps --locked; }
stage_fuzz() { FUZZ_SECONDS="${FUZZ_SECONDS:-60}" bash scripts/fuzz.sh; }
stage_samples() {
    cargo build -p meterwire-cli --locked || return 1
    local file
    # samples/<protocol>.hex: the file name is the protocol (Modbus RTU cannot be detected).
    for file in samples/*.hex; do
        target/debug/meterwire decode --file "$file" --protocol "$(basename "$file" .hex)" \
            --format ndjson >/dev/null || return 1
    done
}

stage_bench() { cargo bench -p meterwire-bench --locked -- --test; }
stage_python() { bash scripts/test-python.sh; }
stage_spark() { bash scripts/test-spark.sh; }
stage_node() { bash scripts/test-node.sh; }
stage_wasm() { bash scripts/test-wasm.sh; }
stage_web() { bash scripts/test-web.sh; }
stage_serial() { bash scripts/test-serial.sh; }
stage_listen() { bash scripts/test-listen.sh; }

ensure_rust_components
stage fmt stage_fmt
stage clippy stage_clippy
stage rust stage_rust
stage no_std stage_no_std
stage docs stage_docs
stage samples stage_samples
stage bench stage_bench
stage python stage_python
stage spark stage_spark
stage node stage_node
stage wasm stage_wasm
stage web stage_web
stage serial stage_serial
stage listen stage_listen
stage fuzz stage_fuzz

echo
if [ "$failed" -gt 0 ]; then
    echo "failed stages: ${failed_names[*]}"
fi
echo "ci: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
