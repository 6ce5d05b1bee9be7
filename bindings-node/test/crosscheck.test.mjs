// Native and WASM give the same bytes: decodeJson text (or error) identical for every vector
// of tests/conformance and of ../shared/vectors (when present), and the same objects from
// decode, decodeMany and decodeStream. Runs when both builds exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { built, decodeJsonOrError, load, ownVectors, readJsonl, sharedVectors, vectorOptions } from './backend.mjs';

/** Encoded hex, or the error's kind, offset and message. */
function encodeOrError(api, d) {
  try {
    return Buffer.from(api.encode(d)).toString('hex');
  } catch (e) {
    if (!(e instanceof api.MeterwireError)) throw e;
    return `${e.kind} ${e.offset} ${e.message}`;
  }
}

function allVectors() {
  const out = ownVectors().map(({ file, line }) => ({ source: file, line }));
  if (sharedVectors) {
    for (const f of readdirSync(sharedVectors).filter((n) => n.endsWith('.jsonl')).sort()) {
      for (const line of readJsonl(join(sharedVectors, f))) {
        if (typeof line.hex === 'string') out.push({ source: f, line });
      }
    }
  }
  return out;
}

test('native and wasm decodeJson are byte-identical for every vector', async (t) => {
  if (!built('native') || !built('wasm')) {
    t.skip('needs both builds (scripts/test-node.sh and scripts/build-wasm.sh)');
    return;
  }
  const { api: native } = await load('native');
  const { api: wasm } = await load('wasm');
  const vectors = allVectors();
  let same = 0;
  for (const { source, line } of vectors) {
    const label = `${source}: ${line.name}`;
    const opts = vectorOptions(line);
    for (const o of [opts, { ...opts, explain: true }]) {
      const a = decodeJsonOrError(native, line.hex, o);
      const b = decodeJsonOrError(wasm, line.hex, o);
      assert.equal(b, a, label);
      if (!a.startsWith('{"error":')) {
        const d = native.decode(line.hex, o);
        assert.deepEqual(wasm.decode(line.hex, o), d, label);
        assert.deepEqual(wasm.toReading(d), native.toReading(d), label);
        assert.deepEqual(encodeOrError(wasm, d), encodeOrError(native, d), label);
      }
    }
    same++;
  }
  const hexes = vectors.map((v) => v.line.hex);
  assert.deepEqual(wasm.decodeMany(hexes, { onError: 'collect' }), native.decodeMany(hexes, { onError: 'collect' }));
  const stream = Buffer.concat(hexes.slice(0, 300).map((h) => Buffer.from(h.length % 2 ? h + '0' : h, 'hex')));
  assert.deepEqual(wasm.decodeStream(stream), native.decodeStream(stream));
  t.diagnostic(`${same} vectors identical in native and wasm`);
});
