// The API surface every backend shares: input types, options, decodeMany, decodeStream,
// encode, MeterwireError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { backendName, load, ownVectors, root } from './backend.mjs';

const { api } = await load();
const { MeterwireError } = api;

// Frames of tests/conformance/mbus.jsonl, by name.
const byName = new Map(ownVectors().map(({ line }) => [line.name, line]));
const hexOf = (name) => {
  const line = byName.get(name);
  assert.ok(line, `vector ${name} exists`);
  return line.hex;
};
const RSP = hexOf('rsp-ud-digest-r1-r6');
const SHORT = hexOf('req-ud2-addr5');
const BAD_CHECKSUM = hexOf('err-checksum');

function throwsMw(fn, kind, offset) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof MeterwireError, `expected MeterwireError, got ${e?.name}: ${e?.message}`);
    assert.ok(e instanceof Error);
    if (kind !== undefined) assert.equal(e.kind, kind);
    if (offset !== undefined) assert.equal(e.offset, offset);
    return true;
  });
}

test(`input types: Buffer, Uint8Array, views and hex spellings decode alike (${backendName})`, () => {
  const want = api.decodeJson(RSP);
  const bytes = Buffer.from(RSP, 'hex');
  assert.equal(api.decodeJson(bytes), want);
  assert.equal(api.decodeJson(new Uint8Array(bytes)), want);
  // A view in the middle of a bigger buffer: only its bytes count.
  const big = new Uint8Array(bytes.length + 20).fill(0xAA);
  big.set(bytes, 7);
  assert.equal(api.decodeJson(big.subarray(7, 7 + bytes.length)), want);
  assert.equal(api.decodeJson(Buffer.from(big.buffer, 7, bytes.length)), want);
  // Hex text: lower case, spaces, colons, dashes, 0x prefixes.
  const pairs = RSP.match(/../g);
  for (const text of [
    RSP.toLowerCase(),
    pairs.join(' '),
    pairs.join(':'),
    pairs.join('-'),
    pairs.map((p) => `0x${p}`).join(' '),
    `  ${pairs.join(' ')}\n`,
  ]) {
    assert.equal(api.decodeJson(text), want, text);
  }
  assert.deepEqual(api.decode(bytes), JSON.parse(want));
});

test(`empty and odd inputs are MeterwireErrors (${backendName})`, () => {
  throwsMw(() => api.decode(new Uint8Array(0)), 'empty', 0);
  throwsMw(() => api.decode(Buffer.alloc(0)), 'empty', 0);
  throwsMw(() => api.decode(''), 'empty', 0);
  throwsMw(() => api.decode('zz'), 'hex', 0);
  throwsMw(() => api.decode('6'), 'hex');
  throwsMw(() => api.decodeJson('E5 0G'), 'hex', 4);
});

test(`options: protocol and explain (${backendName})`, () => {
  const auto = api.decodeJson(SHORT);
  assert.equal(api.decodeJson(SHORT, {}), auto);
  assert.equal(api.decodeJson(SHORT, null), auto);
  assert.equal(api.decodeJson(SHORT, { protocol: 'auto' }), auto);
  assert.equal(api.decodeJson(SHORT, { protocol: 'mbus' }), auto);
  assert.equal(api.decodeJson(SHORT, { protocol: 'MBUS' }), auto);
  throwsMw(() => api.decode(SHORT, { protocol: 'no-such-protocol' }), 'unknown_protocol', 0);
  // A hyphen spelling names a protocol: an M-Bus request is no IEC 62056-21 message.
  throwsMw(() => api.decode(SHORT, { protocol: 'iec62056-21' }), 'start', 0);
  // explain: spans cover every input byte exactly once, in order.
  const d = api.decode(RSP, { explain: true });
  assert.ok(Array.isArray(d.spans) && d.spans.length > 0);
  let at = 0;
  for (const s of d.spans) {
    assert.equal(s.start, at);
    assert.ok(s.end > s.start && typeof s.path === 'string' && typeof s.label === 'string');
    at = s.end;
  }
  assert.equal(at, RSP.length / 2);
  assert.equal(api.decode(RSP, { explain: false }).spans, undefined);
  assert.deepEqual(api.decode(RSP, { explain: true }), JSON.parse(api.decodeJson(RSP, { explain: true })));
});

