"""Hostile inputs: random and mutated frames, huge length fields, 1 MB inputs, text that is
not hex, and wrong types for every argument. Whatever comes in, only ``MeterwireError`` (of
the family matching its kind), ``TypeError`` or ``ValueError`` may come out: never a
``PanicException`` (a ``BaseException``), never a crash."""

import json
import random

import pytest

import meterwire
from conftest import FAMILY, own_vectors, vector_options

SEED = 20261125
OK_VECTORS = [v for v in own_vectors() if "error" not in v["expected"]]
OK_FRAMES = [bytes.fromhex(v["hex"]) for v in OK_VECTORS]


def outcome(fn, *args, **kwargs):
    """Calls ``fn``; returns its value or the exception it raised, after checking that the
    exception is one of the allowed kinds."""
    try:
        return fn(*args, **kwargs)
    except BaseException as e:  # noqa: BLE001 - the point is to see everything
        if isinstance(e, meterwire.MeterwireError):
            assert type(e) is FAMILY[e.kind], (type(e), e.kind)
            assert isinstance(e.offset, int) and e.offset >= 0
            assert e.message == str(e)
            return e
        assert isinstance(e, (TypeError, ValueError)), f"{type(e).__name__}: {e}"
        return e


def check_frame(data, **kwargs):
    """decode and decode_json agree on ``data``: same model, or the same error."""
    model = outcome(meterwire.decode, data, **kwargs)
    text = outcome(meterwire.decode_json, data, **kwargs)
    if isinstance(model, BaseException):
        assert type(text) is type(model)
        if isinstance(model, meterwire.MeterwireError):
            assert (text.kind, text.offset) == (model.kind, model.offset)
    else:
        assert isinstance(text, str) and json.loads(text) == model
    return model


def long_frame(body: bytes) -> bytes:
    """``68 L L 68 body CS 16`` with a correct length and checksum (body of up to 255 bytes)."""
    return bytes([0x68, len(body), len(body), 0x68]) + body + bytes([sum(body) & 0xFF, 0x16])


def random_frames(rng: random.Random, count: int):
    for i in range(count):
        n = rng.randrange(0, 300)
        kind = i % 4
        if kind == 0:
            yield bytes(rng.getrandbits(8) for _ in range(n))
        elif kind == 1:  # a verifying long frame: the application layer sees random bytes
            body = bytes([rng.choice([0x08, 0x18, 0x53, 0x73]), rng.getrandbits(8),
                          rng.choice([0x72, 0x76, 0x73, 0x77, 0x7A, 0x70, 0x71, 0x78, 0x51,
                                      rng.getrandbits(8)])])
            body += bytes(rng.getrandbits(8) for _ in range(min(n, 252)))
            yield long_frame(body)
        elif kind == 2:  # records of random DIF/VIF chains, with extension bits set often
            header = bytes([0x08, 0x01, 0x72]) + bytes(rng.getrandbits(8) for _ in range(12))
            recs = bytes(rng.choice([0x80, 0xFF, 0x0D, 0x0F, 0x1F, 0x2F, 0xFD, 0xFB, 0x7C,
                                     0xFC, 0x7F, 0xEF, rng.getrandbits(8)])
                         for _ in range(min(n, 240)))
            yield long_frame(header + recs)
        else:
            yield bytes([0x10, rng.getrandbits(8), rng.getrandbits(8), rng.getrandbits(8), 0x16])


def mutations(rng: random.Random, frame: bytes, count: int):
    for _ in range(count):
        b = bytearray(frame)
        for _ in range(rng.randrange(1, 4)):
            op = rng.randrange(4)
            if op == 0 and b:
                b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
            elif op == 1:
                b.insert(rng.randrange(len(b) + 1), rng.getrandbits(8))
            elif op == 2 and b:
                del b[rng.randrange(len(b))]
            elif b:
                del b[rng.randrange(len(b)):]
        out = bytes(b)
        # Half the time repair length and checksum so the damage reaches the records.
        if rng.random() < 0.5 and len(out) >= 9 and out[0] == 0x68 and len(out) - 6 <= 255:
            out = long_frame(out[4:-2])
        yield out


def test_random_frames():
    rng = random.Random(SEED)
    frames = list(random_frames(rng, 4000))
    decoded = sum(not isinstance(check_frame(f), BaseException) for f in frames)
    assert decoded > 0  # some random long frames decode: the decoder was reached
    many = outcome(meterwire.decode_many, frames, on_error="collect")
    assert len(many) == len(frames)
    skipped = outcome(meterwire.decode_many, frames, on_error="skip")
    assert len(skipped) == decoded


