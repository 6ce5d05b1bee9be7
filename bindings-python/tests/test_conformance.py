"""The Python runner of the project's cross-runtime vectors (``tests/conformance/*.jsonl``,
design §6) and of the public corpora in ``../shared/vectors`` (when that folder exists).

For every own vector: ``json.loads(decode_json(hex)) == expected`` and ``decode(hex) ==
expected``, or the right exception class with ``.kind`` / ``.offset``; ``decode_json`` equals
the Rust CLI's text byte for byte. For the corpora: every libmbus ``ok`` frame decodes, and
the wheel's text (model or error object) equals the CLI's for every frame of every file.
"""

import json

import pytest

import meterwire
from conftest import (
    FAMILY,
    OWN_VECTORS,
    cli_options,
    error_text,
    own_vectors,
    python_text,
    read_jsonl,
    shared_vector_files,
    vector_options,
)

VECTORS = own_vectors()


@pytest.mark.parametrize("line", VECTORS, ids=[v["name"] for v in VECTORS])
def test_own_vector(line):
    opts = vector_options(line)
    expected = line["expected"]
    assert expected is not None, "vector without expected value"
    if "error" in expected:
        want = expected["error"]
        for call in (meterwire.decode, meterwire.decode_json):
            with pytest.raises(meterwire.MeterwireError) as info:
                call(line["hex"], **opts)
            e = info.value
            assert type(e) is FAMILY[want["kind"]], (type(e), want)
            assert (e.kind, e.offset) == (want["kind"], want["offset"]), e.message
            assert str(e) == e.message and e.message
            assert e.layer in ("input", "link", "application", "security")
    else:
        text = meterwire.decode_json(line["hex"], **opts)
        assert json.loads(text) == expected
        assert meterwire.decode(line["hex"], **opts) == expected
        # The same frame as bytes gives the same text.
        assert meterwire.decode_json(bytes.fromhex(line["hex"]), **opts) == text


def test_own_vectors_match_rust_text(rust_cli):
    """``decode_json`` (or the error object) is the Rust CLI's line, byte for byte (vectors
    that need a key are left out: the CLI reads no key option yet). Lines with ``request``
    or ``profile`` go to the CLI as ``--request`` / ``--profile``."""
    groups = {}
    for line in VECTORS:
        if not line.get("key"):
            group = (line.get("protocol", "auto"), cli_options(line))
            groups.setdefault(group, []).append(line)
    count = 0
    for (protocol, extra), lines in groups.items():
        hexes = [l["hex"] for l in lines]
        for line, rust in zip(lines, rust_cli.ndjson(hexes, protocol, extra)):
            assert python_text(**{"hex_text": line["hex"], **vector_options(line)}) == rust, line["name"]
            count += 1
    assert count >= 20


STREAMS = [
    line
    for path in sorted((OWN_VECTORS / "streams").glob("*.jsonl"))
    for line in read_jsonl(path)
]


@pytest.mark.parametrize("line", STREAMS, ids=[v["name"] for v in STREAMS])
def test_stream_vector(line):
    """``decode_stream`` gives the line's items, and so does a ``Decoder`` fed in pieces."""
    opts = vector_options(line)
    assert meterwire.decode_stream(line["hex"], **opts) == line["expected"]
    data = bytes.fromhex(line["hex"].replace(" ", ""))
    for piece in (1, 3, 7):
        d = meterwire.Decoder(**opts)
        items = []
        for i in range(0, len(data), piece):
            items += d.feed(data[i:i + piece])
        items += d.finish()
        assert items == line["expected"], piece


def test_every_family_is_covered():
    kinds = {v["expected"]["error"]["kind"] for v in VECTORS if "error" in v["expected"]}
    assert {"checksum", "truncated", "unknown_protocol"} <= kinds
    assert set(FAMILY) == set(meterwire.ERROR_KINDS)


LIBMBUS = [p for p in shared_vector_files() if p.name == "mbus-libmbus.jsonl"]
needs_corpora = pytest.mark.skipif(not LIBMBUS, reason="../shared/vectors not present")


@needs_corpora
def test_libmbus_ok_frames_decode_like_rust(rust_cli):
    lines = [l for l in read_jsonl(LIBMBUS[0]) if l["expected"]["kind"] == "ok"]
    assert len(lines) >= 70
    hexes = [l["hex"] for l in lines]
    rust = rust_cli.ndjson(hexes)
    for line, rust_text in zip(lines, rust):
        text = meterwire.decode_json(line["hex"])  # every ok frame decodes
        assert text == rust_text, line["name"]
        assert meterwire.decode(line["hex"]) == json.loads(rust_text), line["name"]


@needs_corpora
def test_every_corpus_frame_prints_like_rust(rust_cli):
    """Models and error objects agree with the CLI over every frame of every corpus file.

    The CLI decodes the frames of one run in one session (a compact wM-Bus frame uses the
    format of an earlier full frame), as ``decode_many`` does: its results equal the CLI's
    lines. ``decode_json`` of a frame alone equals the CLI's text wherever the session made
    no difference (every frame but the compact ones it resolved)."""
    total = resolved = 0
    for path in shared_vector_files():
        hexes = [l["hex"] for l in read_jsonl(path) if l.get("hex", "").strip()]
        batch = meterwire.decode_many(hexes, on_error="collect")
        for hex_text, rust_text, in_batch in zip(hexes, rust_cli.ndjson(hexes), batch):
            assert in_batch == json.loads(rust_text), (path.name, hex_text)
            alone = python_text(hex_text)
            if json.loads(alone) == in_batch:
                assert alone == rust_text, (path.name, hex_text)
            else:
                assert in_batch["link"].get("format_signature"), (path.name, hex_text)
                resolved += 1
            total += 1
    assert total >= 1000
    assert resolved < total // 20


@needs_corpora
def test_corpus_errors_raise_their_family():
    seen = set()
    for path in shared_vector_files():
        for line in read_jsonl(path):
            try:
                meterwire.decode(line["hex"])
            except meterwire.MeterwireError as e:
                assert type(e) is FAMILY[e.kind]
                assert json.loads(error_text(e))["error"]["kind"] == e.kind
                seen.add(e.kind)
    assert seen, "the corpora hold broken frames"