test(`decodeMany: raise, skip, collect (${backendName})`, () => {
  const frames = [SHORT, Buffer.from(RSP, 'hex'), BAD_CHECKSUM, 'zz', new Uint8Array([0xe5])];
  const good = [SHORT, RSP, 'E5'].map((h) => api.decode(h));
  assert.deepEqual(api.decodeMany([]), []);
  assert.deepEqual(api.decodeMany([SHORT, RSP]), good.slice(0, 2));
  assert.deepEqual(api.decodeMany([SHORT, RSP], { onError: 'raise' }), good.slice(0, 2));
  assert.throws(
    () => api.decodeMany(frames),
    (e) => e instanceof MeterwireError && e.kind === 'checksum' && e.index === 2,
  );
  assert.deepEqual(api.decodeMany(frames, { onError: 'skip' }), good);
  const collected = api.decodeMany(frames, { onError: 'collect' });
  assert.equal(collected.length, frames.length);
  assert.deepEqual(collected[0], good[0]);
  assert.deepEqual(collected[1], good[1]);
  assert.deepEqual(collected[4], good[2]);
  assert.deepEqual(Object.keys(collected[2]), ['error']);
  assert.deepEqual(Object.keys(collected[2].error), ['kind', 'offset', 'message']);
  assert.equal(collected[2].error.kind, 'checksum');
  assert.equal(collected[3].error.kind, 'hex');
  // The error objects are the §3 objects the CLI prints.
  try {
    api.decode(BAD_CHECKSUM);
    assert.fail('no error');
  } catch (e) {
    assert.deepEqual(collected[2].error, { kind: e.kind, offset: e.offset, message: e.message });
  }
  // Options reach every frame.
  assert.deepEqual(api.decodeMany([RSP], { explain: true })[0], api.decode(RSP, { explain: true }));
});

test(`decodeStream: frames, errors and garbage cover every byte (${backendName})`, () => {
  const rsp = Buffer.from(RSP, 'hex');
  const stream = Buffer.concat([
    Buffer.from([0x00, 0xff]),
    rsp,
    Buffer.from(SHORT, 'hex'),
    Buffer.from([0x68, 0x03]),
  ]);
  const items = api.decodeStream(stream);
  let at = 0;
  for (const it of items) {
    assert.equal(it.start, at);
    assert.ok(it.end > it.start);
    const keys = Object.keys(it);
    assert.deepEqual(keys.slice(0, 2), ['start', 'end']);
    assert.ok(['frame', 'error', 'garbage'].includes(keys[2]));
    if (keys[2] === 'garbage') assert.ok(['noise', 'invalid_frame', 'truncated', 'unsolicited_ack'].includes(it.reason));
    else assert.equal(keys.length, 3, JSON.stringify(keys));
    at = it.end;
  }
  assert.equal(at, stream.length);
  assert.deepEqual(items[0], { start: 0, end: 2, garbage: '00FF', reason: 'noise' });
  assert.deepEqual(items[1], { start: 2, end: 2 + rsp.length, frame: api.decode(rsp) });
  assert.deepEqual(items.at(-1), {
    start: stream.length - 2,
    end: stream.length,
    garbage: '6803',
    reason: 'truncated',
    protocol: 'mbus',
  });
  // Hex text in, same items out.
  assert.deepEqual(api.decodeStream(stream.toString('hex')), items);
  assert.deepEqual(api.decodeStream(new Uint8Array(0)), []);
  // A frame whose link layer verifies but whose content is broken is an error item, with
  // offsets in stream coordinates.
  const overrun = Buffer.from(ownVectors().find(({ line }) => line.name === 'err-record-overrun').line.hex, 'hex');
  const inStream = api.decodeStream(Buffer.concat([Buffer.from([0]), overrun]));
  const errItem = inStream.find((it) => it.error);
  if (errItem) {
    assert.deepEqual(Object.keys(errItem.error), ['kind', 'offset', 'message']);
    assert.ok(errItem.error.offset >= errItem.start);
  }
});