def test_mutated_vectors():
    """Every valid vector of every protocol, damaged: decoded detected, as M-Bus, and with
    the vector's own options (its protocol and key)."""
    rng = random.Random(SEED + 1)
    count = 0
    for line in OK_VECTORS:
        opts = vector_options(line)
        for mutant in mutations(rng, bytes.fromhex(line["hex"]), 150):
            check_frame(mutant)
            check_frame(mutant, protocol="mbus")
            check_frame(mutant, **opts)
            count += 1
    assert count >= 3000


def test_huge_length_fields():
    cases = [
        bytes([0x68, 0xFF, 0xFF, 0x68]),
        bytes([0x68, 0xFF, 0xFF, 0x68, 0x08, 0x01, 0x72]),
        bytes([0x68, 0xFF, 0xFF, 0x68]) + b"\x00" * 300,
        bytes([0x68, 0x00, 0x00, 0x68, 0x00, 0x16]),
        bytes([0x68, 0x01, 0x01, 0x68, 0x08, 0x08, 0x16]),
        long_frame(bytes([0x08, 0x01, 0x72]) + b"\x2f" * 252),
        long_frame(bytes([0x08, 0x01, 0x72]) + b"\x00" * 12 + b"\x0d\xfd\x0d\xff" + b"\x41" * 233),
        long_frame(bytes([0x08, 0x01, 0x72]) + b"\x00" * 12 + b"\x8f" * 240),
        long_frame(bytes([0x08, 0x01, 0x72]) + b"\x00" * 12 + b"\x0d\x7c\xff" + b"A" * 237),
        long_frame(bytes([0x08, 0x01, 0x72]) + b"\x00" * 12 + b"\x0d\x13\xef" + b"\x00" * 237),
        long_frame(bytes([0x08, 0x01, 0x72]) + b"\x00" * 12 + b"\x1f" + b"\xff" * 239),
    ]
    for case in cases:
        check_frame(case)
        check_frame(case.hex())
        outcome(meterwire.decode_stream, case)


@pytest.mark.parametrize(
    "data",
    [
        bytes(random.Random(SEED + 2).getrandbits(8) for _ in range(1 << 20)),
        b"\x68" * (1 << 20),
        b"\xe5" * (1 << 20),
        long_frame(bytes([0x08, 0x01, 0x72]) + b"\x00" * 100) * 8000,
        "68" * (1 << 19),
        "Z" * (1 << 20),
        " " * (1 << 20),
        "0x" * (1 << 19),
    ],
    ids=["random", "0x68", "ack", "frames", "hex-68", "not-hex", "spaces", "0x-prefixes"],
)
def test_one_megabyte_inputs(data):
    check_frame(data)
    items = outcome(meterwire.decode_stream, data)
    if isinstance(items, list) and isinstance(data, bytes):
        assert sum(i["end"] - i["start"] for i in items) == len(data)
    outcome(meterwire.decode_many, [data, data], on_error="collect")


@pytest.mark.parametrize(
    "text",
    ["", " ", "zz", "6", "6 8", "68 1", "0x", "0x6", "68:", "::", "0xZZ", "é", "68é", "\x00",
     "６８", "\ud800", "68\ud800", "🙂", "E5\n", "E5\t\r\n", "0XE5", "e5", "0x0xE5", "E 5",
     "\u200b", "E5;", "E5,", "-", "68-03", "\x85"],
)
def test_text_that_is_not_hex(text):
    result = check_frame(text)
    if isinstance(result, meterwire.MeterwireError):
        assert result.kind in ("hex", "empty", "unknown_protocol", "truncated", "length",
                               "checksum", "stop", "start", "malformed")


class Weird:
    def __bytes__(self):
        raise RuntimeError("must not be called")


class BadIter:
    def __iter__(self):
        return self

    def __next__(self):
        raise TypeError("iteration refused")


WRONG_DATA = [None, 1, 0, -1, 1.5, True, [0xE5], (0xE5,), {0xE5: 1}, {"E5"}, object(), Weird(),
              ["E5"], b"\xe5".decode("latin-1").encode("utf-16"), int, meterwire]


@pytest.mark.parametrize("data", WRONG_DATA, ids=lambda d: type(d).__name__)
def test_wrong_data_types(data):
    for fn in (meterwire.decode, meterwire.decode_json, meterwire.decode_stream):
        e = outcome(fn, data)
        if not isinstance(data, bytes):
            assert isinstance(e, TypeError), (fn.__name__, e)
    e = outcome(meterwire.decode_many, [data])
    if not isinstance(data, bytes):
        assert isinstance(e, TypeError)
    e = outcome(meterwire.decode_many, [data], on_error="collect")
    if not isinstance(data, bytes):
        assert isinstance(e, TypeError)


