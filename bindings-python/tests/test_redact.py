"""The ``redact_key`` option over every conformance frame: no identity of the input (gathered
here from the unredacted model, not by the redactor) survives anywhere in the redacted output
of ``decode``, ``decode_json``, ``decode_many``, ``to_reading``, ``readings`` and
``decode_stream``; pseudonyms are Python's own ``hmac`` HMAC-SHA256 of the id (so every
runtime that passes this file's twin gives the same ones); two keys give different ones."""

import hashlib
import hmac
import json

import pytest

import meterwire
from conftest import OWN_VECTORS, own_vectors, read_jsonl, vector_options

KEY_A = bytes(range(32))
KEY_B = bytes.fromhex("F0E1D2C3B4A5968778695A4B3C2D1E0F" * 2)

ID_QUANTITIES = {"fabrication_no", "enhanced_id", "bus_address", "customer", "serial_number"}
ID_LABELS = {"id", "imei", "imsi", "iccid", "sn", "serialnumber", "deviceid", "meterid"}
RAW_KEYS = {"raw", "spans", "application_data", "manufacturer_data", "encrypted_data", "mac", "a"}


def pseudonym(key: bytes, identity: str) -> str:
    return hmac.new(key, identity.encode(), hashlib.sha256).hexdigest()[:24]


def identities(model: dict) -> set:
    """Meter ids, addresses, device ids, path levels with digits, identity record values."""
    out = set()
    link = model.get("link", {})
    for value in (
        model.get("meter", {}).get("id"),
        (link.get("dll_address") or {}).get("id"),
        ((link.get("ell") or {}).get("address") or {}).get("id"),
        link.get("device_address"),
        link.get("identification"),
        link.get("address") if model["protocol"] == "cjt188" else None,
    ):
        if isinstance(value, str) and value:
            out.add(value)
    paths = [link.get("topic") or "", link.get("uri_path") or ""]
    paths += [o.get("value") for o in link.get("options", []) if o.get("number") in (3, 11, 15)]
    for path in paths:
        for level in str(path).replace("&", "/").replace("=", "/").split("/"):
            if any(c.isdigit() for c in level):
                out.add(level)
    for record in model.get("records", []):
        label = (record.get("label") or "").rsplit(".", 1)[-1].replace("_", "").replace("-", "")
        if record.get("quantity") in ID_QUANTITIES or label.lower() in ID_LABELS:
            value = record.get("exact", record.get("value"))
            if isinstance(value, str):
                out.add(value)
    if isinstance(model.get("payload"), dict):
        out |= identities(model["payload"])
    return out


def forms(identity: str) -> list:
    """The identity as written and, for hex digit strings, its BCD bytes in wire order."""
    result = [identity.upper()]
    if all(c in "0123456789abcdefABCDEF" for c in identity) and len(identity) % 2 == 0:
        result.append(bytes.fromhex(identity)[::-1].hex().upper())
    return [f for f in result if len(f) >= 6]


