"""The Python API of design §4: inputs, options, decode_many's error modes and GIL release,
decode_stream's items, the exception classes."""

import json
import sys
import threading
import time
from pathlib import Path

import pytest

import meterwire
from conftest import own_vectors

# A wired M-Bus RSP_UD with one record (the core's doc example).
RSP_UD = "68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 67 45 23 01 0D 16"
RSP_UD_BYTES = bytes.fromhex(RSP_UD)
BAD_CHECKSUM = "107B058116"  # REQ_UD2 with checksum 0x81 instead of 0x80

# The wired M-Bus vectors: every one decodes (or fails) with the default options.
MBUS = own_vectors("mbus")
OK_FRAMES = [v["hex"] for v in MBUS if "error" not in v["expected"]]
BAD_FRAMES = [v["hex"] for v in MBUS if "error" in v["expected"]]


def test_package_surface():
    assert meterwire.SCHEMA_VERSION == 1
    assert isinstance(meterwire.__version__, str)
    for name in meterwire.__all__:
        assert hasattr(meterwire, name), name
    assert meterwire.MeterwireError.__module__ == "meterwire"
    assert issubclass(meterwire.MeterwireError, ValueError)
    for cls in (
        meterwire.FrameError,
        meterwire.ChecksumError,
        meterwire.SecurityError,
        meterwire.UnsupportedError,
    ):
        assert issubclass(cls, meterwire.MeterwireError)


def test_modbus_request_builds_the_digest_requests():
    # Digest M1, T1, M5 and M11.
    m1 = meterwire.modbus_request(function="read_holding_registers", unit=1, start=0, count=2)
    assert m1 == bytes.fromhex("010300000002C40B")
    t1 = meterwire.modbus_request(function="read_holding_registers", unit=1, start=0, count=2,
                                  framing="tcp", transaction=1)
    assert t1 == bytes.fromhex("000100000006010300000002")
    m5 = meterwire.modbus_request(function="write_single_register", unit=1, address=10, value=1)
    assert m5 == bytes.fromhex("0106000A00016808")
    m11 = meterwire.modbus_request(function="read_device_identification", unit=1)
    assert m11 == bytes.fromhex("012B0E01007077")
    back = meterwire.decode(m1, protocol="modbus_rtu")["link"]
    assert (back["direction"], back["start_address"], back["quantity"]) == ("request", 0, 2)
    for bad in ({"function": "read_holding_registers", "unit": 1, "start": 0},
                {"function": "read_holding_registers", "unit": 1, "start": 0, "count": 126},
                {"function": "read_everything", "unit": 1}):
        with pytest.raises(meterwire.MeterwireError) as e:
            meterwire.modbus_request(**bad)
        assert (e.value.kind, e.value.offset) == ("malformed", 0)


def test_iec62056_21_message_builds_the_digest_messages():
    # Digest I1, I5, I8, I10, I13; each decodes back (auto-detected) and round-trips.
    i1 = meterwire.iec62056_21_message(message="sign_on")
    assert i1 == b"/?!\r\n"
    i5 = meterwire.iec62056_21_message(message="option_select", baud=9600, mode="data_readout")
    assert i5 == bytes.fromhex("063035300D0A")
    i8 = meterwire.iec62056_21_message(message="password", type="0", value="1234567")
    assert i8 == bytes.fromhex("015030022831323334353637290350")
    i10 = meterwire.iec62056_21_message(message="read", address="8.0")
    assert i10 == bytes.fromhex("01523102382E3028290345")
    i13 = meterwire.iec62056_21_message(message="break")
    assert i13 == bytes.fromhex("0142300371")
    readout = meterwire.iec62056_21_message(
        message="readout", data_sets=[{"address": "8.0", "value": "001234.567", "unit": "m3"}])
    for frame in (i1, i5, i8, i10, i13, readout):
        decoded = meterwire.decode(frame)
        assert decoded["protocol"] == "iec62056_21"
        assert meterwire.encode(decoded) == frame
    record = meterwire.decode(readout)["records"][0]
    assert (record["address"], record["exact"], record["unit"]) == ("8.0", "1234.567", "m3")
    parity = meterwire.iec62056_21_message(message="sign_on", parity=True)
    assert parity == bytes.fromhex("AF3F218D0A")
    assert meterwire.decode(parity)["link"]["parity"] is True
    for bad in ({"message": "sign_on", "address": "a!b"},
                {"message": "option_select", "baud": 1234},
                {"message": "everything"}):
        with pytest.raises(meterwire.MeterwireError) as e:
            meterwire.iec62056_21_message(**bad)
        assert (e.value.kind, e.value.offset) == ("malformed", 0)


