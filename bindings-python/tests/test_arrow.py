"""``readings_arrow`` / ``records_arrow``: Arrow tables through the PyCapsule interface.

Every own conformance vector that decodes gives, in ``readings_arrow``, the values of
``to_reading`` (numbers as float64 and as their exact decimal text, text keys, status flags)
and, in ``records_arrow``, the rows of ``readings``; pyarrow, polars, DuckDB and pandas read
the tables; the inputs may be lists, Arrow binary / string (hex) arrays or numpy ``S`` arrays.
"""

import datetime
import json
from decimal import Decimal

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import pytest

import meterwire
from conftest import own_vectors, vector_options

VECTORS = [v for v in own_vectors() if "error" not in (v["expected"] or {})]

# A Kamstrup water meter's RSP_UD (the core's reading test frame): id 12345678, KAM, water,
# volume 0C 13 BCD 01234567 L = 1234.567 m3.
RSP_UD = "68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 67 45 23 01 0D 16"
RSP_UD_BYTES = bytes.fromhex(RSP_UD.replace(" ", ""))


def row_of(table, index=0):
    rows = pa.table(table).to_pylist()
    return rows[index]


@pytest.mark.parametrize("line", VECTORS, ids=[v["name"] for v in VECTORS])
def test_readings_arrow_equals_to_reading(line):
    opts = vector_options(line)
    reading = meterwire.to_reading(line["hex"], **opts)
    table = pa.table(meterwire.readings_arrow([line["hex"]], on_error="collect", **opts))
    assert table.num_rows == 1
    row = table.to_pylist()[0]
    assert row["frame"] == 0 and row["error"] is None
    seen = {"frame", "error", "status"}
    for key, value in reading.items():
        if key == "status" and isinstance(value, str):
            assert (" ".join(row["status"]) or "OK") == value
        elif key == "status":  # a Modbus profile's register labelled "status"
            assert float(row["status"][0]) == value
        elif isinstance(value, str):
            assert row[key] == value, key
            seen.add(key)
        else:
            exact = row[f"{key}_exact"]
            assert Decimal(exact) == Decimal(repr(value)) or float(exact) == value, key
            assert row[key] == value, key
            seen.update((key, f"{key}_exact"))
    # Nothing in the row that the reading does not have.
    assert {k for k, v in row.items() if v is not None} <= seen
    # records_arrow has the rows of `readings` (one per record), framed by the input's index.
    records = pa.table(meterwire.records_arrow([line["hex"]], **opts)).to_pydict()
    columns = meterwire.readings([line["hex"]], **opts)
    assert records == columns


def test_table_shape_and_types():
    t = pa.table(meterwire.readings_arrow([RSP_UD, RSP_UD_BYTES]))
    assert t.column_names == [
        "frame",
        "protocol",
        "id",
        "manufacturer",
        "media",
        "total_m3",
        "total_m3_exact",
        "status",
    ]
    assert t.schema.field("frame").type == pa.uint64()
    assert t.schema.field("total_m3").type == pa.float64()
    assert t.schema.field("total_m3_exact").type == pa.string()
    assert t.schema.field("status").type == pa.list_(pa.string())
    assert t.to_pydict()["total_m3_exact"] == ["1234.567", "1234.567"]
    assert t.to_pydict()["id"] == ["12345678", "12345678"]


def test_timestamps_are_utc_microseconds():
    when = datetime.datetime(2026, 11, 25, 16, 0, 0, 123456, tzinfo=datetime.timezone.utc)
    micros = 1_795_622_400_123_456
    for timestamps in (
        [when, None],
        [micros, None],
        pa.array([micros, None], pa.timestamp("us", "UTC")),
        pa.array([micros * 1000, None], pa.timestamp("ns")),
    ):
        t = pa.table(meterwire.readings_arrow([RSP_UD, RSP_UD], timestamps=timestamps))
        assert t.schema.field("timestamp").type == pa.timestamp("us", "UTC")
        assert t.column("timestamp").to_pylist() == [when, None]
    with pytest.raises(ValueError):
        meterwire.readings_arrow([RSP_UD], timestamps=[datetime.datetime(2026, 1, 1)])


def test_on_error_skip_and_collect():
    frames = [RSP_UD, "00", RSP_UD[:-2] + "17", RSP_UD]
    skipped = pa.table(meterwire.readings_arrow(frames))
    assert skipped.column("frame").to_pylist() == [0, 3]
    assert "error" not in skipped.column_names
    collected = pa.table(meterwire.readings_arrow(frames, on_error="collect")).to_pylist()
    assert [r["frame"] for r in collected] == [0, 1, 2, 3]
    assert collected[0]["error"] is None and collected[0]["total_m3"] == 1234.567
    assert collected[1]["error"]["kind"] == "unknown_protocol"
    assert collected[1]["total_m3"] is None
    # The stop byte 17 instead of 16 (offset 26).
    assert (collected[2]["error"]["kind"], collected[2]["error"]["offset"]) == ("stop", 26)
    records = pa.table(meterwire.records_arrow(frames, on_error="collect")).to_pylist()
    assert [r["frame"] for r in records] == [0, 3, 1, 2]
    assert records[2]["error"]["kind"] == "unknown_protocol" and records[2]["quantity"] is None
    with pytest.raises(ValueError):
        meterwire.readings_arrow(frames, on_error="raise")


