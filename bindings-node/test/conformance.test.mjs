// Conformance (design §6): the project's vectors (tests/conformance/*.jsonl) and the libmbus
// corpus (../shared/vectors/mbus-libmbus.jsonl, when present) through this backend.
// `decodeJson` must be the Rust CLI's text byte for byte, `decode` its parsed value, errors
// the vector's kind and offset, and `encode(decode(x))` the input again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  backendName,
  cliOptions,
  decodeJsonOrError,
  load,
  ownStreams,
  ownVectors,
  readJsonl,
  root,
  sharedVectors,
  vectorOptions,
} from './backend.mjs';

const { api } = await load();
const own = ownVectors();

/** Upper-case hex without separators. */
const plainHex = (bytes) => Buffer.from(bytes).toString('hex').toUpperCase();

/** The CLI's ndjson lines for hex frames (one per line), decoded with `--protocol`/`--key`
 * and `extra` flags (`--request`, `--profile`). */
function cliLines(hexes, protocol, key, extra = []) {
  const bin = join(root, 'target', 'debug', 'meterwire');
  if (!existsSync(bin)) {
    const built = spawnSync('cargo', ['build', '-p', 'meterwire-cli'], { cwd: root, stdio: 'inherit' });
    assert.equal(built.status, 0, 'cargo build -p meterwire-cli failed');
  }
  const dir = mkdtempSync(join(tmpdir(), 'meterwire-cli-'));
  try {
    const file = join(dir, 'frames.hex');
    writeFileSync(file, hexes.join('\n') + '\n');
    const args = ['decode', '--format', 'ndjson', '--file', file];
    if (protocol) args.push('--protocol', protocol);
    if (key) args.push('--key', key);
    args.push(...extra);
    const out = spawnSync(bin, args, { encoding: 'utf8', maxBuffer: 256 << 20 });
    assert.ok(out.status === 0 || out.status === 1, `CLI exit ${out.status}: ${out.stderr}`);
    const lines = out.stdout.split('\n');
    if (lines.at(-1) === '') lines.pop();
    assert.equal(lines.length, hexes.length, 'one CLI line per frame');
    return lines;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test(`own vectors: decodeJson and decode equal expected (${backendName})`, () => {
  assert.ok(own.length >= 20, `only ${own.length} vectors`);
  let models = 0;
  let errors = 0;
  for (const { line } of own) {
    const opts = vectorOptions(line);
    const expected = line.expected;
    if (expected.error) {
      for (const f of [api.decodeJson, api.decode]) {
        assert.throws(
          () => f(line.hex, opts),
          (e) => {
            assert.ok(e instanceof api.MeterwireError, `${line.name}: ${e}`);
            assert.equal(e.kind, expected.error.kind, line.name);
            assert.equal(e.code, expected.error.kind, line.name);
            assert.equal(e.offset, expected.error.offset, line.name);
            return true;
          },
          line.name,
        );
      }
      errors++;
    } else {
      assert.deepEqual(JSON.parse(api.decodeJson(line.hex, opts)), expected, line.name);
      assert.deepEqual(api.decode(line.hex, opts), expected, line.name);
      models++;
    }
  }
  assert.ok(models > 0 && errors > 0);
});

test(`own vectors: decodeJson is the Rust CLI's text byte for byte (${backendName})`, () => {
  // Vectors by protocol, key, request and profile, so each CLI run gets the vector's flags.
  const groups = new Map();
  for (const { line } of own) {
    const group = JSON.stringify([line.protocol || 'auto', line.key || '', cliOptions(line)]);
    if (!groups.has(group)) groups.set(group, []);
    groups.get(group).push(line);
  }
  let compared = 0;
  for (const [group, lines] of groups) {
    const [protocol, key, extra] = JSON.parse(group);
    const cli = cliLines(lines.map((l) => l.hex), protocol, key, extra);
    lines.forEach((line, i) => {
      assert.equal(decodeJsonOrError(api, line.hex, vectorOptions(line)), cli[i], line.name);
      compared++;
    });
  }
  assert.equal(compared, own.length);
});

test(`own vectors: encode(decode(x)) gives x back (${backendName})`, () => {
  let n = 0;
  for (const { line } of own) {
    if (line.expected.error) continue;
    const decoded = api.decode(line.hex, vectorOptions(line));
    // An encrypted frame decoded with its key encodes back encrypted with the same key.
    const encodeOpts = line.key ? { keys: line.key } : undefined;
    const bytes = api.encode(decoded, encodeOpts);
    assert.ok(bytes instanceof Uint8Array, line.name);
    assert.equal(plainHex(bytes), line.hex.toUpperCase().replace(/[^0-9A-F]/g, ''), line.name);
    // The JSON text round-trips the same way.
    const again = api.encode(JSON.parse(api.decodeJson(line.hex, vectorOptions(line))), encodeOpts);
    assert.equal(plainHex(again), plainHex(bytes), line.name);
    n++;
  }
  assert.ok(n > 0);
});

test(`stream vectors: decodeStream and a Decoder fed in pieces give the items (${backendName})`, () => {
  const streams = ownStreams();
  assert.ok(streams.length >= 6, `only ${streams.length} stream vectors`);
  for (const line of streams) {
    const opts = vectorOptions(line);
    assert.deepEqual(api.decodeStream(line.hex, opts), line.expected, line.name);
    const bytes = Buffer.from(line.hex.replace(/[^0-9A-Fa-f]/g, ''), 'hex');
    for (const piece of [1, 3, 7]) {
      const dec = new api.Decoder(opts);
      const items = [];
      for (let i = 0; i < bytes.length; i += piece) items.push(...dec.feed(bytes.subarray(i, i + piece)));
      items.push(...dec.finish());
      assert.deepEqual(items, line.expected, `${line.name} in pieces of ${piece}`);
      dec.free();
    }
  }
});

test(`libmbus corpus: decodeJson equals the Rust CLI byte for byte (${backendName})`, (t) => {
  if (!sharedVectors) {
    t.skip('../shared/vectors not present');
    return;
  }
  const file = join(sharedVectors, 'mbus-libmbus.jsonl');
  if (!existsSync(file)) {
    t.skip('mbus-libmbus.jsonl not present');
    return;
  }
  const lines = readJsonl(file);
  const cli = cliLines(lines.map((l) => l.hex));
  let frames = 0;
  let failures = 0;
  lines.forEach((line, i) => {
    const text = decodeJsonOrError(api, line.hex);
    assert.equal(text, cli[i], line.name);
    if (text.startsWith('{"error":')) {
      assert.throws(() => api.decode(line.hex), api.MeterwireError, line.name);
      failures++;
    } else {
      assert.deepEqual(api.decode(line.hex), JSON.parse(cli[i]), line.name);
      assert.deepEqual(api.decode(Buffer.from(line.hex, 'hex')), JSON.parse(cli[i]), line.name);
      frames++;
    }
  });
  t.diagnostic(`libmbus: ${frames} frames decoded, ${failures} errors, all equal to the CLI`);
  assert.ok(frames >= 70, `only ${frames} libmbus frames decoded`);
});