test(`Decoder: fed in pieces, needs more bytes, keeps the session (${backendName})`, () => {
  const rsp = Buffer.from(RSP, 'hex');
  const dec = new api.Decoder();
  assert.equal(dec.position, 0);
  // Noise and the first 10 bytes of the RSP_UD: the noise waits for its span to end, the
  // frame for its bytes.
  assert.deepEqual(dec.feed(Buffer.concat([Buffer.from([0x00]), rsp.subarray(0, 10)])), []);
  assert.ok(dec.needed > 0);
  assert.equal(dec.pending, 11);
  const items = dec.feed(rsp.subarray(10));
  assert.deepEqual(items, [
    { start: 0, end: 1, garbage: '00', reason: 'noise' },
    { start: 1, end: 1 + rsp.length, frame: api.decode(rsp) },
  ]);
  assert.equal(dec.needed, null);
  assert.equal(dec.position, 1 + rsp.length);
  // Hex text is accepted; finish() flushes the cut-off tail.
  assert.deepEqual(dec.feed('6803'), []);
  assert.deepEqual(dec.finish(), [
    { start: 1 + rsp.length, end: 3 + rsp.length, garbage: '6803', reason: 'truncated', protocol: 'mbus' },
  ]);
  // One cut frame at a time in the session: a compact wM-Bus frame after its full frame.
  const full = '14442D2C78563412010778041339300000025B1400';
  const compact = '14442D2C78563412010779E9EA20C7393000001400';
  const session = new api.Decoder({ protocol: 'wmbus' });
  session.decode(full);
  const c = session.decode(compact);
  assert.equal(c.link.format_signature, '0xEAE9');
  assert.equal(c.records[0].exact, '12.345');
  // Alone, the compact frame has no format to use.
  assert.equal(api.decode(compact, { protocol: 'wmbus' }).records?.length ?? 0, 0);
  throwsMw(() => new api.Decoder().decode('68 03'), 'truncated');
  assert.throws(() => new api.Decoder({ protocol: 'nope' }), MeterwireError);
  assert.throws(() => dec.feed(5), TypeError);
  dec.free();
  session.free();
});

test(`encode: round trip and errors (${backendName})`, () => {
  for (const hex of [SHORT, RSP, 'E5']) {
    const bytes = api.encode(api.decode(hex));
    assert.ok(bytes instanceof Uint8Array);
    assert.equal(Buffer.from(bytes).toString('hex').toUpperCase(), hex);
  }
  // A changed model encodes the change.
  const d = api.decode(SHORT);
  d.link.a = 7;
  const again = api.decode(api.encode(d));
  assert.equal(again.link.a, 7);
  // Not a model: the core's error, as a MeterwireError.
  throwsMw(() => api.encode({}), 'malformed');
  throwsMw(() => api.encode({ schema_version: 1, protocol: 'nope', link: {} }), 'malformed');
});

