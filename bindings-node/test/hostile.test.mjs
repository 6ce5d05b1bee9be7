// Hostile input: random bytes, mutated frames, huge buffers, wrong types for every argument,
// non-hex strings, and a Rust panic. Every call must return or throw an Error object (a
// MeterwireError for input the core refuses, a TypeError for a wrong argument type); the
// process must live on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backendName, load, ownVectors } from './backend.mjs';

const { api, raw } = await load();
const { MeterwireError } = api;

const KINDS = new Set([
  'empty', 'hex', 'truncated', 'length', 'start', 'stop', 'checksum', 'crc', 'unsupported',
  'malformed', 'decrypt', 'auth', 'unknown_protocol',
]);

/** xorshift32: the same "random" inputs on every run and backend. */
function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** Calls fn; it may return, or throw a MeterwireError with a known kind. */
function returnsOrMw(fn, label) {
  try {
    return fn();
  } catch (e) {
    assert.ok(e instanceof MeterwireError, `${label}: threw ${e?.name}: ${e?.message}`);
    assert.ok(KINDS.has(e.kind), `${label}: kind ${e.kind}`);
    assert.equal(e.code, e.kind);
    assert.ok(Number.isSafeInteger(e.offset) && e.offset >= 0, `${label}: offset ${e.offset}`);
    return undefined;
  }
}

/** Every entry point on one input; decodeJson and decode must agree. */
function everyEntryPoint(input, label) {
  const text = returnsOrMw(() => api.decodeJson(input), label);
  const obj = returnsOrMw(() => api.decode(input), label);
  assert.equal(text === undefined, obj === undefined, `${label}: decode and decodeJson disagree`);
  if (text !== undefined) {
    assert.deepEqual(obj, JSON.parse(text), label);
    returnsOrMw(() => api.encode(obj), `${label} encode`);
    if (api.toReading) returnsOrMw(() => api.toReading(obj), `${label} toReading`);
  }
  returnsOrMw(() => api.decodeJson(input, { explain: true }), `${label} explain`);
  const items = api.decodeStream(input instanceof Uint8Array ? input : Buffer.alloc(0));
  let at = 0;
  for (const it of items) {
    assert.equal(it.start, at, `${label}: stream items are contiguous`);
    at = it.end;
  }
  if (input instanceof Uint8Array) assert.equal(at, input.length, `${label}: stream covers every byte`);
}

/** The M-Bus long-frame checksum, recomputed so mutations reach the application layer. */
function fixChecksum(frame) {
  if (frame.length >= 9 && frame[0] === 0x68 && frame[3] === 0x68 && frame[1] === frame[2]) {
    const end = 4 + frame[1];
    if (end + 2 === frame.length) {
      let sum = 0;
      for (let i = 4; i < end; i++) sum = (sum + frame[i]) & 0xff;
      frame[end] = sum;
    }
  }
  return frame;
}

test(`random bytes never crash (${backendName})`, () => {
  const next = rng(0x5eed);
  for (let n = 0; n < 3000; n++) {
    const len = next() % 300;
    const buf = new Uint8Array(len);
    for (let i = 0; i < len; i++) buf[i] = next() & 0xff;
    // Half of them start like an M-Bus frame, so they get past detection.
    if (n % 2 === 0 && len > 6) {
      buf[0] = 0x68;
      buf[3] = 0x68;
      buf[1] = buf[2] = Math.max(0, len - 6) & 0xff;
      buf[len - 1] = 0x16;
      fixChecksum(buf);
    }
    everyEntryPoint(buf, `random #${n}`);
  }
});

test(`mutated conformance frames never crash (${backendName})`, () => {
  const next = rng(0xfeed);
  const frames = ownVectors().map(({ line }) => Buffer.from(line.hex, 'hex'));
  for (let n = 0; n < 4000; n++) {
    const frame = Buffer.from(frames[next() % frames.length]);
    const flips = 1 + (next() % 3);
    for (let k = 0; k < flips; k++) {
      // Mutate the user data (after the header) more often than the framing.
      const i = frame.length > 8 && k % 2 === 0 ? 4 + (next() % (frame.length - 6)) : next() % frame.length;
      frame[i] = next() & 0xff;
    }
    everyEntryPoint(fixChecksum(frame), `mutation #${n}`);
  }
});