def test_protocols_lists_the_registry():
    listed = {p["name"]: p for p in meterwire.protocols()}
    for name in ("mbus", "wmbus", "cjt188", "modbus_rtu", "modbus_tcp", "iec62056_21"):
        assert name in listed, name
    # Modbus RTU has no signature: auto-detection does not find it, the caller names it.
    assert (listed["modbus_rtu"]["encode"], listed["modbus_rtu"]["detect"]) == (True, False)
    assert listed["mbus"]["detect"] is True
    # Digest M1: read 2 holding registers from 0, decoded when named.
    m1 = meterwire.decode("01 03 00 00 00 02 C4 0B", protocol="modbus_rtu")
    assert (m1["link"]["unit_id"], m1["link"]["function"], m1["link"]["quantity"]) == (1, 3, 2)


@pytest.mark.parametrize(
    "data",
    [
        RSP_UD,
        RSP_UD.lower(),
        RSP_UD.replace(" ", ""),
        RSP_UD.replace(" ", ":"),
        RSP_UD.replace(" ", "-"),
        " ".join("0x" + b for b in RSP_UD.split()),
        RSP_UD_BYTES,
        bytearray(RSP_UD_BYTES),
        memoryview(RSP_UD_BYTES),
        memoryview(b"\x00" + RSP_UD_BYTES)[1:],
        memoryview(bytes(b for pair in zip(RSP_UD_BYTES, b"\xff" * 99) for b in pair))[::2],
    ],
    ids=["hex", "lower", "compact", "colons", "dashes", "0x", "bytes", "bytearray",
         "memoryview", "memoryview-slice", "memoryview-strided"],
)
def test_every_input_form_decodes_the_same(data):
    assert meterwire.decode_json(data) == meterwire.decode_json(RSP_UD_BYTES)
    assert meterwire.decode(data)["meter"]["id"] == "12345678"


def test_array_buffers_are_bytes():
    import array

    assert meterwire.decode(array.array("B", RSP_UD_BYTES)) == meterwire.decode(RSP_UD)


def test_decode_equals_parsed_json():
    for hex_text in OK_FRAMES:
        assert meterwire.decode(hex_text) == json.loads(meterwire.decode_json(hex_text))


def test_record_values_are_exact_and_typed():
    record = meterwire.decode(RSP_UD)["records"][0]
    assert record["value"] == 1234.567 and isinstance(record["value"], float)
    assert record["exact"] == "1234.567"
    assert record["storage"] == 0 and isinstance(record["storage"], int)


def test_protocol_option():
    want = meterwire.decode(RSP_UD)
    for name in ("auto", "", "mbus", "MBUS", "Mbus"):
        assert meterwire.decode(RSP_UD, protocol=name) == want
    with pytest.raises(meterwire.FrameError) as info:
        meterwire.decode(RSP_UD, protocol="zigbee")
    assert info.value.kind == "unknown_protocol"
    # Every name of the model is accepted (the decoder may not exist yet: unsupported).
    for name in ("wmbus", "cjt188", "modbus_rtu", "modbus-rtu", "modbus_tcp", "iec62056_21",
                 "iec62056-21", "coap", "mqtt"):
        try:
            meterwire.decode(RSP_UD, protocol=name)
        except meterwire.MeterwireError as e:
            assert e.kind != "unknown_protocol", name