test(`keys: one key, a map by meter id, wrong keys (${backendName})`, (t) => {
  const line = [...byName.values()].find((l) => typeof l.key === 'string' && !l.expected.error);
  if (!line) {
    t.skip('no vector with a key');
    return;
  }
  const id = line.expected.meter.id;
  const hidden = api.decode(line.hex);
  assert.equal(hidden.encrypted, true);
  assert.deepEqual(api.decode(line.hex, { keys: line.key }), line.expected);
  assert.deepEqual(api.decode(line.hex, { keys: line.key.toLowerCase() }), line.expected);
  assert.deepEqual(api.decode(line.hex, { keys: { [id]: line.key } }), line.expected);
  assert.deepEqual(api.decode(line.hex, { keys: `${id}=${line.key}` }), line.expected);
  // A key for another meter is no key.
  assert.equal(api.decode(line.hex, { keys: { 99999999: line.key } }).encrypted, true);
  // A wrong key is the core's decrypt (or auth) error and never shows the key.
  const wrong = line.key.replace(/^../, line.key.startsWith('00') ? '11' : '00');
  assert.throws(
    () => api.decode(line.hex, { keys: wrong }),
    (e) => e instanceof MeterwireError && ['decrypt', 'auth'].includes(e.kind) && !e.message.includes(wrong),
  );
  // Not a key at all.
  assert.throws(() => api.decode(line.hex, { keys: 'zz' }), MeterwireError);
  assert.throws(() => api.decode(line.hex, { keys: { [id]: '0011' } }), MeterwireError);
  for (const keys of [5, true, ['a'], { [id]: 5 }, { [id]: null }]) {
    assert.throws(() => api.decode(line.hex, { keys }), TypeError);
  }
  // decodeMany, decodeStream and encode take keys too.
  assert.deepEqual(api.decodeMany([line.hex], { keys: line.key }), [line.expected]);
  // (The core's stream cutter finds wired M-Bus frames; the option is accepted all the same.)
  assert.equal(api.decodeStream(line.hex, { keys: line.key }).at(-1).end, line.hex.length / 2);
  const plain = api.encode(line.expected);
  const sealed = api.encode(line.expected, { keys: line.key });
  assert.equal(Buffer.from(sealed).toString('hex').toUpperCase(), line.hex);
  assert.notDeepEqual(Buffer.from(plain), Buffer.from(sealed));
});

test(`protocols: the core's registry (${backendName})`, () => {
  const list = api.protocols();
  const names = list.map((p) => p.name);
  for (const name of ['mbus', 'wmbus', 'cjt188', 'modbus_rtu', 'modbus_tcp']) {
    assert.ok(names.includes(name), name);
  }
  // Modbus RTU has no signature: auto-detection does not find it, the caller names it.
  const rtu = list.find((p) => p.name === 'modbus_rtu');
  assert.deepEqual([rtu.encode, rtu.detect, typeof rtu.title], [true, false, 'string']);
  assert.equal(list.find((p) => p.name === 'mbus').detect, true);
  // A listed protocol decodes when named (digest M1: read 2 holding registers from 0).
  const m1 = api.decode('01 03 00 00 00 02 C4 0B', { protocol: 'modbus_rtu' });
  assert.deepEqual([m1.link.unit_id, m1.link.function, m1.link.quantity], [1, 3, 2]);
});

test(`modbusRequest: the core's request builders (${backendName})`, () => {
  const hex = (b) => Buffer.from(b).toString('hex').toUpperCase();
  assert.ok(api.modbusRequest({ function: 'read_holding_registers', unit: 1, start: 0, count: 2 }) instanceof Uint8Array);
  // Digest M1, T1, M8 and M11.
  assert.equal(hex(api.modbusRequest({ function: 'read_holding_registers', unit: 1, start: 0, count: 2 })), '010300000002C40B');
  assert.equal(
    hex(api.modbusRequest({ function: 'read_holding_registers', unit: 1, start: 0, count: 2, framing: 'tcp', transaction: 1 })),
    '000100000006010300000002',
  );
  assert.equal(hex(api.modbusRequest({ function: 'write_single_coil', unit: 1, address: 3, on: true })), '01050003FF007C3A');
  assert.equal(hex(api.modbusRequest({ function: 'read_device_identification', unit: 1, code: 1, objectId: 0 })), '012B0E01007077');
  // It decodes back as the request it is.
  const m1 = api.decode(api.modbusRequest({ function: 'read_holding_registers', unit: 1, start: 0, count: 2 }), { protocol: 'modbus_rtu' });
  assert.deepEqual([m1.link.direction, m1.link.start_address, m1.link.quantity], ['request', 0, 2]);
  throwsMw(() => api.modbusRequest({ function: 'read_holding_registers', unit: 1, start: 0 }), 'malformed', 0);
  throwsMw(() => api.modbusRequest({ function: 'read_holding_registers', unit: 1, start: 0, count: 126 }), 'malformed', 0);
  assert.throws(() => api.modbusRequest('01 03'), TypeError);
});