test(`huge inputs are refused or decoded, not fatal (${backendName})`, () => {
  const MiB = 1 << 20;
  // 64 MiB that starts like an M-Bus long frame: a length error, quickly.
  returnsOrMw(() => api.decode(Buffer.alloc(64 * MiB, 0x68)), '64 MiB 0x68');
  returnsOrMw(() => api.decode(Buffer.alloc(16 * MiB, 0x00)), '16 MiB zeros');
  // 8 MiB of hex text (4 MiB of bytes).
  returnsOrMw(() => api.decodeJson('E5'.repeat(4 * MiB)), '8 MiB hex');
  // 4 MiB of bytes as a stream: every byte is garbage or a frame.
  const next = rng(42);
  const stream = Buffer.alloc(4 * MiB);
  for (let i = 0; i < stream.length; i += 4) stream.writeUInt32LE(next(), i);
  const items = api.decodeStream(stream);
  assert.equal(items.at(-1).end, stream.length);
  // The largest well-formed long frame (L = 255) decodes or fails cleanly.
  const big = Buffer.alloc(261, 0);
  big[0] = 0x68;
  big[1] = big[2] = 0xff;
  big[3] = 0x68;
  big[4] = 0x08;
  big[6] = 0x72;
  big[260] = 0x16;
  everyEntryPoint(fixChecksum(big), 'L=255');
  // Many frames at once.
  const many = api.decodeMany(Array.from({ length: 20000 }, () => 'E5'));
  assert.equal(many.length, 20000);
});

test(`non-hex strings are hex errors (${backendName})`, () => {
  const strings = [
    'zz', 'E', 'E5 0', '0x', '0xZZ', '6 8', '68 1', 'E5!', 'G0', '\u0000', '\uFF16\uFF18', // full-width digits
    '\uD800', 'E5\uDFFF', '💧💧', 'e5'.padEnd(10001, 'q'), 'null', 'undefined', '[object Object]',
    '0x0x68', '--', '::', ' \t\n', 'E5;;E5', '٦٨', // Arabic-Indic digits
  ];
  for (const s of strings) {
    for (const f of [api.decode, api.decodeJson, api.decodeStream]) {
      returnsOrMw(() => f(s), JSON.stringify(s).slice(0, 40));
    }
    const collected = api.decodeMany([s], { onError: 'collect' });
    assert.equal(collected.length, 1);
  }
  assert.throws(() => api.decode('zz'), (e) => e instanceof MeterwireError && e.kind === 'hex');
});

// Values of every JS type that is not an accepted input.
const hostileProxy = new Proxy({}, {
  get() {
    throw new Error('proxy get');
  },
});
const WRONG = [
  undefined, null, 0, -1, 1.5, NaN, Infinity, true, false, 10n, Symbol('s'), {}, [], [0x68],
  () => 'E5', new Float64Array(4), new Int8Array(4), new Uint16Array(4), new Uint8ClampedArray(4),
  new ArrayBuffer(4), new DataView(new ArrayBuffer(4)), new Date(0), /E5/, new String('E5'),
  new Map(), new Set(), Promise.resolve(), { toString: () => 'E5' }, hostileProxy,
];

function throwsTypeError(fn, label) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof TypeError, `${label}: threw ${e?.name}: ${e?.message}`);
    assert.ok(!(e instanceof MeterwireError), label);
    assert.ok(/^ERR_INVALID_ARG_(TYPE|VALUE)$/.test(e.code), `${label}: code ${e.code}`);
    return true;
  }, label);
}

