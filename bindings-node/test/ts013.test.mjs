// The LoRaWAN payload-codec functions (TS013: decodeUplink, encodeDownlink, decodeDownlink)
// and the `redactKey` option through this backend. Inputs are shaped as The Things Stack and
// ChirpStack deliver them: `bytes` as an array of numbers, `fPort`, `recvTime` as a Date
// (TTS codecs) or an ISO text (webhooks), settings in `variables`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { load, ownVectors, readJsonl, root, vectorOptions } from './backend.mjs';

const { api } = await load();
const own = ownVectors().filter(({ line }) => !('error' in line.expected));

const KEY_A = Buffer.from([...Array(32).keys()]);
const KEY_B = Buffer.from('F0E1D2C3B4A5968778695A4B3C2D1E0F'.repeat(2), 'hex');
/** RSP_UD of KAM water meter 12345678 at primary address 5: 1234.567 m3. */
const RSP_UD = '68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 67 45 23 01 0D 16';
const bytesOf = (hex) => Array.from(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));

/** The pseudonym by Node's own HMAC (the Python test checks the same definition). */
const pseudonym = (key, id) => createHmac('sha256', key).update(id).digest('hex').slice(0, 24);

const ID_QUANTITIES = new Set(['fabrication_no', 'enhanced_id', 'bus_address', 'customer', 'serial_number']);
const ID_LABELS = new Set(['id', 'imei', 'imsi', 'iccid', 'sn', 'serialnumber', 'deviceid', 'meterid']);
const RAW_KEYS = new Set(['raw', 'spans', 'application_data', 'manufacturer_data', 'encrypted_data', 'mac', 'a']);

/** Identity texts of an unredacted model (this test's own reading of the model). */
function identities(model, out = new Set()) {
  const link = model.link ?? {};
  for (const v of [
    model.meter?.id,
    link.dll_address?.id,
    link.ell?.address?.id,
    link.device_address,
    link.identification,
    model.protocol === 'cjt188' ? link.address : undefined,
  ]) {
    if (typeof v === 'string' && v) out.add(v);
  }
  const paths = [link.topic ?? '', link.uri_path ?? ''];
  for (const o of link.options ?? []) if ([3, 11, 15].includes(o.number)) paths.push(String(o.value));
  for (const p of paths) {
    for (const level of p.split(/[/&=]/)) if (/\d/.test(level)) out.add(level);
  }
  for (const r of model.records ?? []) {
    const label = (r.label ?? '').split('.').pop().replace(/[_-]/g, '').toLowerCase();
    if (ID_QUANTITIES.has(r.quantity) || ID_LABELS.has(label)) {
      const v = r.exact ?? r.value;
      if (typeof v === 'string') out.add(v);
    }
  }
  if (model.payload && typeof model.payload === 'object') identities(model.payload, out);
  return out;
}

/** An identity as written and, for hex digit strings, as BCD bytes in wire order. */
function forms(id) {
  const out = [id.toUpperCase()];
  if (/^[0-9a-fA-F]+$/.test(id) && id.length % 2 === 0) {
    out.push(Buffer.from(id, 'hex').reverse().toString('hex').toUpperCase());
  }
  return out.filter((f) => f.length >= 6);
}

function rawFields(value, path = '', out = []) {
  if (Array.isArray(value)) value.forEach((v, i) => rawFields(v, `${path}[${i}]`, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (RAW_KEYS.has(k) && !(k === 'raw' && typeof v === 'number')) out.push(`${path}.${k}`);
      rawFields(v, `${path}.${k}`, out);
    }
  }
  return out;
}

function assertClean(text, plain, frameHex, name) {
  const upper = text.toUpperCase();
  for (const id of identities(plain)) {
    for (const f of forms(id)) assert.ok(!upper.includes(f), `${name}: ${id} survives as ${f}: ${text}`);
  }
  const hex = frameHex.replace(/\s+/g, '').toUpperCase();
  if (hex.length >= 8) assert.ok(!upper.includes(hex), `${name}: frame hex survives`);
}