def test_explain_adds_spans_covering_every_byte():
    plain = meterwire.decode(RSP_UD)
    explained = meterwire.decode(RSP_UD, explain=True)
    assert "spans" not in plain
    spans = explained.pop("spans")
    assert explained == plain
    assert spans[0]["start"] == 0 and spans[-1]["end"] == len(RSP_UD_BYTES)
    for a, b in zip(spans, spans[1:]):
        assert a["end"] == b["start"]
    text = meterwire.decode_json(RSP_UD, explain=True)
    assert json.loads(text)["spans"] == spans


def test_error_attributes():
    with pytest.raises(meterwire.ChecksumError) as info:
        meterwire.decode(BAD_CHECKSUM)
    e = info.value
    assert (e.kind, e.offset, e.layer) == ("checksum", 3, "link")
    assert e.message == "checksum 0x81, computed 0x80" == str(e)
    assert isinstance(e, ValueError)
    with pytest.raises(meterwire.FrameError) as info:
        meterwire.decode("")
    assert info.value.kind == "empty"
    with pytest.raises(meterwire.FrameError) as info:
        meterwire.decode(b"")
    assert info.value.kind == "empty"
    with pytest.raises(meterwire.FrameError) as info:
        meterwire.decode("68 1")
    assert (info.value.kind, info.value.offset) == ("hex", 3)


def test_errors_pickle():
    import pickle

    try:
        meterwire.decode(BAD_CHECKSUM)
    except meterwire.MeterwireError as e:
        again = pickle.loads(pickle.dumps(e))
        assert type(again) is type(e)
        assert (again.kind, again.offset, again.message) == (e.kind, e.offset, e.message)


# decode_many ---------------------------------------------------------------------------------

MIXED = [OK_FRAMES[0], "zz", BAD_CHECKSUM, RSP_UD_BYTES, bytearray(b"\xe5")]


def test_decode_many_raise():
    assert meterwire.decode_many(OK_FRAMES) == [meterwire.decode(h) for h in OK_FRAMES]
    with pytest.raises(meterwire.FrameError) as info:
        meterwire.decode_many(MIXED)
    assert (info.value.kind, info.value.index) == ("hex", 1)
    with pytest.raises(meterwire.ChecksumError) as info:
        meterwire.decode_many(MIXED[2:], on_error="raise")
    assert (info.value.kind, info.value.offset, info.value.index) == ("checksum", 3, 0)


def test_decode_many_skip():
    got = meterwire.decode_many(MIXED, on_error="skip")
    assert got == [meterwire.decode(MIXED[0]), meterwire.decode(RSP_UD), meterwire.decode("E5")]


def test_decode_many_collect():
    got = meterwire.decode_many(MIXED, on_error="collect")
    assert len(got) == len(MIXED)
    assert got[0] == meterwire.decode(MIXED[0])
    assert got[1] == {"error": {"kind": "hex", "offset": 0, "message": "not a hex digit: 'z'"}}
    assert got[2] == {
        "error": {"kind": "checksum", "offset": 3, "message": "checksum 0x81, computed 0x80"}
    }
    assert got[3] == meterwire.decode(RSP_UD)
    for hex_text, item in zip(BAD_FRAMES, meterwire.decode_many(BAD_FRAMES, on_error="collect")):
        with pytest.raises(meterwire.MeterwireError) as info:
            meterwire.decode(hex_text)
        e = info.value
        assert item == {"error": {"kind": e.kind, "offset": e.offset, "message": e.message}}


def test_decode_many_takes_any_iterable():
    gen = (h for h in OK_FRAMES)
    assert meterwire.decode_many(gen) == meterwire.decode_many(tuple(OK_FRAMES))
    assert meterwire.decode_many([]) == []
    assert meterwire.decode_many(iter([]), on_error="collect") == []


def test_decode_many_protocol():
    assert meterwire.decode_many([RSP_UD], protocol="mbus") == [meterwire.decode(RSP_UD)]
    with pytest.raises(meterwire.FrameError):
        meterwire.decode_many([RSP_UD], protocol="nope")


