"""Decoding speed of the meterwire wheel against other Python M-Bus decoders (not a test).

    bash scripts/python-env.sh && bash scripts/test-python.sh   # builds and installs the wheel
    .venv/bin/python bindings-python/bench/bench_decode.py [--samples N]

Frames: the ``ok`` RSP_UD frames of ``../shared/vectors/mbus-libmbus.jsonl`` (about 100 bytes
each) when that folder exists, else the project's own RSP_UD vectors and samples. Every
library decodes the same frames into its own Python objects:

- meterwire ``decode_many(frames)`` (one call, the GIL released while decoding), and
  ``decode`` / ``decode_json`` called once per frame;
- pymbusparser (Rust m-bus-parser bindings) ``parse(frame)`` -> dict;
- pyMeterBus ``load(frame).interpreted`` -> dict (pure Python; frames it refuses are left
  out of its row and counted);
- the floor: ``marshal.loads`` of meterwire's own result dicts, CPython's fastest way to build
  the same objects (no decoding at all).

The competitors are installed into the running virtual environment at pinned versions when
missing (``pip install``): this script is the only place they are used. Each figure is the
best of N samples of wall-clock time per frame, rows sampled in turn (the minimum filters
out the noise of a busy machine); the CPU column is the best process time per frame.
"""

import argparse
import json
import marshal
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

PINS = {"pymbusparser": "0.5.3", "pyMeterBus": "0.8.5"}

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SHARED = Path(os.environ.get("MW_SHARED_VECTORS", REPO.parent / "shared" / "vectors"))


def ensure_competitors() -> None:
    if sys.prefix == sys.base_prefix:
        sys.exit("bench: run me with the project's venv (.venv/bin/python), not the system python")
    from importlib import metadata

    missing = []
    for name, version in PINS.items():
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            have = None
        if have != version:
            missing.append(f"{name}=={version}")
    if missing:
        print(f"bench: installing {' '.join(missing)}", flush=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", *missing],
            check=True,
        )


def load_frames(meterwire):
    corpus = SHARED / "mbus-libmbus.jsonl"
    if corpus.exists():
        with open(corpus, encoding="utf-8") as f:
            lines = [json.loads(line) for line in f if line.strip()]
        frames = [bytes.fromhex(l["hex"]) for l in lines if l["expected"]["kind"] == "ok"]
        return frames, f"libmbus ok frames ({corpus})"
    candidates = []
    with open(REPO / "tests" / "conformance" / "mbus.jsonl", encoding="utf-8") as f:
        candidates += [json.loads(line)["hex"] for line in f if line.strip()]
    for path in sorted((REPO / "samples").glob("*.hex")):
        for line in path.read_text().splitlines():
            line = line.split("#")[0].strip()
            if line:
                candidates.append(line)
    frames = []
    for hex_text in candidates:
        try:
            frame = bytes.fromhex("".join(hex_text.split()))
        except ValueError:
            continue
        try:
            decoded = meterwire.decode(frame)
        except meterwire.MeterwireError:
            continue
        if decoded["link"].get("function") == "RSP_UD" and frame not in frames:
            frames.append(frame)
    return frames, "the project's own RSP_UD vectors and samples (no ../shared/vectors)"


def measure(rows, samples: int, budget: float = 0.05):
    """Best (wall, cpu) seconds per frame of each row. Rows are sampled in turn (round
    robin), so a burst of load on a shared machine hits every row alike, and the best sample
    of each row is kept."""
    plans = []
    for _lib, _call, frames, fn in rows:
        fn()  # warm up
        start = time.perf_counter()
        fn()
        one = max(time.perf_counter() - start, 1e-6)
        plans.append((fn, max(1, int(budget / one)), len(frames)))
    best = [[float("inf"), float("inf")] for _ in rows]
    for _ in range(samples):
        for i, (fn, rounds, n_frames) in enumerate(plans):
            w, c = time.perf_counter(), time.process_time()
            for _ in range(rounds):
                fn()
            wall = (time.perf_counter() - w) / (rounds * n_frames)
            cpu = (time.process_time() - c) / (rounds * n_frames)
            best[i] = [min(best[i][0], wall), min(best[i][1], cpu)]
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=40, help="samples per row (default 40)")
    args = parser.parse_args()

    ensure_competitors()
    import meterbus
    import pymbusparser

    import meterwire

    frames, origin = load_frames(meterwire)
    sizes = [len(f) for f in frames]
    print(f"frames: {len(frames)} from {origin}; size mean {statistics.mean(sizes):.0f} B "
          f"(min {min(sizes)}, max {max(sizes)})")
    print(f"python {sys.version.split()[0]}, meterwire {meterwire.__version__}, "
          f"pymbusparser {PINS['pymbusparser']}, pyMeterBus {PINS['pyMeterBus']}; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")

    def accepted(parse, frame):
        try:
            parse(frame)
            return True
        except Exception:  # noqa: BLE001 - frames a library refuses are left out of its row
            return False

    mb_frames = [f for f in frames if accepted(lambda f: meterbus.load(f).interpreted, f)]
    pmp_frames = [f for f in frames if accepted(pymbusparser.parse, f)]
    assert meterwire.decode_many(frames) == [meterwire.decode(f) for f in frames]

    # The floor of building these Python objects at all: marshal.loads is CPython's fastest
    # builder of dicts, lists, str, int and float (C code, no parsing of text). Whatever a
    # decoder does, returning the same objects costs at least this.
    marshalled = [marshal.dumps(d) for d in meterwire.decode_many(frames)]

    rows = [
        ("meterwire", "decode_many(frames)", frames, lambda: meterwire.decode_many(frames)),
        ("meterwire", "decode(f) per frame", frames,
         lambda: [meterwire.decode(f) for f in frames]),
        ("meterwire", "decode_json(f) per frame", frames,
         lambda: [meterwire.decode_json(f) for f in frames]),
        ("pymbusparser", "parse(f) per frame", pmp_frames,
         lambda: [pymbusparser.parse(f) for f in pmp_frames]),
        ("pyMeterBus", "load(f).interpreted", mb_frames,
         lambda: [meterbus.load(f).interpreted for f in mb_frames]),
        ("CPython", "marshal.loads(same dicts)", frames,
         lambda: [marshal.loads(m) for m in marshalled]),
    ]
    best = measure(rows, args.samples)
    results = [
        (lib, call, len(fr), wall * 1e6, cpu * 1e6)
        for (lib, call, fr, _fn), (wall, cpu) in zip(rows, best)
    ]

    ref = results[0][3]
    print()
    print(f"| {'library':<12} | {'call':<26} | {'frames':>6} | {'µs/frame':>9} | "
          f"{'CPU µs/frame':>12} | {'vs decode_many':>14} |")
    print(f"|{'-' * 14}|{'-' * 28}|{'-' * 8}|{'-' * 11}|{'-' * 14}|{'-' * 16}|")
    for lib, call, n, wall, cpu in results:
        print(f"| {lib:<12} | {call:<26} | {n:>6} | {wall:>9.2f} | {cpu:>12.2f} | "
              f"{wall / ref:>13.1f}x |")


if __name__ == "__main__":
    main()