test('redactKey: no identity of any conformance frame survives; pseudonyms are HMAC-SHA256', () => {
  let ids = 0;
  for (const { line } of own) {
    const opts = vectorOptions(line) ?? {};
    const plain = api.decode(line.hex, { ...opts, explain: true });
    const text = api.decodeJson(line.hex, { ...opts, explain: true, redactKey: KEY_A });
    const redacted = JSON.parse(text);
    assertClean(text, plain, line.hex, line.name);
    assert.deepEqual(rawFields(redacted), [], line.name);
    // Bytes and hex text are the same key.
    assert.equal(api.decodeJson(line.hex, { ...opts, explain: true, redactKey: KEY_A.toString('hex') }), text);
    if (plain.meter?.id) {
      ids += 1;
      assert.equal(redacted.meter.id, pseudonym(KEY_A, plain.meter.id), line.name);
      const other = api.decode(line.hex, { ...opts, redactKey: KEY_B }).meter.id;
      assert.equal(other, pseudonym(KEY_B, plain.meter.id));
      assert.notEqual(other, redacted.meter.id);
    }
    // toReading of the unredacted model with the key = the reading of the redacted model.
    const reading = api.toReading(redacted);
    assert.deepEqual(api.toReading(plain, { redactKey: KEY_A }), reading, line.name);
    assertClean(JSON.stringify(reading), plain, line.hex, line.name);
    // The TS013 uplink with variables.redactKey: the same reading.
    const up = api.decodeUplink({ bytes: bytesOf(line.hex), fPort: 1, variables: { ...opts, redactKey: KEY_A.toString('hex') } });
    assert.deepEqual(up.data, reading, line.name);
  }
  assert.ok(ids > 50, `${ids} meter ids checked`);
});

test('redactKey: decodeMany and decodeStream drop ids and raw bytes', () => {
  const items = api.decodeStream(`00 11 22 33 ${RSP_UD} 44 55 66 77`, { redactKey: KEY_A });
  assert.deepEqual(items.filter((i) => 'garbage' in i).map((i) => i.garbage), ['', '']);
  assert.equal(items[1].frame.meter.id, pseudonym(KEY_A, '12345678'));
  assert.ok(!JSON.stringify(items).includes('12345678'));
  const [many] = api.decodeMany([RSP_UD], { redactKey: KEY_A });
  assert.equal(many.meter.id, 'b2be66f797c511bd2a34dfb0');
  assert.throws(() => api.decode('E5', { redactKey: 'abcd' }), { kind: 'malformed' });
  assert.throws(() => api.decode('E5', { redactKey: 5 }), TypeError);
});

test('decodeUplink: data is toReading of the frame, for every conformance frame', () => {
  const recvTime = new Date('2026-12-07T02:30:00Z');
  for (const { line } of own) {
    const opts = vectorOptions(line);
    const up = api.decodeUplink({ bytes: bytesOf(line.hex), fPort: 2, recvTime, variables: opts });
    const model = api.decode(line.hex, opts);
    assert.deepEqual(up.errors, [], line.name);
    assert.deepEqual(up.data, api.toReading(model, { timestamp: '2026-12-07T02:30:00Z' }), line.name);
    assert.equal(up.data.timestamp, '2026-12-07T02:30:00Z');
    assert.ok(Array.isArray(up.warnings));
  }
});

