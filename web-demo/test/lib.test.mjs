// Unit tests of the web demo's pure helpers (web-demo/lib.js). The hex reader, which only
// lays bytes out for display, is checked against the core's own reader through the
// WebAssembly package for Node (bindings-wasm/pkg-node, built by scripts/build-wasm.sh).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  caption,
  fieldName,
  parseHex,
  parseSamples,
  readFragment,
  spanGroup,
  splitLines,
  toHex,
  writeFragment,
} from '../lib.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const wasmNode = join(root, 'bindings-wasm', 'pkg-node', 'meterwire_wasm.js');
const wasmIndex = join(root, 'bindings-wasm', 'index.js');

describe('parseHex', () => {
  test('reads every spelling of design §4', () => {
    for (const text of ['68 15 0D', '68150D', '0x68,0x15,0x0D', '68:15:0d', '68-15-0D', '0x68150D', ' 68\t15\r\n0d ;']) {
      assert.deepEqual([...parseHex(text).bytes], [0x68, 0x15, 0x0d], text);
    }
  });

  test('points at the offending character', () => {
    assert.deepEqual(parseHex('68 1G'), { error: { offset: 4 } });
    assert.deepEqual(parseHex('68 1 16'), { error: { offset: 3 } });
    assert.deepEqual(parseHex('68 155'), { error: { offset: 5 } });
    assert.equal(parseHex(' :- ').error.empty, true);
    assert.equal(parseHex('0x').error.empty, true);
  });

  test('agrees with the core on what is hex and where it is not', { skip: !existsSync(wasmNode) && 'bindings-wasm/pkg-node not built' }, async () => {
    const core = await import(wasmIndex);
    const cases = ['E5', 'e5', '0xE5', '0XE5', 'E 5', 'E5G', '10 7B 05 80 16', '107b058016', '10:7B:05', '0x10,0x7B',
      '10--7B', 'x10', '0x', '0x0x10', '1 0', '10 7B 0', 'ÄE5', '10\u00a07B', '10;7B', '10,,7B', ' ', ''];
    for (const text of cases) {
      const mine = parseHex(text);
      let kind = null;
      let offset = null;
      let stream = null;
      try {
        stream = core.decodeStream(text);
      } catch (e) {
        kind = e.kind;
        offset = e.offset;
      }
      if (mine.bytes) {
        assert.ok(stream, `${JSON.stringify(text)}: the core refused it (${kind} at ${offset})`);
        const end = stream.length ? stream[stream.length - 1].end : 0;
        assert.equal(end, mine.bytes.length, JSON.stringify(text));
      } else {
        assert.equal(kind, mine.error.empty ? 'empty' : 'hex', JSON.stringify(text));
        if (!mine.error.empty) {
          // The core counts bytes of UTF-8 text, JS counts UTF-16 units: equal for ASCII.
          const ascii = /^[\x00-\x7f]*$/.test(text);
          if (ascii) assert.equal(offset, mine.error.offset, JSON.stringify(text));
        }
      }
    }
  });

  test('toHex spells bytes like the CLI', () => {
    assert.equal(toHex(Uint8Array.from([0x10, 0x7b, 0x05, 0x80, 0x16])), '10 7B 05 80 16');
    assert.equal(toHex(new Uint8Array()), '');
  });
});

describe('input and samples', () => {
  test('one frame per non-blank line, # comments dropped', () => {
    assert.deepEqual(splitLines('# head\n\n E5 \n10 7B 05 80 16 # req\n   # only a comment\n'), [
      { line: 3, text: 'E5' },
      { line: 4, text: '10 7B 05 80 16' },
    ]);
  });

  test('samples/mbus.hex: every frame labelled by the comment above it', () => {
    const samples = parseSamples(readFileSync(join(root, 'samples', 'mbus.hex'), 'utf8'));
    assert.ok(samples.length >= 10);
    const ack = samples.find((s) => s.name === 'ack');
    assert.deepEqual(ack, { name: 'ack', description: 'single character acknowledgement', hex: 'E5' });
    for (const s of samples) {
      assert.match(s.name, /^[\w.-]+$/);
      assert.ok(parseHex(s.hex).bytes, s.name);
    }
    assert.equal(new Set(samples.map((s) => s.name)).size, samples.length, 'sample names are unique');
  });
});