def test_inputs_arrow_numpy_and_lists():
    want = pa.table(meterwire.readings_arrow([RSP_UD_BYTES] * 3)).to_pydict()
    hex_text = RSP_UD.replace(" ", "")
    for frames in (
        pa.array([RSP_UD_BYTES] * 3, pa.binary()),
        pa.array([RSP_UD_BYTES] * 3, pa.large_binary()),
        pa.array([RSP_UD_BYTES] * 3, pa.binary_view()),
        pa.array([hex_text] * 3, pa.string()),
        pa.array([hex_text] * 3, pa.large_string()),
        pa.chunked_array([[RSP_UD_BYTES], [RSP_UD_BYTES] * 2], pa.binary()),
        pl.Series([RSP_UD_BYTES] * 3),
        np.array([RSP_UD_BYTES] * 3, dtype="S40"),
        np.array([RSP_UD_BYTES] * 3),
        [memoryview(RSP_UD_BYTES), bytearray(RSP_UD_BYTES), hex_text],
    ):
        got = pa.table(meterwire.readings_arrow(frames)).to_pydict()
        assert got == want, type(frames)
    with pytest.raises(TypeError):
        meterwire.readings_arrow(pa.array([1, 2, 3]))
    with pytest.raises(TypeError):
        meterwire.readings_arrow(np.array([1, 2, 3]))
    with pytest.raises(TypeError):
        meterwire.readings_arrow(RSP_UD_BYTES)
    # A null in an Arrow column is a frame that does not decode (kind "empty").
    t = pa.table(
        meterwire.readings_arrow(pa.array([RSP_UD_BYTES, None]), on_error="collect")
    ).to_pylist()
    assert t[1]["error"]["kind"] == "empty"


def test_keys_decrypt_wmbus_mode5():
    line = next(v for v in own_vectors("wmbus") if v["name"] == "wmbus-oms-annex-n-mode5")
    want = meterwire.to_reading(line["hex"], protocol="wmbus", keys=line["key"])
    row = row_of(meterwire.readings_arrow([line["hex"]], keys=line["key"], protocol="wmbus"))
    numbers = {k: v for k, v in want.items() if isinstance(v, float)}
    assert numbers, want
    for key, value in numbers.items():
        assert row[key] == value
    locked = row_of(meterwire.readings_arrow([line["hex"]], protocol="wmbus"))
    assert all(locked.get(k) is None for k in numbers)


def test_engines_read_the_table_without_pyarrow_in_between():
    frames = [RSP_UD_BYTES] * 4
    table = meterwire.readings_arrow(frames)
    df = pl.DataFrame(table)
    assert df.shape[0] == 4 and df["total_m3"].to_list() == [1234.567] * 4
    assert df.schema["status"] == pl.List(pl.String)
    con = duckdb.connect()
    arrow_table = meterwire.readings_arrow(frames)
    total = con.sql("SELECT sum(total_m3), any_value(id) FROM arrow_table").fetchall()[0]
    assert total == (pytest.approx(4 * 1234.567), "12345678")
    pdf = pa.table(meterwire.readings_arrow(frames)).to_pandas()
    assert list(pdf["total_m3_exact"]) == ["1234.567"] * 4
    records = pl.DataFrame(meterwire.records_arrow(frames))
    assert records["quantity"].to_list() == ["volume"] * 4
    assert records["frame"].to_list() == [0, 1, 2, 3]
    assert records["exact"].to_list() == ["1234.567"] * 4


def test_a_batch_equals_frame_by_frame():
    """All decodable vectors of one option set in one call: the same rows as one by one."""
    lines = [v for v in VECTORS if vector_options(v) == {"protocol": "auto"}]
    assert len(lines) > 20
    batch = pa.table(meterwire.readings_arrow([v["hex"] for v in lines])).to_pylist()
    assert [r["frame"] for r in batch] == list(range(len(lines)))
    for line, row in zip(lines, batch):
        reading = meterwire.to_reading(line["hex"])
        for key, value in reading.items():
            if key != "status":
                assert row[key] == value, (line["name"], key)
        assert json.dumps(reading)  # a plain dict