test('decodeUplink: a TTS webhook uplink (base64 frm_payload, ISO received_at)', () => {
  const webhook = {
    end_device_ids: { device_id: 'water-0001', dev_eui: '70B3D57ED0000001' },
    received_at: '2026-12-07T02:30:01.123456789Z',
    uplink_message: { f_port: 5, frm_payload: Buffer.from(bytesOf(RSP_UD)).toString('base64') },
  };
  const up = api.decodeUplink({
    bytes: Array.from(Buffer.from(webhook.uplink_message.frm_payload, 'base64')),
    fPort: webhook.uplink_message.f_port,
    recvTime: webhook.received_at,
    variables: { protocol: 'mbus' },
  });
  assert.deepEqual(up, {
    data: {
      media: 'water',
      id: '12345678',
      manufacturer: 'KAM',
      protocol: 'mbus',
      total_m3: 1234.567,
      status: 'OK',
      timestamp: '2026-12-07T02:30:01.123456789Z',
    },
    warnings: [],
    errors: [],
  });
  // Uint8Array and Buffer bytes work the same.
  assert.deepEqual(api.decodeUplink({ bytes: Buffer.from(bytesOf(RSP_UD)) }).data.total_m3, 1234.567);
  // Redacted: the id is the HMAC pseudonym, the raw frame is nowhere.
  const red = api.decodeUplink({ bytes: bytesOf(RSP_UD), variables: { redactKey: KEY_A.toString('hex') } });
  assert.equal(red.data.id, pseudonym(KEY_A, '12345678'));
  assert.ok(!JSON.stringify(red).includes('12345678'));
});

test('decodeUplink never throws: errors begin with the kind', () => {
  const bad = bytesOf(RSP_UD);
  bad[25] = 0x0e; // checksum off by one
  const r = api.decodeUplink({ bytes: bad, fPort: 1 });
  assert.equal(r.data, undefined);
  assert.deepEqual(r.warnings, []);
  assert.equal(r.errors.length, 1);
  assert.match(r.errors[0], /^checksum: checksum 0x0E, computed 0x0D \(offset 25\)$/);
  assert.match(api.decodeUplink({ bytes: [0x10, 300] }).errors[0], /^invalid_argument: bytes\[1\]/);
  assert.match(api.decodeUplink(null).errors[0], /^invalid_argument: /);
  assert.match(api.decodeUplink({ bytes: [] }).errors[0], /^empty: /);
  assert.match(api.decodeUplink({ bytes: [0xe5], variables: { protocol: 'lora' } }).errors[0], /^unknown_protocol: /);
  assert.match(api.decodeUplink({ bytes: [0xe5], variables: { redactKey: '00' } }).errors[0], /^malformed: /);
  assert.match(api.decodeUplink({ bytes: [0xe5], recvTime: 17 }).errors[0], /^invalid_argument: recvTime/);
});

test('encodeDownlink: a model or a request spec to bytes and fPort', () => {
  // M-Bus REQ_UD2 to primary address 5 (EN 13757-2: 10 7B 05 80 16), from its model.
  const reqUd2 = api.decode('10 7B 05 80 16');
  assert.deepEqual(api.encodeDownlink({ data: reqUd2 }), {
    bytes: [0x10, 0x7b, 0x05, 0x80, 0x16],
    fPort: 1,
    warnings: [],
    errors: [],
  });
  // Modbus RTU: read 2 holding registers from 0 at unit 1 (01 03 00 00 00 02 C4 0B).
  const modbus = api.encodeDownlink({
    data: { modbusRequest: { function: 'read_holding_registers', unit: 1, start: 0, count: 2 } },
    variables: { fPort: '7' },
  });
  assert.deepEqual(modbus, { bytes: [0x01, 0x03, 0x00, 0x00, 0x00, 0x02, 0xc4, 0x0b], fPort: 7, warnings: [], errors: [] });
  // IEC 62056-21 sign-on without address: "/?!\r\n".
  const signOn = api.encodeDownlink({ data: { iec62056Message: { message: 'sign_on' }, fPort: 9 } });
  assert.deepEqual(signOn.bytes, Array.from(Buffer.from('/?!\r\n')));
  assert.equal(signOn.fPort, 9);
  // Failures are in errors, never thrown.
  assert.match(api.encodeDownlink({ data: reqUd2, variables: { fPort: 0 } }).errors[0], /^invalid_argument: fPort/);
  assert.match(api.encodeDownlink({ data: 'x' }).errors[0], /^invalid_argument: /);
  assert.match(api.encodeDownlink({ data: { protocol: 'mbus' } }).errors[0], /^malformed: /);
});