@pytest.mark.parametrize(
    "frames", [None, 1, 1.5, "E5", b"\xe5", bytearray(b"\xe5"), object(), BadIter(), [None],
               [1, 2], [b"\xe5", None], {"E5": 1}]
)
def test_wrong_frames_for_decode_many(frames):
    for mode in ("raise", "skip", "collect"):
        result = outcome(meterwire.decode_many, frames, on_error=mode)
        assert isinstance(result, TypeError), result
    assert isinstance(outcome(meterwire.readings, frames), TypeError)


@pytest.mark.parametrize("protocol", [None, 1, b"mbus", ["mbus"], 1.0, True, "nope", "mbus\x00",
                                      "m" * 10_000, "auto ", "\ud800", "ＭＢＵＳ"])
def test_wrong_protocol(protocol):
    for fn in (meterwire.decode, meterwire.decode_json, meterwire.decode_stream):
        e = outcome(fn, "E5", protocol=protocol)
        assert isinstance(e, (TypeError, ValueError)), (fn.__name__, protocol)
    e = outcome(meterwire.decode_many, ["E5"], protocol=protocol)
    assert isinstance(e, (TypeError, ValueError))
    if isinstance(protocol, str) and isinstance(e, meterwire.MeterwireError):
        assert e.kind == "unknown_protocol"


@pytest.mark.parametrize("explain", [None, 1, 0, "yes", b"", [], 1.0])
def test_wrong_explain(explain):
    for fn in (meterwire.decode, meterwire.decode_json):
        assert isinstance(outcome(fn, "E5", explain=explain), TypeError)


@pytest.mark.parametrize("on_error", [None, 1, "ignore", "RAISE", b"raise", "", ["skip"]])
def test_wrong_on_error(on_error):
    e = outcome(meterwire.decode_many, ["E5"], on_error=on_error)
    assert isinstance(e, (TypeError, ValueError)) and not isinstance(e, meterwire.MeterwireError)


def test_wrong_call_shapes():
    calls = [
        lambda: meterwire.decode(),
        lambda: meterwire.decode("E5", "mbus"),  # protocol is keyword-only
        lambda: meterwire.decode("E5", protocl="mbus"),
        lambda: meterwire.decode_json("E5", explain=True, extra=1),
        lambda: meterwire.decode_many(),
        lambda: meterwire.decode_many(["E5"], "raise"),
        lambda: meterwire.decode_many(["E5"], on_error="skip", explain=True),
        lambda: meterwire.decode_stream("E5", explain=True),
        lambda: meterwire.decode_stream(data="E5", protocol="mbus", x=1),
    ]
    for call in calls:
        assert isinstance(outcome(call), TypeError)
    assert outcome(lambda: meterwire.decode(data="E5"))["link"]["kind"] == "ack"


# encode / to_reading / readings: dicts that are not models -------------------------------


def _nested(depth):
    value = {}
    for _ in range(depth):
        value = {"payload": value}
    return value


def _cyclic_dict():
    d = {"schema_version": 1}
    d["payload"] = d
    return d


def _cyclic_list():
    a = []
    a.append(a)
    return {"records": a}


NOT_MODELS = [
    {},
    {"schema_version": 1},
    {"schema_version": "1", "protocol": "mbus", "link": {"kind": "ack"}, "records": []},
    {"schema_version": 1, "protocol": "nope", "link": {"kind": "ack"}, "records": []},
    {"schema_version": 1, "protocol": "mbus", "link": {"kind": "long", "c": "0x1FF"},
     "records": []},
    {"schema_version": 1, "protocol": "mbus", "link": {"kind": "long"},
     "records": [{"quantity": "volume", "exact": "1e999999"}]},
    {"schema_version": 1, "protocol": "mbus", "link": {"kind": "long"},
     "records": [{"quantity": "volume", "value": 1.5, "raw": {"data": "zz"}}]},
    {"schema_version": 1, "protocol": "mbus", "link": {"kind": "long"},
     "records": [{"quantity": "x" * 100_000, "value": 1e308}] * 300},
    {"schema_version": 1, "protocol": "mbus", "link": {"kind": "long"}, "records": [],
     "trailing_fill": 70_000},
    {"schema_version": 1, "protocol": "mbus", "link": {"kind": "long"}, "records": [],
     "manufacturer_data": "00" * 100_000},
    {"schema_version": 1, "protocol": "mbus", "link": {"kind": "long"}, "records": [],
     "meter": {"id": "1" * 31}},
    {"schema_version": 1, "protocol": "mbus", "link": {"kind": "long"}, "records": [],
     "status": {"raw": 0, "flags": ["no_such_flag"]}},
    {"schema_version": 1, "protocol": "mbus", "link": {"kind": "long"}, "records": [],
     "payload": {"schema_version": 1}},
    {"schema_version": 1, "protocol": "wmbus", "link": {"kind": "long"}, "records": []},
    {"schema_version": 1, "protocol": "mbus", "link": {"kind": "long"}, "records": [],
     "alarm": 2**64},
    {"schema_version": 1, "protocol": "mbus", "link": {"kind": "long"}, "records": [],
     "alarm": float("nan")},
    {"schema_version": 1, "protocol": "mbus", "link": {"kind": "long"}, "records": [],
     "alarm": -1},
    {"schema_version": 1, "protocol": "mbus", "link": {"kind": "long"}, "records": {1, 2}},
    {1: "a"},
    {"records": [object()]},
    _nested(10),
    _nested(200),
    _nested(100_000),
    _cyclic_dict(),
    _cyclic_list(),
]