def test_zero_copy_path_equals_to_reading_on_a_full_water_meter_frame():
    """A 100-byte RSP_UD (bench/bench_arrow.py's fleet frame) with dates, a fabrication
    number, tariffs, storage numbers and temperatures: read from the core's zero-copy views,
    the row is to_reading's, key for key; a frame with a VIFE (only decode reads it) too."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    from bench_arrow import fleet_frame

    frames = [fleet_frame(i) for i in range(3)]
    # The same frame with VIF 93 3C (backward flow volume, a combinable VIFE) appended.
    body = frames[0][4:-2] + bytes.fromhex("0C933C01000000")
    frames.append(bytes([0x68, len(body), len(body), 0x68]) + body + bytes([sum(body) & 0xFF, 0x16]))
    rows = pa.table(meterwire.readings_arrow(frames)).to_pylist()
    assert len(rows) == 4
    for frame, row in zip(frames, rows):
        reading = meterwire.to_reading(frame)
        assert len(reading) > 15
        for key, value in reading.items():
            if key == "status":
                assert (" ".join(row["status"]) or "OK") == value
            else:
                assert row[key] == value, key
        assert {k for k, v in row.items() if v is not None and not k.endswith("_exact")} == (
            set(reading) | {"frame"}
        )
    assert rows[1]["meter_datetime"] == "2023-12-25T14:43"
    assert rows[1]["fabrication_no"] == "12345678"
    assert rows[1]["total_tariff_2_m3_exact"] == "0.002"
    assert rows[3]["total_backward_flow_m3"] == pytest.approx(0.001)


def test_hostile_frames_never_crash():
    import random

    rng = random.Random(19)
    frames = [bytes(rng.randrange(256) for _ in range(rng.randrange(0, 120))) for _ in range(2000)]
    # Mutations of a valid frame reach deeper layers.
    for _ in range(2000):
        f = bytearray(RSP_UD_BYTES)
        f[rng.randrange(len(f))] = rng.randrange(256)
        frames.append(bytes(f))
    t = pa.table(meterwire.readings_arrow(frames, on_error="collect"))
    assert t.num_rows == len(frames)
    errors = t.column("error").to_pylist()
    for frame, error in zip(frames, errors):
        if error is None:
            meterwire.decode(frame)
        else:
            with pytest.raises(meterwire.MeterwireError) as e:
                meterwire.decode(frame)
            assert (e.value.kind, e.value.offset) == (error["kind"], error["offset"])
    # records_arrow: a row per record, and one per failing frame.
    r = pa.table(meterwire.records_arrow(frames, on_error="collect"))
    want = {
        i
        for i, (frame, error) in enumerate(zip(frames, errors))
        if error is not None or meterwire.decode(frame)["records"]
    }
    assert set(r.column("frame").to_pylist()) == want


def test_threads_give_the_table_of_one_thread():
    """A call large enough to be split over threads gives the rows, columns and values of the
    same call on one thread (column order: first appearance; a key only the second part has
    is null in the first part's rows)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    from bench_arrow import fleet_frame

    n = 40_000
    frames = [fleet_frame(i) for i in range(n)]
    frames[n - 5] = RSP_UD_BYTES  # one Kamstrup frame near the end: no new key
    # A key only the second part has: the Kamstrup frame as a heat meter's energy (VIF 06,
    # kWh), checksum recomputed.
    energy = bytearray(RSP_UD_BYTES)
    energy[14], energy[20] = 0x04, 0x06
    energy[25] = sum(energy[4:25]) & 0xFF
    frames[n - 3] = bytes(energy)
    frames[7] = b"\x00\x01"  # an error in the first part
    one = pa.table(meterwire.readings_arrow(frames, threads=1, on_error="collect"))
    two = pa.table(meterwire.readings_arrow(frames, threads=2, on_error="collect"))
    assert two.column_names == one.column_names
    assert two.to_pydict() == one.to_pydict()
    assert one.column("total_energy_kwh").to_pylist()[n - 3] == 1234567.0  # BCD 01234567 kWh
    # A wM-Bus telegram in the second part (a full frame, read alone): the same table.
    line = next(v for v in own_vectors("wmbus") if v["name"] == "wmbus-oms-annex-n-mode5")
    frames[n - 1] = bytes.fromhex(line["hex"])
    one = pa.table(meterwire.readings_arrow(frames, threads=1, keys=line["key"]))
    two = pa.table(meterwire.readings_arrow(frames, threads=2, keys=line["key"]))
    assert two.to_pydict() == one.to_pydict()
    # A compact wM-Bus frame in the second part whose full frame is in the first: read with
    # the batch's session (the call is read in one piece), its records as the full frame's.
    full = bytes.fromhex("14442D2C78563412010778041339300000025B1400")
    compact = bytes.fromhex("14442D2C78563412010779E9EA20C7393000001400")
    frames[3], frames[n - 2] = full, compact
    one = pa.table(meterwire.readings_arrow(frames, threads=1))
    two = pa.table(meterwire.readings_arrow(frames, threads=2))
    assert two.to_pydict() == one.to_pydict()
    row = one.column("frame").to_pylist().index(n - 2)
    assert one.column("total_m3").to_pylist()[row] == 12.345
    # Its full frame in the second part too: that part reads it alone, the same table.
    frames[n - 4] = full
    one = pa.table(meterwire.readings_arrow(frames, threads=1))
    two = pa.table(meterwire.readings_arrow(frames, threads=2))
    assert two.to_pydict() == one.to_pydict()
    with pytest.raises(ValueError):
        meterwire.readings_arrow(frames, threads=0)