test(`iec62056Message: the core's IEC 62056-21 builders (${backendName})`, () => {
  const hex = (b) => Buffer.from(b).toString('hex').toUpperCase();
  assert.ok(api.iec62056Message({ message: 'sign_on' }) instanceof Uint8Array);
  // Digest I1, I5, I8, I10, I13.
  assert.equal(hex(api.iec62056Message({ message: 'sign_on' })), '2F3F210D0A');
  assert.equal(hex(api.iec62056Message({ message: 'option_select', baud: 9600, mode: 'data_readout' })), '063035300D0A');
  assert.equal(hex(api.iec62056Message({ message: 'password', type: '0', value: '1234567' })), '015030022831323334353637290350');
  assert.equal(hex(api.iec62056Message({ message: 'read', address: '8.0' })), '01523102382E3028290345');
  assert.equal(hex(api.iec62056Message({ message: 'break' })), '0142300371');
  assert.equal(
    hex(api.iec62056Message({ message: 'identification', manufacturer: 'XYz', enhancedId: '2', identification: 'WM100-A1' })),
    '2F58597A355C32574D3130302D41310D0A',
  );
  assert.equal(hex(api.iec62056Message({ message: 'sign_on', parity: true })), 'AF3F218D0A');
  // A readout decodes back (auto-detected) with its exact value, and encodes back.
  const readout = api.iec62056Message({ message: 'readout', dataSets: [{ address: '8.0', value: '001234.567', unit: 'm3' }] });
  const d = api.decode(readout);
  assert.equal(d.protocol, 'iec62056_21');
  assert.deepEqual([d.records[0].address, d.records[0].exact, d.records[0].unit], ['8.0', '1234.567', 'm3']);
  assert.equal(hex(api.encode(d)), hex(readout));
  throwsMw(() => api.iec62056Message({ message: 'sign_on', address: 'a!b' }), 'malformed', 0);
  throwsMw(() => api.iec62056Message({ message: 'everything' }), 'malformed', 0);
  assert.throws(() => api.iec62056Message('/?!'), TypeError);
});

test(`toReading: the flat reading view (${backendName})`, () => {
  const d = api.decode(RSP);
  const r = api.toReading(d);
  assert.equal(r.protocol, 'mbus');
  assert.equal(r.id, d.meter.id);
  assert.equal(r.manufacturer, d.meter.manufacturer);
  assert.equal(typeof r.status, 'string');
  assert.equal(r.timestamp, undefined);
  for (const [k, v] of Object.entries(r)) {
    assert.match(k, /^[a-z0-9_]+$/, k);
    assert.ok(typeof v === 'string' || typeof v === 'number', `${k}: ${typeof v}`);
  }
  // The reception time is added when given; the same view from the JSON text's object.
  const ts = '2026-11-25T16:00:00Z';
  assert.equal(api.toReading(d, { timestamp: ts }).timestamp, ts);
  assert.deepEqual(api.toReading(JSON.parse(api.decodeJson(RSP))), r);
  assert.deepEqual(api.toReading(d, {}), r);
  assert.deepEqual(api.toReading(d, null), r);
  assert.deepEqual(api.toReading(api.decode('E5')), { protocol: 'mbus', status: 'OK' });
  throwsMw(() => api.toReading({}), 'malformed', 0);
  for (const bad of [5, 'x', [], () => {}]) {
    assert.throws(() => api.toReading(d, bad), TypeError);
  }
  for (const timestamp of [5, null, {}, true]) {
    assert.throws(() => api.toReading(d, { timestamp }), TypeError);
  }
});

