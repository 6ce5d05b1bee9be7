"""encode (model → frame), to_reading (flat view) and readings (columnar table)."""

import json

import pytest

import meterwire
from conftest import own_vectors, read_jsonl, shared_vector_files, vector_options

RSP_UD = "68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 67 45 23 01 0D 16"
OK = [v for v in own_vectors() if "error" not in v["expected"]]


@pytest.mark.parametrize("line", OK, ids=[v["name"] for v in OK])
def test_encode_gives_back_the_frame(line):
    frame = bytes.fromhex(line["hex"])
    opts = vector_options(line)
    model = meterwire.decode(frame, **opts)
    keys = {"keys": opts["keys"]} if "keys" in opts else {}
    assert meterwire.encode(model, **keys) == frame
    # The golden model (parsed JSON) encodes too: encode takes what decode_json prints.
    assert meterwire.encode(line["expected"], **keys) == frame
    assert meterwire.encode(json.loads(meterwire.decode_json(frame, **opts)), **keys) == frame


LIBMBUS = [p for p in shared_vector_files() if p.name == "mbus-libmbus.jsonl"]


@pytest.mark.skipif(not LIBMBUS, reason="../shared/vectors not present")
def test_encode_gives_back_every_libmbus_frame():
    count = 0
    for line in read_jsonl(LIBMBUS[0]):
        try:
            model = meterwire.decode(line["hex"])
        except meterwire.MeterwireError:
            continue
        assert meterwire.encode(model).hex().upper() == line["hex"].upper(), line["name"]
        count += 1
    assert count >= 76


def test_encode_edits():
    model = meterwire.decode(RSP_UD)
    model["records"][0]["exact"] = "2345.678"
    del model["records"][0]["value"]
    frame = meterwire.encode(model)
    again = meterwire.decode(frame)
    assert again["records"][0]["exact"] == "2345.678"
    assert again["records"][0]["value"] == 2345.678


def test_encode_errors():
    with pytest.raises(meterwire.FrameError) as info:
        meterwire.encode({"schema_version": 1})
    assert (info.value.kind, info.value.offset) == ("malformed", 0)
    with pytest.raises(TypeError):
        meterwire.encode([])
    with pytest.raises(TypeError):
        meterwire.encode({"schema_version": 1, 2: 3})
    with pytest.raises(ValueError):
        meterwire.encode({"schema_version": float("nan")})


def test_to_reading():
    reading = meterwire.to_reading(meterwire.decode(RSP_UD))
    assert reading == {
        "media": "water",
        "id": "12345678",
        "manufacturer": "KAM",
        "protocol": "mbus",
        "total_m3": 1234.567,
        "status": "OK",
    }
    assert meterwire.to_reading(RSP_UD) == reading
    assert meterwire.to_reading(bytes.fromhex(RSP_UD)) == reading
    stamped = meterwire.to_reading(RSP_UD, timestamp="2026-11-25T16:00:00Z")
    assert stamped == {**reading, "timestamp": "2026-11-25T16:00:00Z"}
    with pytest.raises(meterwire.ChecksumError):
        meterwire.to_reading("107B058116")
    with pytest.raises(meterwire.FrameError) as info:
        meterwire.to_reading({})
    assert info.value.kind == "malformed"


def test_to_reading_of_every_vector_is_flat():
    for line in OK:
        reading = meterwire.to_reading(line["expected"])
        assert reading["protocol"] == line["expected"]["protocol"] and "status" in reading
        assert all(isinstance(v, (str, float)) for v in reading.values()), reading
        assert meterwire.to_reading(line["hex"], **vector_options(line)) == reading


def test_readings_columns():
    mbus = [line for line in OK if line["expected"]["protocol"] == "mbus"]
    frames = [line["hex"] for line in mbus]
    models = [meterwire.decode(f) for f in frames]
    table = meterwire.readings(frames)
    rows = sum(len(m["records"]) for m in models)
    assert rows > 0
    assert {len(column) for column in table.values()} == {rows}
    assert meterwire.readings(models) == table
    assert meterwire.readings(iter(models[:2] + frames[2:])) == table
    assert table["frame"] == [i for i, m in enumerate(models) for _ in m["records"]]
    assert table["quantity"] == [r["quantity"] for m in models for r in m["records"]]
    assert table["label"] == [r.get("label") for m in models for r in m["records"]]
    first = table["quantity"].index("volume")
    assert table["unit"][first] == "m3"
    empty = meterwire.readings([])
    assert all(column == [] for column in empty.values())


def test_readings_errors_carry_the_index():
    with pytest.raises(meterwire.ChecksumError) as info:
        meterwire.readings([RSP_UD, RSP_UD, "107B058116"])
    assert info.value.index == 2
    with pytest.raises(meterwire.FrameError) as info:
        meterwire.readings([RSP_UD, {"not": "a model"}])
    assert (info.value.kind, info.value.index) == ("malformed", 1)
    with pytest.raises(TypeError):
        meterwire.readings(RSP_UD)
    with pytest.raises(TypeError):
        meterwire.readings([1])
