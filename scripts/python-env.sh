#!/usr/bin/env bash
# Creates the project's Python environment (.venv at the repository root) and installs the
# pinned build and test tools into it, each only when it is missing or at another version.
#
#   source scripts/python-env.sh     # sets $venv and $py, puts .venv/bin first on PATH
#   bash scripts/python-env.sh       # just prepares .venv
#
# Pins: maturin 1.16.0 (builds the abi3 wheel), pytest 9.2.0 (runs bindings-python/tests);
# pyarrow 26.0.1, polars 2.1.0, duckdb 2.0.0, numpy 2.4.6 and pandas 3.1.1 (the engines that
# read `readings_arrow` tables in bindings-python/tests/test_arrow.py). pyspark is installed by
# scripts/test-spark.sh only.

mw_python_env() {
    local root
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    venv="$root/.venv"
    py="$venv/bin/python"
    if [ ! -x "$py" ]; then
        echo "python-env: creating $venv"
        python3 -m venv "$venv" || return 1
    fi
    local spec name want have
    for spec in maturin==1.16.0 pytest==9.2.0 pyarrow==26.0.1 polars==2.1.0 duckdb==2.0.0 \
        numpy==2.4.6 pandas==3.1.1; do
        name="${spec%%==*}"
        want="${spec##*==}"
        have="$("$venv/bin/pip" show "$name" 2>/dev/null | sed -n 's/^Version: //p' || true)"
        if [ "$have" != "$want" ]; then
            echo "python-env: installing $spec (found: ${have:-none})"
            "$venv/bin/pip" install --disable-pip-version-check -q "$spec" || return 1
        fi
    done
    export VIRTUAL_ENV="$venv"
    case ":$PATH:" in
        *":$venv/bin:"*) ;;
        *) export PATH="$venv/bin:$PATH" ;;
    esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    mw_python_env
else
    mw_python_env || return 1
fi