def test_decode_many_in_threads():
    frames = OK_FRAMES * 50
    want = meterwire.decode_many(frames)
    results = [None] * 4
    errors = []

    def work(i):
        try:
            for _ in range(5):
                results[i] = meterwire.decode_many(frames, on_error="collect")
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(r == want for r in results)


def test_decode_many_releases_the_gil():
    """With a huge switch interval no thread is preempted: another Python thread runs during
    decode_many only if decode_many lets go of the GIL."""
    frames = [RSP_UD_BYTES] * 100_000
    count = 0
    stop = False

    def spin():
        nonlocal count
        while not stop:
            count += 1
            time.sleep(0)  # releases the GIL each round, so the main thread gets it back

    old = sys.getswitchinterval()
    sys.setswitchinterval(100.0)
    spinner = threading.Thread(target=spin)
    try:
        spinner.start()
        while count == 0:
            time.sleep(0.001)
        before = count
        meterwire.decode_many(frames)
        during = count - before
    finally:
        stop = True
        spinner.join()
        sys.setswitchinterval(old)
    assert during > 0, "no other thread ran while decode_many decoded 100k frames"


# decode_stream -------------------------------------------------------------------------------


def test_decode_stream_items():
    stream = bytes.fromhex("00E5107B0580166803")
    items = meterwire.decode_stream(stream)
    # The E5 follows noise, not an M-Bus request: it is noise too.
    assert items == [
        {"start": 0, "end": 2, "garbage": "00E5", "reason": "noise"},
        {"start": 2, "end": 7, "frame": meterwire.decode("107B058016")},
        {"start": 7, "end": 9, "garbage": "6803", "reason": "truncated", "protocol": "mbus"},
    ]
    assert meterwire.decode_stream(stream.hex()) == items
    assert meterwire.decode_stream(b"") == []


def test_decode_stream_covers_every_byte_and_shifts_errors():
    frames = [bytes.fromhex(h) for h in OK_FRAMES]
    stream = b"\x00\x01" + b"".join(f + b"\xff" for f in frames)
    items = meterwire.decode_stream(stream, protocol="mbus")
    position = 0
    for item in items:
        assert item["start"] == position and item["end"] > position
        position = item["end"]
        chunk = stream[item["start"]:item["end"]]
        if "garbage" in item:
            assert item["garbage"] == chunk.hex().upper()
        elif "frame" in item:
            assert item["frame"] == meterwire.decode(chunk)
        else:
            assert item["error"]["offset"] >= item["start"]
    assert position == len(stream)
    # Every frame but a lone E5 (it follows noise, not a request) is found.
    assert sum("frame" in i for i in items) == sum(f != b"\xe5" for f in frames)


def test_decode_stream_frame_errors_carry_stream_offsets():
    # An M-Bus long frame whose link layer verifies but whose records overrun (malformed).
    bad = next(v for v in MBUS if v["name"] == "err-record-overrun")
    frame = bytes.fromhex(bad["hex"])
    items = meterwire.decode_stream(b"\x00\x00\x00" + frame)
    assert items[0] == {"start": 0, "end": 3, "garbage": "000000", "reason": "noise"}
    errors = [i for i in items if "error" in i]
    # The frame's link layer verifies, so the stream reports its decoding error.
    assert len(errors) == 1
    error = errors[0]
    assert (error["start"], error["end"]) == (3, 3 + len(frame))
    assert error["error"]["kind"] == bad["expected"]["error"]["kind"]
    assert error["error"]["offset"] == bad["expected"]["error"]["offset"] + 3
    assert set(error["error"]) == {"kind", "offset", "message"}


# Decoder -------------------------------------------------------------------------------------