def raw_fields(value, path=""):
    if isinstance(value, dict):
        for k, v in value.items():
            if k in RAW_KEYS and not (k == "raw" and isinstance(v, int)):
                yield f"{path}.{k}"
            yield from raw_fields(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from raw_fields(v, f"{path}[{i}]")


def decodable():
    lines = []
    for line in own_vectors():
        if "error" in line["expected"]:
            continue
        lines.append(line)
    return lines


LINES = decodable()


def assert_clean(text: str, plain: dict, frame_hex: str, name: str):
    upper = text.upper()
    for identity in identities(plain):
        for form in forms(identity):
            assert form not in upper, f"{name}: {identity!r} survives as {form}: {text}"
    if len(frame_hex) >= 8:
        assert frame_hex.upper() not in upper, name


@pytest.mark.parametrize("line", LINES, ids=[v["name"] for v in LINES])
def test_no_identity_survives(line):
    opts = vector_options(line)
    name, frame = line["name"], line["hex"]
    plain = meterwire.decode(frame, explain=True, **opts)
    text = meterwire.decode_json(frame, explain=True, redact_key=KEY_A, **opts)
    redacted = json.loads(text)
    assert_clean(text, plain, frame, name)
    assert list(raw_fields(redacted)) == [], name
    # decode gives the dict decode_json prints; a hex str key is the same key.
    assert meterwire.decode(frame, explain=True, redact_key=KEY_A.hex(), **opts) == redacted
    meter_id = plain.get("meter", {}).get("id")
    if meter_id:
        assert redacted["meter"]["id"] == pseudonym(KEY_A, meter_id), name
        other = meterwire.decode(frame, redact_key=KEY_B, **opts)["meter"]["id"]
        assert other == pseudonym(KEY_B, meter_id) != redacted["meter"]["id"], name
    # The flat reading: from the frame, or from the unredacted dict, redacted alike.
    reading = meterwire.to_reading(frame, redact_key=KEY_A, **opts)
    assert meterwire.to_reading(plain, redact_key=KEY_A) == reading
    assert_clean(json.dumps(reading), plain, frame, name)
    if meter_id and "id" in reading:
        assert reading["id"] == pseudonym(KEY_A, meter_id)


def test_batches_streams_and_tables_are_redacted():
    frames = [line["hex"] for line in LINES if not line.get("key") and "protocol" not in line]
    plain = meterwire.decode_many(frames, on_error="skip")
    redacted = meterwire.decode_many(frames, on_error="skip", redact_key=KEY_A)
    assert len(redacted) == len(plain) > 15
    text = json.dumps(redacted)
    for model in plain:
        assert_clean(text, model, "", "decode_many")
    table = meterwire.readings(frames[:40], redact_key=KEY_A)
    assert_clean(json.dumps(table), {"protocol": "mbus"}, "", "readings")
    for model in plain[:40]:
        assert_clean(json.dumps(table), model, "", "readings")
    # A capture: garbage bytes and frames' bytes are dropped, ids replaced.
    rsp_ud = "68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 67 45 23 01 0D 16"
    items = meterwire.decode_stream("00 11 22 33 " + rsp_ud + " 44 55 66 77", redact_key=KEY_A)
    assert [i["garbage"] for i in items if "garbage" in i] == ["", ""]
    assert items[1]["frame"]["meter"]["id"] == pseudonym(KEY_A, "12345678")
    assert "00112233" not in json.dumps(items) and "12345678" not in json.dumps(items)


def test_arrow_tables_are_redacted():
    """``readings_arrow`` and ``records_arrow`` with ``redact_key``: the zero-copy path (taken
    by plain wired M-Bus frames without the key) must not bypass the redactor."""
    pa = pytest.importorskip("pyarrow")
    frames = [line["hex"] for line in LINES if not line.get("key") and "protocol" not in line]
    plain = meterwire.decode_many(frames, on_error="skip")
    readings = pa.table(meterwire.readings_arrow(frames, redact_key=KEY_A)).to_pylist()
    records = pa.table(meterwire.records_arrow(frames, redact_key=KEY_A)).to_pylist()
    for model in plain:
        assert_clean(json.dumps(readings, default=str), model, "", "readings_arrow")
        assert_clean(json.dumps(records, default=str), model, "", "records_arrow")
    # The same rows as the redacted flat readings, e.g. the digest's RSP_UD frame.
    rsp_ud = "68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 67 45 23 01 0D 16"
    row = pa.table(meterwire.readings_arrow([rsp_ud], redact_key=KEY_A)).to_pylist()[0]
    assert row["id"] == pseudonym(KEY_A, "12345678")
    assert row["id"] == meterwire.to_reading(rsp_ud, redact_key=KEY_A)["id"]
    assert row["total_m3_exact"] == "1234.567"
    row_b = pa.table(meterwire.readings_arrow([rsp_ud], redact_key=KEY_B)).to_pylist()[0]
    assert row_b["id"] == pseudonym(KEY_B, "12345678") != row["id"]


def test_short_or_wrong_keys_are_refused():
    with pytest.raises(meterwire.FrameError) as info:
        meterwire.decode("E5", redact_key=b"short")
    assert info.value.kind == "malformed"
    with pytest.raises(TypeError):
        meterwire.decode("E5", redact_key=12)


SHARED = read_jsonl(OWN_VECTORS / "redaction" / "redacted.jsonl")


@pytest.mark.parametrize("line", SHARED, ids=[v["name"] for v in SHARED])
def test_shared_redaction_vectors(line):
    """The cross-runtime file (written by the Rust runner): the same redacted model, byte for
    byte through JSON, in this runtime; another key gives other pseudonyms."""
    opts = vector_options(line)
    key = bytes.fromhex(line["redact_key"])
    assert json.loads(meterwire.decode_json(line["hex"], redact_key=key, **opts)) == line["expected"]
    assert meterwire.decode(line["hex"], redact_key=line["redact_key"], **opts) == line["expected"]
    meter_id = line["expected"].get("meter", {}).get("id")
    if meter_id:
        other = meterwire.decode(line["hex"], redact_key=KEY_B, **opts)["meter"]["id"]
        assert other != meter_id and len(other) == len(meter_id) == 24
    reading = meterwire.to_reading(line["hex"], redact_key=key, **opts)
    assert reading == line["reading"] == meterwire.to_reading(line["expected"])