test(`MeterwireError: shape (${backendName})`, () => {
  try {
    api.decode(BAD_CHECKSUM);
    assert.fail('no error');
  } catch (e) {
    assert.ok(e instanceof MeterwireError);
    assert.ok(e instanceof Error);
    assert.equal(e.name, 'MeterwireError');
    assert.equal(e.kind, 'checksum');
    assert.equal(e.code, 'checksum');
    assert.equal(typeof e.offset, 'number');
    assert.equal(e.layer, 'link');
    assert.match(e.message, /checksum 0x[0-9A-F]{2}, computed 0x[0-9A-F]{2}/);
    assert.match(String(e), /^MeterwireError: checksum/);
    assert.equal(typeof e.stack, 'string');
  }
});

test('the package runs the shared wrapper and model types of bindings-js', () => {
  const same = (a, b) =>
    assert.equal(readFileSync(join(root, a), 'utf8'), readFileSync(join(root, b), 'utf8'), `${a} != ${b}`);
  for (const pkg of ['bindings-node', 'bindings-wasm']) {
    if (!existsSync(join(root, pkg, 'wrap.js'))) continue;
    same('bindings-js/wrap.js', `${pkg}/wrap.js`);
    same('bindings-js/meterwire.d.ts', `${pkg}/types/meterwire.d.ts`);
  }
});

// Modbus options: digest M1 (request) and M2 (response), profiles/ultrasonic-f32-cdab.json.
test(`modbus request and modbusProfile options (${backendName})`, () => {
  const M1 = '01 03 00 00 00 02 C4 0B';
  const M2 = '01 03 04 00 00 C1 48 AB 95';
  const text = readFileSync(join(root, 'profiles', 'ultrasonic-f32-cdab.json'), 'utf8');
  const profile = JSON.parse(text);
  let want;
  for (const request of [M1, Buffer.from(M1.replace(/ /g, ''), 'hex'), new Uint8Array(Buffer.from('010300000002C40B', 'hex'))]) {
    for (const modbusProfile of [text, profile]) {
      const d = api.decode(M2, { protocol: 'modbus_rtu', request, modbusProfile });
      const [flow] = d.records;
      assert.deepEqual([flow.label, flow.exact, flow.unit, flow.address], ['flow', '-12.5', 'm3/h', 0]);
      want ??= d;
      assert.deepEqual(d, want);
    }
  }
  const opts = { protocol: 'modbus-rtu', request: M1, modbusProfile: profile };
  assert.deepEqual(JSON.parse(api.decodeJson(M2, opts)), want);
  assert.deepEqual(api.decodeMany([M2, M2], opts), [want, want]);
  assert.deepEqual(api.decodeStream(M2, opts)[0].frame, want);
  // null means absent; a request that does not fit is a warning.
  assert.ok(api.decode(M2, { protocol: 'modbus_rtu', request: null, modbusProfile: null }));
  const other = api.decode(M2, { protocol: 'modbus_rtu', request: '020300000002C438' });
  assert.match(other.warnings[0], /^request option mismatch:/);
  // A bad profile is the core's error; bad hex in the request too.
  const bad = { name: 'x', registers: [{ quantity: 'volume', address: 0, type: 'u24' }] };
  for (const modbusProfile of [bad, JSON.stringify(bad)]) {
    throwsMw(() => api.decode(M2, { protocol: 'modbus_rtu', request: M1, modbusProfile }), 'malformed', 0);
  }
  throwsMw(() => api.decode(M2, { protocol: 'modbus_rtu', modbusProfile: '{not json' }), 'malformed');
  throwsMw(() => api.decode(M2, { protocol: 'modbus_rtu', request: '01 0G' }), 'hex');
  for (const wrong of [{ request: 5 }, { request: ['01'] }, { modbusProfile: 5 }, { modbusProfile: [1] }]) {
    assert.throws(() => api.decode(M2, { protocol: 'modbus_rtu', ...wrong }), (e) => e instanceof TypeError && e.code === 'ERR_INVALID_ARG_TYPE');
  }
});