def test_decoder_feeds_in_pieces_and_waits_for_more():
    rsp = bytes.fromhex(OK_FRAMES[0]) if OK_FRAMES[0] != "E5" else bytes.fromhex(OK_FRAMES[1])
    d = meterwire.Decoder()
    assert d.position == 0 and d.needed is None
    assert d.feed(b"\x00" + rsp[:3]) == []
    assert d.needed and d.needed > 0
    assert d.pending == 4
    items = d.feed(rsp[3:])
    assert items == [
        {"start": 0, "end": 1, "garbage": "00", "reason": "noise"},
        {"start": 1, "end": 1 + len(rsp), "frame": meterwire.decode(rsp)},
    ]
    assert d.position == 1 + len(rsp) and d.needed is None
    # A request and its acknowledgement, fed as hex text; then the end of the stream.
    assert d.feed("10 40 05 45 16 E5") == [
        {"start": 1 + len(rsp), "end": 6 + len(rsp), "frame": meterwire.decode("1040054516")},
        {"start": 6 + len(rsp), "end": 7 + len(rsp), "frame": meterwire.decode("E5")},
    ]
    assert d.feed(b"\x68\x03") == []
    end = 7 + len(rsp)
    assert d.finish() == [
        {"start": end, "end": end + 2, "garbage": "6803", "reason": "truncated", "protocol": "mbus"}
    ]
    with pytest.raises(TypeError):
        d.feed(5)


def test_decoder_session_decodes_compact_frames_after_their_full_frame():
    full = "14442D2C78563412010778041339300000025B1400"
    compact = "14442D2C78563412010779E9EA20C7393000001400"
    d = meterwire.Decoder(protocol="wmbus")
    d.decode(full)
    c = d.decode(compact)
    assert c["link"]["format_signature"] == "0xEAE9"
    session = meterwire.Decoder(protocol="wmbus")
    session.decode_json(full)
    assert json.loads(session.decode_json(compact)) == c
    assert [(r["quantity"], r["exact"], r.get("unit")) for r in c["records"]] == [
        ("volume", "12.345", "m3"),
        ("flow_temperature", "20", "C"),
    ]
    # Fed as one stream (wmbus named: CRC-free telegrams are cut), the same two frames.
    items = meterwire.Decoder(protocol="wmbus").feed(full + compact)
    assert [i["frame"]["records"][0]["exact"] for i in items] == ["12.345", "12.345"]
    with pytest.raises(meterwire.FrameError):
        meterwire.Decoder().decode("68 03")
    with pytest.raises(meterwire.MeterwireError):
        meterwire.Decoder(protocol="nope")


# keys ----------------------------------------------------------------------------------------

KEYED = [v for v in own_vectors() if v.get("key")]


def test_keys_forms():
    assert KEYED, "the vectors include encrypted frames with their key"
    for line in KEYED:
        key = line["key"]
        want = line["expected"]
        protocol = line.get("protocol", "auto")
        if "error" in want:
            with pytest.raises(meterwire.SecurityError) as info:
                meterwire.decode(line["hex"], protocol=protocol, keys=key)
            assert info.value.kind == want["error"]["kind"]
            assert key not in str(info.value) and key.lower() not in str(info.value)
            continue
        assert meterwire.decode(line["hex"], protocol=protocol, keys=key) == want
        meter_id = want["meter"]["id"]
        forms = [key, key.lower(), bytes.fromhex(key), bytearray.fromhex(key),
                 {meter_id: key}, f"{meter_id}={key}", f"99999999={'00' * 16},{meter_id}={key}"]
        for form in forms:
            assert meterwire.decode(line["hex"], protocol=protocol, keys=form) == want, form
            assert json.loads(
                meterwire.decode_json(line["hex"], protocol=protocol, keys=form)
            ) == want
        many = meterwire.decode_many([line["hex"]] * 3, protocol=protocol, keys={meter_id: key})
        assert many == [want] * 3
        # Without the key the payload stays encrypted (a success, with a warning).
        plain = meterwire.decode(line["hex"], protocol=protocol)
        assert plain.get("encrypted") is True
        assert meterwire.decode(line["hex"], protocol=protocol, keys=None) == plain
        assert meterwire.decode(line["hex"], protocol=protocol, keys={}) == plain
        # A key for another meter is no key for this one.
        other = meterwire.decode(line["hex"], protocol=protocol, keys={"99999999": key})
        assert other == plain