test(`wrong types for every argument are TypeErrors (${backendName})`, () => {
  for (const [i, w] of WRONG.entries()) {
    const label = `WRONG[${i}]`;
    // data
    for (const name of ['decode', 'decodeJson', 'decodeStream']) {
      throwsTypeError(() => api[name](w), `${name}(${label})`);
    }
    // frames, and elements of frames
    if (!Array.isArray(w)) throwsTypeError(() => api.decodeMany(w), `decodeMany(${label})`);
    throwsTypeError(() => api.decodeMany(['E5', w]), `decodeMany([E5, ${label}])`);
    // encode / toReading take a model object
    if (w === null || typeof w !== 'object' || Array.isArray(w) || ArrayBuffer.isView(w)) {
      throwsTypeError(() => api.encode(w), `encode(${label})`);
      if (api.toReading) throwsTypeError(() => api.toReading(w), `toReading(${label})`);
    } else {
      // Objects that are not models: a TypeError (no JSON) or the core's refusal.
      try {
        api.encode(w);
        assert.fail(`encode(${label}) returned`);
      } catch (e) {
        assert.ok(e instanceof TypeError || e instanceof MeterwireError || e.message === 'proxy get', `encode(${label}): ${e}`);
      }
    }
  }
  // opts: not an object, or fields of the wrong type.
  const badOpts = [0, 'mbus', true, 10n, Symbol('o'), [], () => {}, { protocol: 5 }, { protocol: null },
    { protocol: {} }, { explain: 'yes' }, { explain: 1 }, { explain: null }];
  for (const [i, o] of badOpts.entries()) {
    for (const name of ['decode', 'decodeJson', 'decodeStream']) {
      throwsTypeError(() => api[name]('E5', o), `${name}(E5, badOpts[${i}])`);
    }
    throwsTypeError(() => api.decodeMany(['E5'], o), `decodeMany([E5], badOpts[${i}])`);
  }
  for (const onError of ['ignore', '', 'RAISE', 5, null, true]) {
    throwsTypeError(() => api.decodeMany(['E5'], { onError }), `onError ${String(onError)}`);
  }
  // A throwing getter in opts propagates as is: not a crash, not swallowed.
  assert.throws(() => api.decode('E5', hostileProxy), /proxy get/);
  // Cyclic or BigInt models cannot become JSON: TypeError from JSON.stringify.
  const cyclic = { schema_version: 1 };
  cyclic.self = cyclic;
  assert.throws(() => api.encode(cyclic), TypeError);
  assert.throws(() => api.encode({ schema_version: 1n }), TypeError);
  // The process is still fine.
  assert.equal(api.decode('E5').link.kind, 'ack');
});

test(`the raw binding survives wrong types too (${backendName})`, () => {
  const fns = ['decodeJson', 'decodeManyJson', 'decodeStreamJson', 'encodeJson', 'toReadingJson'];
  for (const n of fns) assert.equal(typeof raw[n], 'function', n);
  for (const n of fns) {
    for (const w of WRONG.filter((v) => v !== hostileProxy)) {
      for (const args of [[w], [w, w], ['E5', w]]) {
        try {
          raw[n](...args);
        } catch (e) {
          assert.ok(e instanceof Error, `${n}: threw a non-Error ${String(e)}`);
        }
      }
    }
  }
  assert.equal(JSON.parse(raw.decodeJson('E5')).link.kind, 'ack');
});

test(`a Rust panic is a thrown Error and the module keeps working (${backendName})`, () => {
  // A WebAssembly trap skips Rust's cleanup: many in a row show it leaks nothing that
  // matters. The native build prints each panic's message to stderr, so a few suffice.
  const rounds = backendName === 'native' ? 3 : 500;
  for (let i = 0; i < rounds; i++) {
    assert.throws(() => raw.__panicProbe(), (e) => {
      assert.ok(e instanceof Error, String(e));
      if (backendName === 'native') assert.equal(e.code, 'ERR_METERWIRE_PANIC');
      else assert.ok(e instanceof WebAssembly.RuntimeError, `${e.name}: ${e.message}`);
      return true;
    });
    assert.equal(api.decode('E5').link.kind, 'ack');
  }
  // Decoding after the panics still gives the same text as before.
  const line = ownVectors().find(({ line: l }) => l.name === 'rsp-ud-digest-r1-r6').line;
  assert.deepEqual(api.decode(line.hex), line.expected);
});
