"""The PySpark example (``spark_readings.py``) in Spark local mode: 100,000 wired M-Bus frames
in a Parquet file become a readings table equal to ``meterwire.readings_arrow`` over the same
frames. Run by ``scripts/test-spark.sh`` (CI stage ``spark``), which installs pyspark and
Java 17 first; prints the frames per second of the Spark job (2 local cores)."""

import os
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import meterwire

sys.path.insert(0, str(Path(__file__).resolve().parent))
from spark_readings import READINGS_SCHEMA, conform, readings_dataframe  # noqa: E402

FRAMES = 100_000
# Every 1000th frame has a broken checksum: Spark leaves it out as readings_arrow does.
BROKEN_EVERY = 1000

# RSP_UD of a Kamstrup water meter (CI 72): id at bytes 7-10 (BCD, LSB first), volume
# 0C 13 (8-digit BCD, litres) at bytes 21-24, checksum at 25 (sum of bytes 4-24).
TEMPLATE = bytearray.fromhex("68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 67 45 23 01 0D 16")


def bcd4(n: int) -> bytes:
    digits = f"{n:08d}"
    return bytes(int(digits[i : i + 2], 16) for i in (6, 4, 2, 0))


def frame(i: int) -> bytes:
    f = bytearray(TEMPLATE)
    f[7:11] = bcd4(10_000_000 + i)
    f[21:25] = bcd4(i * 7)
    f[25] = sum(f[4:25]) & 0xFF
    if i % BROKEN_EVERY == 999:
        f[25] ^= 0xFF
    return bytes(f)


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    # Workers run this interpreter (the venv with the meterwire wheel and pyarrow).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("meterwire-spark-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )
    # The workers import the example's module as a cluster's would get it.
    session.sparkContext.addPyFile(str(Path(__file__).resolve().parent / "spark_readings.py"))
    yield session
    session.stop()


def test_template_is_the_core_reading_frame():
    assert meterwire.to_reading(bytes(TEMPLATE))["total_m3"] == 1234.567
    assert meterwire.to_reading(frame(12345)) == {
        "media": "water",
        "id": "10012345",
        "manufacturer": "KAM",
        "protocol": "mbus",
        "total_m3": 86.415,
        "status": "OK",
    }


def test_spark_readings_equal_readings_arrow(spark, tmp_path):
    frames = [frame(i) for i in range(FRAMES)]
    source = pa.table(
        {
            "frame": pa.array(frames, pa.binary()),
            "received": pa.array(range(FRAMES), pa.int64()),
        }
    )
    pq.write_table(source, tmp_path / "frames.parquet", row_group_size=25_000)

    df = spark.read.parquet(str(tmp_path / "frames.parquet"))
    readings = readings_dataframe(df, column="frame", keep=["received"])
    start = time.perf_counter()
    readings.write.parquet(str(tmp_path / "readings.parquet"))
    seconds = time.perf_counter() - start
    print(
        f"\nspark: {FRAMES} frames in {seconds:.2f} s = {FRAMES / seconds:,.0f} frames/s "
        f"(local[2], mapInArrow, write to Parquet)"
    )

    got = pq.read_table(tmp_path / "readings.parquet").sort_by("received")
    assert got.num_rows == FRAMES - FRAMES // BROKEN_EVERY
    # The same table as readings_arrow over the same frames, column by column.
    local = pa.table(meterwire.readings_arrow(source.column("frame")))
    schema = pa.schema([f for f in got.schema if f.name != "received"])
    want = conform(local, schema).append_column("received", source.column("received").take(local.column("frame")))
    assert got.select(want.column_names).equals(want.cast(got.select(want.column_names).schema))
    # A few values by hand: frame 12345 (id 10012345, 12345 * 7 L), frame 999 left out.
    row = got.filter(pc.equal(got.column("received"), 12345)).to_pylist()[0]
    assert (row["id"], row["total_m3"], row["total_m3_exact"]) == ("10012345", 86.415, "86.415")
    assert (row["manufacturer"], row["media"], row["status"]) == ("KAM", "water", [])
    assert got.filter(pc.equal(got.column("received"), 999)).num_rows == 0
    assert got.column("flow_m3h").null_count == got.num_rows


def test_hex_column_and_collected_errors(spark):
    hex_frames = [frame(i).hex() for i in range(998, 1002)]
    df = spark.createDataFrame([(h,) for h in hex_frames], "hex string")
    schema = READINGS_SCHEMA + ", error struct<kind: string, offset: bigint, message: string>"
    rows = readings_dataframe(df, column="hex", schema=schema, on_error="collect").collect()
    assert [r["id"] for r in rows] == ["10000998", None, "10001000", "10001001"]
    assert (rows[1]["error"]["kind"], rows[1]["error"]["offset"]) == ("checksum", 25)
    assert rows[2]["total_m3_exact"] == "7.000"