def test_key_errors_are_meterwire_errors():
    with pytest.raises(meterwire.FrameError) as info:
        meterwire.decode("E5", keys="0011")
    assert info.value.kind == "hex"
    with pytest.raises(TypeError):
        meterwire.decode("E5", keys=16)
    with pytest.raises(TypeError):
        meterwire.decode("E5", keys={"12345678": 5})


# Modbus options: digest M1 (request) and M2 (response), profiles/ultrasonic-f32-cdab.json.
M1 = "01 03 00 00 00 02 C4 0B"
M2 = "01 03 04 00 00 C1 48 AB 95"
PROFILE_FILE = Path(__file__).resolve().parents[2] / "profiles" / "ultrasonic-f32-cdab.json"


def test_modbus_request_and_profile_options():
    text = PROFILE_FILE.read_text(encoding="utf-8")
    as_dict = json.loads(text)
    want = None
    for request in (M1, bytes.fromhex(M1.replace(" ", "")), bytearray.fromhex(M1)):
        for profile in (text, as_dict):
            d = meterwire.decode(M2, protocol="modbus_rtu", request=request, modbus_profile=profile)
            flow = d["records"][0]
            assert (flow["label"], flow["exact"], flow["unit"], flow["address"]) == (
                "flow",
                "-12.5",
                "m3/h",
                0,
            )
            want = want or d
            assert d == want
    # Every decoding function takes the same options.
    opts = {"protocol": "modbus_rtu", "request": M1, "modbus_profile": as_dict}
    assert json.loads(meterwire.decode_json(M2, **opts)) == want
    assert meterwire.decode_many([M2, M2], **opts) == [want, want]
    [item] = meterwire.decode_stream(M2, **opts)
    assert item["frame"] == want
    assert meterwire.to_reading(M2, **opts) == meterwire.to_reading(want)
    assert meterwire.readings([M2], **opts)["label"] == ["flow"]
    # Without the request: registers without addresses, a warning, never an error.
    plain = meterwire.decode(M2, protocol="modbus_rtu", modbus_profile=as_dict)
    assert "address" not in plain["records"][0] and plain["warnings"]
    # A request that does not fit is a warning.
    other = meterwire.decode(M2, protocol="modbus_rtu", request="020300000002C438")
    assert other["warnings"][0].startswith("request option mismatch:")
    # None means absent.
    assert meterwire.decode(M2, protocol="modbus_rtu", request=None, modbus_profile=None)


def test_modbus_option_errors():
    bad = {"name": "x", "registers": [{"quantity": "volume", "address": 0, "type": "u24"}]}
    for profile in (bad, json.dumps(bad)):
        with pytest.raises(meterwire.FrameError) as info:
            meterwire.decode(M2, protocol="modbus_rtu", request=M1, modbus_profile=profile)
        assert (info.value.kind, info.value.offset) == ("malformed", 0)
        assert "registers[0]" in info.value.message
    with pytest.raises(meterwire.FrameError) as info:
        meterwire.decode(M2, protocol="modbus_rtu", modbus_profile="{not json")
    assert info.value.kind == "malformed"
    with pytest.raises(meterwire.FrameError) as info:
        meterwire.decode(M2, protocol="modbus_rtu", request="01 0G")
    assert info.value.kind == "hex"
    for wrong in ({"request": 5}, {"request": ["01"]}, {"modbus_profile": 5}, {"modbus_profile": [1]}):
        with pytest.raises(TypeError):
            meterwire.decode(M2, protocol="modbus_rtu", **wrong)


# Issue 17's end-to-end cases: a CJ/T 188 reply (digest E2) inside a CoAP NON POST (digest
# MB1), and the M-Bus RSP_UD above inside an MQTT PUBLISH with a one- and a two-byte
# remaining length.
CJT188_E2 = "FEFE6810785634120001008116901F01563412002C000012002C0030081503252000006F16"
COAP_MB1 = "52021234A1B2B1740164112AFF" + CJT188_E2