// Issue 17's end-to-end cases: a CJ/T 188 reply inside a CoAP NON POST (digest MB1) and an
// M-Bus frame inside an MQTT PUBLISH with a one- and a two-byte remaining length.
test(`CoAP and MQTT carry nested frames (${backendName})`, () => {
  const mb1 = hexOf('coap-mb1-non-post-cjt188-reply');
  const d = api.decode(mb1);
  assert.equal(d.protocol, 'coap');
  assert.deepEqual(
    [d.link.type, d.link.code, d.link.method, d.link.message_id, d.link.token, d.link.uri_path],
    ['NON', '0.02', 'POST', 0x1234, 'A1B2', '/t/d'],
  );
  assert.equal(d.payload.protocol, 'cjt188');
  assert.deepEqual(d.payload.records.slice(0, 2).map((r) => r.exact), ['1234.56', '1200.00']);
  assert.equal(Buffer.from(api.encode(d)).toString('hex').toUpperCase(), mb1);
  const spans = api.decode(mb1, { explain: true }).payload.spans;
  assert.deepEqual([spans[0].start, spans.at(-1).end], [13, mb1.length / 2]);
  for (const [name, rl] of [['mqtt-publish-mbus-rl-1-byte', 47], ['mqtt-publish-mbus-rl-2-bytes', 132]]) {
    const hex = hexOf(name);
    const m = api.decode(hex);
    assert.equal(m.protocol, 'mqtt');
    assert.equal(m.link.remaining_length, rl);
    assert.equal(m.payload.protocol, 'mbus');
    assert.equal(m.payload.meter.id, '12345678');
    assert.equal(m.payload.records[0].exact, '1234.567');
    assert.equal(Buffer.from(api.encode(m)).toString('hex').toUpperCase(), hex);
    assert.equal(api.toReading(m).id, '12345678');
  }
});

test(`mqttVersion option (${backendName})`, () => {
  const packet = '300A00036D2F310201017B7D';
  const d = api.decode(packet, { protocol: 'mqtt', mqttVersion: '5.0' });
  assert.equal(d.link.version, '5.0');
  assert.deepEqual(d.link.properties, [{ id: 1, name: 'payload_format_indicator', value: 1 }]);
  assert.equal(api.decode(packet, { protocol: 'mqtt' }).link.version, '3.1.1');
  throwsMw(() => api.decode(packet, { mqttVersion: '4.0' }), 'malformed', 0);
  assert.throws(() => api.decode(packet, { mqttVersion: 5 }), TypeError);
});

test(`payloadCipher option: SM4-CBC opened with the device key (${backendName})`, () => {
  const hex = hexOf('mqtt-publish-sm4-cbc-no-key');
  const key = '0123456789ABCDEFFEDCBA9876543210'; // GB/T 32907's example key
  const d = api.decode(hex, { payloadCipher: 'sm4-cbc', keys: { 12345678: key } });
  assert.equal(d.link.payload_cipher, 'sm4-cbc-pkcs7');
  assert.equal(d.payload.protocol, 'cjt188');
  assert.equal(d.payload.records[0].exact, '1234.56');
  assert.ok(!JSON.stringify(d).includes(key));
  assert.equal(Buffer.from(api.encode(d, { keys: key })).toString('hex').toUpperCase(), hex);
  assert.equal(api.decode(hex, { payloadCipher: 'sm4-cbc' }).encrypted, true);
  throwsMw(() => api.decode(hex, { payloadCipher: 'sm4-cbc', keys: '00'.repeat(16) }), 'decrypt', 22);
  throwsMw(() => api.decode(hex, { payloadCipher: 'des-cbc' }), 'malformed', 0);
  assert.throws(() => api.decode(hex, { payloadCipher: 4 }), TypeError);
});
