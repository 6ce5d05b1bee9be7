"""Decode raw meter frames at scale with PySpark and meterwire (the Arrow path).

A DataFrame with one raw frame per row (a ``binary`` column, or a ``string`` column of hex)
becomes a readings table, one row per frame, through ``DataFrame.mapInArrow``: every Arrow
batch Spark hands to a Python worker goes to ``meterwire.readings_arrow`` as it is (no
conversion to Python objects), and the table it returns is conformed to a fixed Spark schema
(Spark needs one; the reading's keys depend on the meters, so you name the ones you want).

Run it (the ``meterwire`` wheel must be installed on the driver and on every worker, e.g.
``pip install meterwire`` in the workers' environment or ``spark.archives`` with a packed venv):

    python examples/spark_readings.py frames.parquet readings.parquet \\
        [--column frame] [--master local[2]] [--keys KEYHEX]

``frames.parquet`` needs a column of frames (``--column``, default ``frame``); any other
columns named with ``--keep`` (e.g. a reception time) are carried over to the readings.
From Python::

    from spark_readings import readings_dataframe
    readings = readings_dataframe(spark.read.parquet("frames.parquet"), column="frame")

Frames that do not decode are left out (``on_error="skip"``); pass ``on_error="collect"`` to
keep them with an ``error`` struct column (``kind``, ``offset``, ``message``) - add it to the
schema. Tested by ``scripts/test-spark.sh`` (Spark local mode, 100,000 frames).
"""

import argparse
import sys
import time
from functools import partial
from typing import Any, Dict, Iterator, Optional, Sequence

import pyarrow as pa

import meterwire

# The readings of water meters: identity, the total and flow values (float64 beside their
# exact decimal text), the meter's own time and the status flags. Add the keys your meters
# send (see `meterwire.to_reading`): a number `k` is `k double, k_exact string`.
READINGS_SCHEMA = (
    "protocol string, id string, manufacturer string, media string, "
    "total_m3 double, total_m3_exact string, flow_m3h double, flow_m3h_exact string, "
    "meter_datetime string, status array<string>"
)


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """The columns of ``schema`` from ``table``: present ones cast to the schema's type,
    missing ones all null (a batch whose meters never send a key has no such column)."""
    columns = []
    for field in schema:
        if field.name in table.column_names:
            columns.append(table.column(field.name).cast(field.type))
        else:
            columns.append(pa.nulls(table.num_rows, field.type))
    return pa.Table.from_arrays(columns, schema=schema)


def decode_batches(
    batches: Iterator[pa.RecordBatch],
    *,
    column: str,
    keep: Sequence[str],
    schema: pa.Schema,
    options: Dict[str, Any],
) -> Iterator[pa.RecordBatch]:
    """The function ``mapInArrow`` runs on each partition: batches of frames in, batches of
    readings out (``keep`` columns taken from the input rows that decoded)."""
    readings_schema = pa.schema([f for f in schema if f.name not in keep])
    for batch in batches:
        table = pa.table(meterwire.readings_arrow(batch.column(column), **options))
        out = conform(table, readings_schema)
        if keep:
            rows = batch.select(list(keep)).take(table.column("frame").combine_chunks())
            for name in keep:
                out = out.append_column(schema.field(name), rows.column(name))
            out = out.select(schema.names)
        for piece in out.to_batches():
            yield piece


def readings_dataframe(
    df: Any,
    *,
    column: str = "frame",
    schema: str = READINGS_SCHEMA,
    keep: Sequence[str] = (),
    keys: Optional[Any] = None,
    protocol: Optional[str] = None,
    on_error: str = "skip",
) -> Any:
    """``df`` (one frame per row in ``column``: binary, or hex text) as a readings DataFrame
    with ``schema`` (a Spark DDL string) plus the ``keep`` columns of ``df``."""
    from pyspark.sql.pandas.types import to_arrow_schema
    from pyspark.sql.types import StructType

    struct = StructType.fromDDL(schema)
    for name in keep:
        struct = struct.add(df.schema[name])
    arrow_schema = to_arrow_schema(struct)
    options = {"keys": keys, "protocol": protocol, "on_error": on_error}
    decode = partial(
        decode_batches, column=column, keep=tuple(keep), schema=arrow_schema, options=options
    )
    return df.mapInArrow(decode, struct)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("frames", help="Parquet file (or folder) with a column of frames")
    parser.add_argument("out", help="where to write the readings (Parquet)")
    parser.add_argument("--column", default="frame", help="the column of frames (default frame)")
    parser.add_argument("--keep", action="append", default=[], help="an input column to keep")
    parser.add_argument("--master", default="local[2]", help="Spark master (default local[2])")
    parser.add_argument("--keys", help="wM-Bus key(s): hex, or ID=HEX,ID=HEX")
    parser.add_argument("--protocol", help="the protocol of every frame (default: detect)")
    args = parser.parse_args(argv)

    from pyspark.sql import SparkSession

    spark = SparkSession.builder.master(args.master).appName("meterwire-readings").getOrCreate()
    try:
        frames = spark.read.parquet(args.frames)
        readings = readings_dataframe(
            frames, column=args.column, keep=args.keep, keys=args.keys, protocol=args.protocol
        )
        start = time.perf_counter()
        readings.write.mode("overwrite").parquet(args.out)
        seconds = time.perf_counter() - start
        count = spark.read.parquet(args.out).count()
        print(f"spark_readings: {count} readings in {seconds:.2f} s", file=sys.stderr)
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