test('decodeDownlink: the model of a downlink request', () => {
  const down = api.decodeDownlink({ bytes: [0x10, 0x7b, 0x05, 0x80, 0x16], fPort: 1, recvTime: new Date() });
  assert.deepEqual(down.errors, []);
  assert.equal(down.data.link.function, 'REQ_UD2');
  assert.equal(down.data.link.a, 5);
  // The round trip: encodeDownlink(decodeDownlink(x).data).bytes is x.
  const modbus = bytesOf('01 03 00 00 00 02 C4 0B');
  const model = api.decodeDownlink({ bytes: modbus, variables: { protocol: 'modbus_rtu' } }).data;
  assert.equal(model.link.direction, 'request');
  assert.deepEqual(api.encodeDownlink({ data: model }).bytes, modbus);
  // Redacted: the primary address is dropped.
  const red = api.decodeDownlink({ bytes: [0x10, 0x7b, 0x05, 0x80, 0x16], variables: { redactKey: KEY_A } });
  assert.equal(red.data.link.a, undefined);
  assert.match(api.decodeDownlink({ bytes: [0x10, 0x7b, 0x05, 0x81, 0x16] }).errors[0], /^checksum: /);
});

test('the webhook example decodes a TTS uplink webhook over loopback', async () => {
  const { webhookServer } = await import('../examples/tts-webhook.mjs');
  const readings = [];
  const server = webhookServer(api, { redactKey: KEY_A.toString('hex') }, (r) => readings.push(r));
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${server.address().port}/`;
  try {
    const hook = {
      end_device_ids: { device_id: 'water-0001' },
      received_at: '2026-12-07T02:30:01Z',
      uplink_message: { f_port: 5, frm_payload: Buffer.from(bytesOf(RSP_UD)).toString('base64') },
    };
    const ok = await fetch(url, { method: 'POST', body: JSON.stringify(hook) });
    assert.equal(ok.status, 200);
    const body = await ok.json();
    assert.equal(body.data.total_m3, 1234.567);
    assert.equal(body.data.id, pseudonym(KEY_A, '12345678'));
    assert.equal(body.data.timestamp, '2026-12-07T02:30:01Z');
    assert.deepEqual(readings, [body.data]);
    hook.uplink_message.frm_payload = Buffer.from([0x10, 0x7b, 0x05, 0x81, 0x16]).toString('base64');
    const bad = await fetch(url, { method: 'POST', body: JSON.stringify(hook) });
    assert.equal(bad.status, 422);
    assert.match((await bad.json()).errors[0], /^checksum: /);
  } finally {
    await new Promise((done) => server.close(done));
  }
});

test('shared redaction vectors: the same redacted model as the Rust and Python runners', () => {
  const shared = readJsonl(join(root, 'tests', 'conformance', 'redaction', 'redacted.jsonl'));
  assert.ok(shared.length >= 18);
  for (const line of shared) {
    const opts = { ...(vectorOptions(line) ?? {}), redactKey: line.redact_key };
    assert.deepEqual(JSON.parse(api.decodeJson(line.hex, opts)), line.expected, line.name);
    const up = api.decodeUplink({ bytes: bytesOf(line.hex), fPort: 1, variables: opts });
    assert.deepEqual(up.data, line.reading, line.name);
    assert.deepEqual(api.toReading(line.expected), line.reading, line.name);
    if (line.expected.meter?.id) {
      const other = api.decode(line.hex, { ...opts, redactKey: KEY_B }).meter.id;
      assert.notEqual(other, line.expected.meter.id);
    }
  }
});