@pytest.mark.parametrize("obj", NOT_MODELS, ids=range(len(NOT_MODELS)))
def test_dicts_that_are_not_models(obj):
    for fn in (meterwire.encode, meterwire.to_reading):
        result = outcome(fn, obj)
        assert isinstance(result, (bytes, dict, BaseException))
    outcome(meterwire.readings, [obj])
    outcome(meterwire.readings, [obj, obj])


@pytest.mark.parametrize("obj", [None, 1, "E5", b"\xe5", [], [{}], (), 1.5, object()])
def test_encode_wants_a_dict(obj):
    assert isinstance(outcome(meterwire.encode, obj), TypeError)


def test_mutated_models_encode_or_fail_cleanly():
    rng = random.Random(SEED + 3)
    values = [None, True, False, 0, -1, 255, 256, 2**32, 2**63, 1.5, -0.0, 1e300, "", "0x",
              "0xZZ", "ZZ", "00", "FF" * 40, "volume", "m3", [], {}, [1], {"a": 1}]
    count = 0
    for vector, frame in zip(OK_VECTORS, OK_FRAMES):
        # Named as the vector names it: Modbus RTU has no signature to detect.
        model = meterwire.decode(frame, protocol=vector.get("protocol", "auto"))
        paths = list(_paths(model))
        for _ in range(60):
            mutant = json.loads(json.dumps(model))
            path = rng.choice(paths)
            target = mutant
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = rng.choice(values)
            encoded = outcome(meterwire.encode, mutant)
            outcome(meterwire.to_reading, mutant)
            if isinstance(encoded, bytes) and encoded:
                check_frame(encoded)
            count += 1
    assert count >= 900


def _paths(value, prefix=()):
    if isinstance(value, dict):
        for k, v in value.items():
            yield prefix + (k,)
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield prefix + (i,)
            yield from _paths(v, prefix + (i,))


@pytest.mark.parametrize("timestamp", [1, b"x", ["x"], 1.5])
def test_wrong_timestamp(timestamp):
    assert isinstance(outcome(meterwire.to_reading, "E5", timestamp=timestamp), TypeError)


@pytest.mark.parametrize(
    "keys",
    [1, 1.5, True, ["00" * 16], ("00" * 16,), {1: "00" * 16}, {"12345678": 1},
     {"12345678": b"\x00" * 16}, object(), memoryview(b"\x00" * 16)],
    ids=lambda k: type(k).__name__,
)
def test_wrong_key_types(keys):
    for fn in (meterwire.decode, meterwire.decode_json, meterwire.decode_stream):
        assert isinstance(outcome(fn, "E5", keys=keys), TypeError), fn.__name__
    assert isinstance(outcome(meterwire.decode_many, ["E5"], keys=keys), TypeError)
    assert isinstance(outcome(meterwire.encode, meterwire.decode("E5"), keys=keys), TypeError)


@pytest.mark.parametrize(
    "keys",
    ["", "zz", "00", "00" * 15, "00" * 17, "0" * 33, "=", "1=", "=00", "x" * 40 + "=" + "00" * 16,
     "12345678=zz", "a=b=c", {"": "00" * 16}, {"1" * 40: "00" * 16}, {"12345678": "zz"},
     b"", b"\x00" * 15, b"\x00" * 17, bytearray(16), "\ud800"],
)
def test_bad_keys(keys):
    for fn in (meterwire.decode, meterwire.decode_json):
        result = outcome(fn, "E5", keys=keys)
        if isinstance(result, meterwire.MeterwireError):
            assert result.kind in ("hex", "malformed"), result.kind
            if isinstance(keys, str) and len(keys) >= 8:
                assert keys not in str(result)  # key text never repeated
