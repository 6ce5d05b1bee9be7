"""Speed of ``readings_arrow`` (Arrow tables of readings) - a benchmark, not a test.

    bash scripts/test-python.sh --build-only           # builds and installs the wheel
    .venv/bin/python bindings-python/bench/bench_arrow.py [--frames N] [--samples K] [--spark]

Rows (best of K samples of wall-clock time, N frames each, default 1,000,000):

Each set is read as an Arrow ``binary`` array on one thread and on all cores (``threads``),
and as a list of bytes on all cores.

- ``mix``: the ~100-byte wired M-Bus frames of ``bench_decode.py`` (libmbus ``ok`` frames,
  76 meters of 40-odd makes) repeated to N, as an Arrow ``binary`` array and as a list of
  bytes. Their readings have ~385 distinct keys, so the table is wide and sparse.
- ``fleet``: N responses of one ~100-byte water meter layout (volume, target volume and date,
  date-time, flow, temperatures, fabrication number, operating time, tariffs), each with its
  own id and volume: the zero-copy path of the core (``view_reading``) reads them all.
- ``wmbus-mode5``: N copies of the OMS Annex N mode-5 telegram with its key (AES-CBC
  decryption of every telegram).
- pymbusparser ``parse(f)`` on a sample of each wired set in the same run (the ratio).
- ``--spark``: the PySpark example (``examples/spark_readings.py``) in local[2] over N fleet
  frames from Parquet: frames per second of the job (read, mapInArrow, write Parquet).
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

from bench_decode import ensure_competitors, load_frames  # noqa: E402

# A water meter's RSP_UD (CI 72) of 100 bytes: records as the core's digests describe them.
FLEET_RECORDS = (
    "0C 13 00000000"  # volume, 8-digit BCD, litres (varied per frame)
    " 4C 13 11223300"  # target volume (storage 1)
    " 42 6C 1F31"  # target date, type G: 2024-01-31 (storage 1)
    " 04 6D 2B0EF92C"  # meter date-time, type F
    " 0B 3B 452301"  # flow, 6-digit BCD, L/h
    " 02 5A 2F01"  # flow temperature 0.1 C
    " 02 5E 1401"  # return temperature 0.1 C
    " 0C 78 78563412"  # fabrication number, BCD
    " 04 22 10270000"  # on time, hours
    " 04 26 10270000"  # operating time, hours
    " 8C 10 13 01000000"  # volume, tariff 1
    " 8C 20 13 02000000"  # volume, tariff 2
    " 8C 01 13 03000000"  # volume, storage 2
    " 02 FD 74 2C01"  # remaining battery lifetime, days
)


def bcd4(n: int) -> bytes:
    digits = f"{n:08d}"
    return bytes(int(digits[i : i + 2], 16) for i in (6, 4, 2, 0))


def fleet_frame(i: int) -> bytes:
    header = bytes.fromhex("08 05 72") + bcd4(20_000_000 + i) + bytes.fromhex("2D2C 1B 07 2A 00 0000")
    records = bytearray.fromhex(FLEET_RECORDS)
    records[2:6] = bcd4((i * 37) % 100_000_000)
    body = header + bytes(records)
    return bytes([0x68, len(body), len(body), 0x68]) + body + bytes([sum(body) & 0xFF, 0x16])


def best_of(samples: int, fn):
    """Best time of `samples` calls and the last result. The previous result is released
    before each call: a mixed-fleet table is gigabytes, and two of them alive while a third
    is built would time the kernel's reclaiming, not the code."""
    times = []
    result = None
    for _ in range(samples):
        result = None
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def spark_fps(frames, tmp: Path) -> float:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyspark.sql import SparkSession

    sys.path.insert(0, str(REPO / "examples"))
    from spark_readings import readings_dataframe

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    pq.write_table(pa.table({"frame": pa.array(frames, pa.binary())}), tmp / "frames.parquet")
    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate()
    )
    spark.sparkContext.addPyFile(str(REPO / "examples" / "spark_readings.py"))
    try:
        df = spark.read.parquet(str(tmp / "frames.parquet"))
        # One warm-up job (JVM, Python workers), then the measured one.
        readings_dataframe(df.limit(1000)).write.mode("overwrite").parquet(str(tmp / "warm"))
        start = time.perf_counter()
        readings_dataframe(df).write.mode("overwrite").parquet(str(tmp / "readings"))
        seconds = time.perf_counter() - start
        assert spark.read.parquet(str(tmp / "readings")).count() == len(frames)
    finally:
        spark.stop()
    return len(frames) / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--spark", action="store_true")
    args = parser.parse_args()
    ensure_competitors()

    import pyarrow as pa
    import pymbusparser

    import meterwire

    n = args.frames
    mix, origin = load_frames(meterwire)
    mix_n = (mix * (n // len(mix) + 1))[:n]
    fleet = [fleet_frame(i) for i in range(n)]
    line = next(
        json.loads(l)
        for l in open(REPO / "tests" / "conformance" / "wmbus.jsonl", encoding="utf-8")
        if '"wmbus-oms-annex-n-mode5"' in l
    )
    telegram, key = bytes.fromhex(line["hex"]), line["key"]

    # The fleet frame reads as to_reading reads it (the zero-copy path is exact).
    sample = pa.table(meterwire.readings_arrow(fleet[:3])).to_pylist()[1]
    for k, v in meterwire.to_reading(fleet[1]).items():
        assert k == "status" or sample[k] == v, (k, sample.get(k), v)

    print(f"python {sys.version.split()[0]}, meterwire {meterwire.__version__}, "
          f"pymbusparser {pymbusparser.__version__ if hasattr(pymbusparser, '__version__') else '0.5.3'}; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"mix: {len(mix)} frames from {origin}, mean {statistics.mean(map(len, mix)):.0f} B; "
          f"fleet: {len(fleet[0])} B; wmbus-mode5: {len(telegram)} B")
    print()
    print(f"| set | input | frames | rows x columns | seconds | ns/frame |")
    print(f"|---|---|---:|---|---:|---:|")
    results = {}
    for name, frames, kwargs in (
        ("mix", mix_n, {}),
        ("fleet", fleet, {}),
        ("wmbus-mode5", [telegram] * n, {"keys": key}),
    ):
        column = pa.array(frames, pa.binary())
        cores = os.cpu_count() or 1
        for label, data, threads in (
            ("arrow binary, 1 thread", column, 1),
            (f"arrow binary, {cores} threads", column, None),
            (f"list of bytes, {cores} threads", frames, None),
        ):
            seconds, table = best_of(
                args.samples, lambda: meterwire.readings_arrow(data, threads=threads, **kwargs)
            )
            shape = pa.table(table).shape
            table = None  # released before the next row is built
            results[(name, label)] = seconds / n
            print(f"| {name} | {label} | {n:,} | {shape[0]:,} x {shape[1]} | {seconds:.3f} | "
                  f"{seconds / n * 1e9:,.0f} |")
    print()
    for name, frames in (("mix", mix), ("fleet", fleet[:20_000])):
        ok = []
        for f in frames:
            try:
                pymbusparser.parse(f)
                ok.append(f)
            except Exception:  # noqa: BLE001 - frames it refuses are left out
                pass
        reps = max(1, 20_000 // len(ok))
        seconds, _ = best_of(args.samples, lambda: [pymbusparser.parse(f) for _ in range(reps) for f in ok])
        per = seconds / (reps * len(ok))
        one = results[(name, "arrow binary, 1 thread")]
        best = min(v for (set_name, _), v in results.items() if set_name == name)
        print(f"pymbusparser parse(f) on {name}: {per * 1e9:,.0f} ns/frame "
              f"({len(ok)} of {len(frames)} frames accepted); readings_arrow is "
              f"{per / one:.0f}x faster on 1 thread, {per / best:.0f}x on all cores")
    if args.spark:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            fps = spark_fps(fleet, Path(tmp))
        print(f"spark local[2]: {fps:,.0f} frames/s ({n:,} fleet frames, Parquet -> mapInArrow "
              f"readings_arrow -> Parquet)")


if __name__ == "__main__":
    main()
