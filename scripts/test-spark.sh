#!/usr/bin/env bash
# The PySpark example (examples/spark_readings.py) in Spark local mode on 2 cores: 100,000
# frames from Parquet through mapInArrow + readings_arrow, checked against readings_arrow
# (examples/test_spark_readings.py). Installs what it needs: the meterwire wheel (built as
# the python stage builds it; cargo's cache makes that quick after that stage), pyspark
# 4.3.0 into .venv (pip's cache keeps the download), and Java 17 (Debian
# openjdk-17-jre-headless) when no Java 17 or later is on the machine.
#
#   bash scripts/test-spark.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
# shellcheck source=scripts/python-env.sh
source scripts/python-env.sh

java_major() {
    "$1" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1
}
java_bin="$(command -v java || true)"
major=0
if [ -n "$java_bin" ]; then
    major="$(java_major "$java_bin")"
    case "$major" in '' | *[!0-9]*) major=0 ;; esac
fi
if [ "$major" -lt 17 ]; then
    echo "test-spark: no Java 17 or later on PATH; installing openjdk-17-jre-headless"
    # apt_install skips when the command exists: ask for the package by its own binary.
    apt_install openjdk-17-jre-headless /usr/lib/jvm/java-17-openjdk-amd64/bin/java
    export JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64
    export PATH="$JAVA_HOME/bin:$PATH"
fi
echo "test-spark: $(java -version 2>&1 | head -n 1)"

want=4.3.0
have="$("$venv/bin/pip" show pyspark 2>/dev/null | sed -n 's/^Version: //p' || true)"
if [ "$have" != "$want" ]; then
    echo "test-spark: installing pyspark==$want (found: ${have:-none})"
    "$venv/bin/pip" install --disable-pip-version-check -q "pyspark==$want"
fi

bash scripts/test-python.sh --build-only

export PYSPARK_PYTHON="$py"
export PYSPARK_DRIVER_PYTHON="$py"
export SPARK_LOCAL_IP=127.0.0.1
status=0
"$py" -m pytest examples/test_spark_readings.py -q -s -p no:cacheprovider "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "test-spark: pytest collected no test" >&2
fi
exit "$status"
