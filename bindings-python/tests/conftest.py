"""Shared helpers of the meterwire wheel's tests: where the vectors are, and the Rust CLI's
output for a list of frames (the byte-for-byte reference for ``decode_json``)."""

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest

import meterwire

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
OWN_VECTORS = REPO / "tests" / "conformance"
SHARED_VECTORS = Path(os.environ.get("MW_SHARED_VECTORS", REPO.parent / "shared" / "vectors"))

# The exception class of each error kind (design §3, project style note 8).
FAMILY = {
    "empty": meterwire.FrameError,
    "hex": meterwire.FrameError,
    "truncated": meterwire.FrameError,
    "length": meterwire.FrameError,
    "start": meterwire.FrameError,
    "stop": meterwire.FrameError,
    "malformed": meterwire.FrameError,
    "unknown_protocol": meterwire.FrameError,
    "checksum": meterwire.ChecksumError,
    "crc": meterwire.ChecksumError,
    "decrypt": meterwire.SecurityError,
    "auth": meterwire.SecurityError,
    "unsupported": meterwire.UnsupportedError,
}


def read_jsonl(path: Path) -> List[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def own_vectors(only: Optional[str] = None) -> List[dict]:
    """Every vector of ``tests/conformance``, or those of ``<only>.jsonl``."""
    files = sorted(OWN_VECTORS.glob(f"{only or '*'}.jsonl"))
    assert files, f"no vector files in {OWN_VECTORS}"
    return [line for path in files for line in read_jsonl(path)]


def vector_options(line: dict) -> dict:
    """The keyword arguments a vector's line asks for (design §6: protocol, key; and
    ``tests/conformance/README.md``: request, profile — a file relative to the repo root,
    passed parsed, as a dict — and mqtt_version)."""
    opts = {"protocol": line.get("protocol", "auto")}
    if line.get("key"):
        opts["keys"] = line["key"]
    if line.get("request"):
        opts["request"] = line["request"]
    if line.get("profile"):
        with open(REPO / line["profile"], encoding="utf-8") as f:
            opts["modbus_profile"] = json.load(f)
    if line.get("mqtt_version"):
        opts["mqtt_version"] = line["mqtt_version"]
    if line.get("cipher"):
        opts["payload_cipher"] = line["cipher"]
    if line.get("tlv_schema"):
        with open(REPO / line["tlv_schema"], encoding="utf-8") as f:
            opts["tlv_schema"] = json.load(f)
    return opts


def cli_options(line: dict) -> Tuple[str, ...]:
    """The CLI flags of a vector's ``request``, ``profile`` and ``mqtt_version`` fields."""
    args: Tuple[str, ...] = ()
    if line.get("request"):
        args += ("--request", line["request"])
    if line.get("profile"):
        args += ("--profile", str(REPO / line["profile"]))
    if line.get("mqtt_version"):
        args += ("--mqtt-version", line["mqtt_version"])
    if line.get("cipher"):
        args += ("--cipher", line["cipher"])
    if line.get("tlv_schema"):
        args += ("--tlv-schema", str(REPO / line["tlv_schema"]))
    return args


def shared_vector_files() -> List[Path]:
    if not SHARED_VECTORS.is_dir():
        return []
    return sorted(SHARED_VECTORS.glob("*.jsonl"))


def error_text(e: "meterwire.MeterwireError") -> str:
    """The core's error object text (``error_json``) rebuilt from an exception."""
    body = {"kind": e.kind, "offset": e.offset, "message": e.message}
    return json.dumps({"error": body}, separators=(",", ":"), ensure_ascii=False)


def python_text(hex_text: str, protocol: str = "auto", **opts) -> str:
    """What the wheel prints for a frame: ``decode_json``, or the error object."""
    try:
        return meterwire.decode_json(hex_text, protocol=protocol, **opts)
    except meterwire.MeterwireError as e:
        return error_text(e)


def _target_dir() -> Path:
    return Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))


def _cli() -> Optional[Path]:
    """The debug CLI, built (or brought up to date) with cargo when cargo is there."""
    binary = _target_dir() / "debug" / "meterwire"
    if shutil.which("cargo"):
        # A no-op when fresh; rebuilds when core changed since, so the reference is current.
        subprocess.run(
            ["cargo", "build", "-q", "--locked", "-p", "meterwire-cli"],
            cwd=REPO,
            check=True,
        )
    return binary if binary.exists() else None


class RustCli:
    """Runs ``meterwire decode --format ndjson --file F`` once per list of frames."""

    def __init__(self, binary: Path):
        self.binary = binary
        self._cache: Dict[Tuple[str, Tuple[str, ...], Tuple[str, ...]], List[str]] = {}

    def ndjson(
        self, hexes: List[str], protocol: str = "auto", extra: Tuple[str, ...] = ()
    ) -> List[str]:
        """``extra``: more CLI flags (``cli_options``)."""
        key = (protocol, extra, tuple(hexes))
        if key not in self._cache:
            self._cache[key] = self._run(hexes, protocol, extra)
        return self._cache[key]

    def _run(self, hexes: List[str], protocol: str, extra: Tuple[str, ...]) -> List[str]:
        # A valid first line makes the CLI read the file as hex text, one frame per line.
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.write("E5\n")
            for h in hexes:
                assert "\n" not in h and h.strip(), repr(h)
                f.write(h + "\n")
            path = f.name
        try:
            args = [str(self.binary), "decode", "--format", "ndjson", "--file", path]
            if protocol != "auto":
                args += ["--protocol", protocol]
            args += extra
            run = subprocess.run(args, capture_output=True, check=False)
        finally:
            os.unlink(path)
        assert run.returncode in (0, 1), run.stderr.decode(errors="replace")
        lines = run.stdout.decode("utf-8").split("\n")
        assert lines[-1] == "", "ndjson output ends with a newline"
        lines = lines[1:-1]
        assert len(lines) == len(hexes), (len(lines), len(hexes))
        return lines


@pytest.fixture(scope="session")
def rust_cli() -> RustCli:
    binary = _cli()
    if binary is None:
        pytest.skip("no cargo and no target/debug/meterwire: Rust reference output unavailable")
    return RustCli(binary)
