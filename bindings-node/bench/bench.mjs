// Per-frame decode time of the native addon vs WebAssembly in Node, over ~100-byte M-Bus
// RSP_UD frames: the libmbus corpus' ok frames (../shared/vectors/mbus-libmbus.jsonl) when
// present, else the RSP_UD frames of tests/conformance. Not a test: prints numbers.
//
//   bash scripts/test-node.sh && bash scripts/build-wasm.sh   # both builds
//   node bindings-node/bench/bench.mjs [--seconds 0.5] [--rounds 9]
//
// Each row runs every frame in turn for `seconds`, `rounds` times with native and WASM
// interleaved; the fastest round is reported (other processes only ever add time; the median
// is printed too). The target is WASM within 2x of native.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { built, load, ownVectors, readJsonl, root, sharedVectors } from '../test/backend.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const seconds = arg('seconds', 0.5);
const rounds = arg('rounds', 9);

for (const b of ['native', 'wasm']) {
  if (!built(b)) {
    console.error(`bench: the ${b} build is missing (scripts/test-node.sh, scripts/build-wasm.sh)`);
    process.exit(1);
  }
}
const { api: native } = await load('native');
const { api: wasm } = await load('wasm');

// The frames: RSP_UD frames that decode.
let source;
let hexes;
const libmbus = sharedVectors && join(sharedVectors, 'mbus-libmbus.jsonl');
if (libmbus && existsSync(libmbus)) {
  source = 'libmbus ok frames (../shared/vectors/mbus-libmbus.jsonl)';
  hexes = readJsonl(libmbus).filter((l) => l.expected?.kind === 'ok').map((l) => l.hex);
} else {
  source = 'RSP_UD frames of tests/conformance';
  hexes = ownVectors().map(({ line }) => line.hex);
}
const frames = hexes
  .map((h) => Buffer.from(h, 'hex'))
  .filter((b) => {
    try {
      return native.decode(b).link.function === 'RSP_UD';
    } catch {
      return false;
    }
  });
const avgLen = frames.reduce((n, f) => n + f.length, 0) / frames.length;

function timeRound(fn) {
  let n = 0;
  const budget = BigInt(Math.round(seconds * 1e9));
  const t0 = process.hrtime.bigint();
  let t = t0;
  while (t - t0 < budget) {
    for (const f of frames) fn(f);
    n += frames.length;
    t = process.hrtime.bigint();
  }
  return Number(t - t0) / n;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** `{min, median}` ns/frame of each variant, rounds interleaved so load drift hits all alike. */
function measure(variants) {
  for (const v of variants) for (let i = 0; i < 3; i++) for (const f of frames) v.fn(f); // warm-up
  const samples = variants.map(() => []);
  for (let r = 0; r < rounds; r++) {
    variants.forEach((v, i) => samples[i].push(timeRound(v.fn)));
  }
  return samples.map((xs) => ({ min: Math.min(...xs), median: median(xs) }));
}

const rows = [
  ['decodeJson', (f) => native.decodeJson(f), (f) => wasm.decodeJson(f)],
  ['decode', (f) => native.decode(f), (f) => wasm.decode(f)],
  ['decodeMany (per frame)', null, null],
];

console.log(`meterwire bench: ${frames.length} frames, ${avgLen.toFixed(1)} bytes on average, from ${source}`);
console.log(`node ${process.version}, ${seconds} s x ${rounds} rounds per row; best round (median in brackets)\n`);
console.log('function                 native ns/frame          wasm ns/frame       wasm/native');
const results = {};
for (const [name, n, w] of rows) {
  let nat;
  let was;
  if (name.startsWith('decodeMany')) {
    const per = (m) => ({ min: m.min / frames.length, median: m.median / frames.length });
    [nat, was] = measure([
      { fn: () => native.decodeMany(frames) },
      { fn: () => wasm.decodeMany(frames) },
    ]).map(per);
  } else {
    [nat, was] = measure([{ fn: n }, { fn: w }]);
  }
  const ratio = was.min / nat.min;
  results[name] = {
    native_ns: Math.round(nat.min),
    wasm_ns: Math.round(was.min),
    ratio,
    native_median_ns: Math.round(nat.median),
    wasm_median_ns: Math.round(was.median),
  };
  const cell = (m) => `${m.min.toFixed(0)} (${m.median.toFixed(0)})`.padStart(22);
  console.log(`${name.padEnd(24)}${cell(nat)}${cell(was)} ${ratio.toFixed(2).padStart(10)}x`);
}

const v8Floor = {};
// V8's floor for building the same objects, beside decodeMany: the frames' results rebuilt
// from their JSON text (JSON.parse: V8's fastest object builder, parsing included) and deep
// copies of the decoded objects (structuredClone: building alone, no text).
{
  const texts = frames.map((f) => native.decodeJson(f));
  const objects = frames.map((f) => native.decode(f));
  const [parsed, cloned] = measure([
    { fn: (() => { let i = 0; return () => JSON.parse(texts[i++ % texts.length]); })() },
    { fn: (() => { let i = 0; return () => structuredClone(objects[i++ % objects.length]); })() },
  ]);
  const many = results['decodeMany (per frame)'];
  v8Floor.json_parse_ns = Math.round(parsed.min);
  v8Floor.structured_clone_ns = Math.round(cloned.min);
  console.log(
    `\nV8 floor per frame (same objects): JSON.parse of decodeJson's text ${parsed.min.toFixed(0)} ns, ` +
      `structuredClone of decode's result ${cloned.min.toFixed(0)} ns; native decodeMany ${many.native_ns} ns`,
  );
}

const info = join(root, 'bindings-wasm', 'pkg-node', 'build-info.json');
const wasmFile = join(root, 'bindings-wasm', 'pkg-node', 'meterwire_wasm_bg.wasm');
const sizes = existsSync(info) ? JSON.parse(readFileSync(info, 'utf8')) : {};
sizes.wasm_opt_bytes = readFileSync(wasmFile).length;
console.log(
  `\n.wasm size: ${sizes.cargo_wasm_bytes ?? '?'} B from cargo, ${sizes.bindgen_wasm_bytes ?? '?'} B after wasm-bindgen, ` +
    `${sizes.wasm_opt_bytes} B after wasm-opt -Oz (${sizes.wasm_opt_gzip_bytes ?? '?'} B gzip -9)`,
);
const worst = Math.max(...Object.values(results).map((r) => r.ratio));
console.log(`target WASM within 2x of native: ${worst <= 2 ? 'met' : 'NOT met'} (worst ${worst.toFixed(2)}x)`);
console.log(JSON.stringify({ frames: frames.length, avg_len: avgLen, results, v8_floor: v8Floor, sizes }));
