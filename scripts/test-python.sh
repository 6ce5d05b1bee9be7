#!/usr/bin/env bash
# Builds the meterwire wheel (bindings-python, one abi3 wheel) and runs its pytest suite.
#
#   bash scripts/test-python.sh            # build, install into .venv, run the tests
#   bash scripts/test-python.sh -k stream  # extra arguments go to pytest
#   bash scripts/test-python.sh --build-only  # build and install the wheel, no tests
#
# Release profile: the conformance, corpus and hostile-input tests decode a lot and the wheel
# is what the benchmark measures; the LTO `dist` profile (published wheels) is slower to build
# and not needed to test. Exits with pytest's status; pytest's 5 (no test collected) fails.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/python-env.sh
source scripts/python-env.sh

export PYO3_PYTHON="$py"
rm -rf dist/python
maturin build --release --locked -m bindings-python/Cargo.toml --interpreter "$py" --out dist/python
wheels=(dist/python/meterwire-*.whl)
if [ "${#wheels[@]}" -ne 1 ] || [ ! -f "${wheels[0]}" ]; then
    echo "test-python: expected one wheel in dist/python, found: ${wheels[*]}" >&2
    exit 1
fi
echo "test-python: built ${wheels[0]} ($(du -k "${wheels[0]}" | cut -f1) KiB)"
"$venv/bin/pip" install --disable-pip-version-check -q --force-reinstall --no-deps "${wheels[0]}"
if [ "${1:-}" = "--build-only" ]; then
    exit 0
fi

status=0
"$py" -m pytest bindings-python/tests -q -p no:cacheprovider "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "test-python: pytest collected no test" >&2
fi
exit "$status"