def _publish(topic: str, payload: bytes) -> bytes:
    body = len(topic).to_bytes(2, "big") + topic.encode() + payload
    n, length = len(body), b""
    while True:
        byte, n = n & 0x7F, n >> 7
        length += bytes([byte | (0x80 if n else 0)])
        if not n:
            return bytes([0x30]) + length + body


def test_coap_carries_a_cjt188_reply():
    d = meterwire.decode(COAP_MB1)
    assert d["protocol"] == "coap"
    link = d["link"]
    assert (link["type"], link["code"], link["method"]) == ("NON", "0.02", "POST")
    assert (link["message_id"], link["token"], link["uri_path"]) == (0x1234, "A1B2", "/t/d")
    assert link["content_format"] == 42
    inner = d["payload"]
    assert inner["protocol"] == "cjt188"
    assert inner["meter"]["id"] == "00010012345678"
    assert [r["exact"] for r in inner["records"][:2]] == ["1234.56", "1200.00"]
    assert meterwire.encode(d) == bytes.fromhex(COAP_MB1)
    spans = meterwire.decode(COAP_MB1, explain=True)["payload"]["spans"]
    assert (spans[0]["start"], spans[-1]["end"]) == (13, len(bytes.fromhex(COAP_MB1)))


@pytest.mark.parametrize("topic", ["meters/12345678/up", "meters/12345678/up/" + "x" * 90])
def test_mqtt_carries_an_mbus_frame(topic):
    packet = _publish(topic, RSP_UD_BYTES)
    assert (packet[1] & 0x80 != 0) == (len(topic) > 100)
    d = meterwire.decode(packet)
    assert d["protocol"] == "mqtt"
    assert d["link"]["topic"] == topic
    assert d["link"]["payload_format"] == "mbus"
    assert d["payload"]["meter"]["id"] == "12345678"
    assert d["payload"]["records"][0]["exact"] == "1234.567"
    assert meterwire.encode(d) == packet
    reading = meterwire.to_reading(d)
    assert (reading["protocol"], reading["id"], reading["total_m3"]) == ("mqtt", "12345678", 1234.567)


def test_mqtt_version_option():
    packet = "300A00036D2F310201017B7D"
    d = meterwire.decode(packet, protocol="mqtt", mqtt_version="5.0")
    assert d["link"]["version"] == "5.0"
    assert d["link"]["properties"] == [
        {"id": 1, "name": "payload_format_indicator", "value": 1}
    ]
    assert meterwire.decode(packet, protocol="mqtt")["link"]["version"] == "3.1.1"
    with pytest.raises(meterwire.MeterwireError) as e:
        meterwire.decode(packet, mqtt_version="4.0")
    assert e.value.kind == "malformed"


def test_payload_cipher_opens_with_the_device_key():
    line = next(l for l in own_vectors() if l["name"] == "mqtt-publish-sm4-cbc-no-key")
    key = "0123456789ABCDEFFEDCBA9876543210"  # GB/T 32907's example key
    d = meterwire.decode(line["hex"], payload_cipher="sm4-cbc", keys={"12345678": key})
    assert d["link"]["payload_cipher"] == "sm4-cbc-pkcs7"
    assert d["payload"]["protocol"] == "cjt188"
    assert d["payload"]["records"][0]["exact"] == "1234.56"
    assert key not in json.dumps(d)
    assert meterwire.encode(d, keys=key).hex().upper() == line["hex"]
    hidden = meterwire.decode(line["hex"], payload_cipher="sm4-cbc")
    assert hidden["encrypted"] is True
    with pytest.raises(meterwire.MeterwireError) as e:
        meterwire.decode(line["hex"], payload_cipher="sm4-cbc", keys="00" * 16)
    assert (e.value.kind, e.value.offset) == ("decrypt", 22)
    with pytest.raises(meterwire.MeterwireError) as e:
        meterwire.decode(line["hex"], payload_cipher="des-cbc")
    assert e.value.kind == "malformed"