describe('URL fragment', () => {
  test('round-trips any text, and only frames, protocol and read mode', () => {
    const state = { frames: '# a & b = c + d?\n68 15 15 68\n0x10,0x7B #x ü', protocol: 'mbus', read: 'stream' };
    const frag = writeFragment(state);
    assert.match(frag, /^#frames=/);
    assert.doesNotMatch(frag.slice(1), /[\s#]/);
    const empty = { request: '', profile: '', profileJson: '' };
    assert.deepEqual(readFragment(frag), { ...state, ...empty });
    assert.deepEqual(readFragment(''), { frames: '', protocol: 'auto', read: 'auto', ...empty });
    assert.equal(writeFragment({ frames: '' }), '');
    assert.equal(writeFragment({ frames: 'E5', protocol: 'auto', read: 'auto' }), '#frames=E5');
    assert.deepEqual(Object.keys(readFragment('#frames=E5&key=00112233&keys=x')), ['frames', 'protocol', 'read', 'request', 'profile', 'profileJson']);
  });

  test('Modbus: the request and a bundled or pasted register profile round-trip', () => {
    const bundled = { frames: '02 03 18 C0 70', protocol: 'modbus_rtu', read: 'auto', request: '02 03 00 00 00 0C 45 FC', profile: 'electromagnetic-u32-abcd', profileJson: '' };
    const frag = writeFragment(bundled);
    assert.match(frag, /&request=02\+03\+00/);
    assert.match(frag, /&profile=electromagnetic-u32-abcd$/);
    assert.deepEqual(readFragment(frag), bundled);
    const json = '{"name": "x & y", "registers": [{"quantity": "volume", "address": 4, "type": "u32", "scale": "0.001"}]}\n';
    const custom = { ...bundled, profile: 'custom', profileJson: json };
    assert.deepEqual(readFragment(writeFragment(custom)), custom);
    // Pasted JSON travels only with the custom choice.
    assert.doesNotMatch(writeFragment({ ...bundled, profileJson: json }), /profile_json/);
    assert.equal(readFragment('#frames=E5&profile=electromagnetic-u32-abcd&profile_json=%7B%7D').profileJson, '');
  });
});

describe('span names and groups', () => {
  test('groups', () => {
    assert.deepEqual(spanGroup('link.kind'), { group: 'envelope', record: null });
    assert.deepEqual(spanGroup('link.checksum'), { group: 'envelope', record: null });
    assert.deepEqual(spanGroup('link.c'), { group: 'link', record: null });
    assert.deepEqual(spanGroup('link.config'), { group: 'meter', record: null });
    assert.deepEqual(spanGroup('meter.id'), { group: 'meter', record: null });
    assert.deepEqual(spanGroup('records[12].raw.vif'), { group: 'record', record: 12 });
    assert.deepEqual(spanGroup('manufacturer_data'), { group: 'data', record: null });
    // CJ/T 188 paths
    assert.deepEqual(spanGroup('link.preamble_len'), { group: 'envelope', record: null });
    assert.deepEqual(spanGroup('link.start'), { group: 'envelope', record: null });
    assert.deepEqual(spanGroup('link.length'), { group: 'link', record: null });
    assert.deepEqual(spanGroup('link.di'), { group: 'link', record: null });
    assert.deepEqual(spanGroup('records[1].unit'), { group: 'record', record: 1 });
    assert.deepEqual(spanGroup('status'), { group: 'data', record: null });
  });

  test('names and captions', () => {
    assert.equal(fieldName('records[0].raw.dif'), 'DIF (data type)');
    assert.equal(fieldName('link.kind', 'start 0x68: long frame'), 'start');
    assert.equal(fieldName('link.kind', 'E5: acknowledgement'), 'frame type');
    assert.equal(fieldName('link.di'), 'DI (data id)');
    assert.equal(fieldName('link.xyz'), 'XYZ');
    assert.equal(fieldName('link.meter_type'), 'meter type');
    assert.equal(caption('C 0x08: RSP_UD (ACD 0, DFC 0)', '08'), 'RSP_UD (ACD 0, DFC 0)');
    assert.equal(caption('DIF 0C: 8-digit BCD', '0C'), '8-digit BCD');
    assert.equal(caption('VIF FD 17: error flags', 'FD 17'), 'error flags');
    assert.equal(caption('E5: acknowledgement', 'E5'), 'acknowledgement');
    assert.equal(caption('L = 21: bytes from C to the end of the data', '15'), 'L = 21: bytes from C to the end of the data');
    assert.equal(caption('1234.567 m3', '67 45 23 01'), '1234.567 m3');
  });
});
