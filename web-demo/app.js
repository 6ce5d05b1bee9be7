// meterwire frame explainer: paste hex, see the decoded model, a table of values and every
// byte explained. All decoding is the core's (the WebAssembly package in ./meterwire/); this
// file only lays out what the core returns: the model, its `spans` (explain mode, design §2)
// and its errors (`MeterwireError` with `kind` and `offset`, design §3).
import init, { decode, decodeJson, decodeStream, Decoder, encode, MeterwireError } from './meterwire/web.js';
import {
  caption,
  fieldName,
  hexByte,
  humanize,
  parseHex,
  parseSamples,
  readFragment,
  spanGroup,
  splitLines,
  toHex,
  writeFragment,
} from './lib.js';

// ---------------------------------------------------------------------------------------
// Protocols. The override list and the sample groups show the protocols the loaded core
// decodes (probed at start-up), so a codec that lands in the core appears here by itself:
// its samples come from samples/<protocol>.hex (copied by scripts/build-web-demo.sh).

const PROTOCOL_NAMES = {
  mbus: 'wired M-Bus (EN 13757-2/-3)',
  wmbus: 'wireless M-Bus / OMS',
  cjt188: 'CJ/T 188',
  modbus_rtu: 'Modbus RTU',
  modbus_tcp: 'Modbus TCP',
  iec62056_21: 'IEC 62056-21 (optical)',
  coap: 'CoAP (RFC 7252)',
  mqtt: 'MQTT (3.1.1 / 5.0)',
};

const SHORT_NAMES = {
  mbus: 'M-Bus',
  wmbus: 'wM-Bus',
  cjt188: 'CJ/T 188',
  modbus_rtu: 'Modbus RTU',
  modbus_tcp: 'Modbus TCP',
  iec62056_21: 'IEC 62056-21',
  coap: 'CoAP',
  mqtt: 'MQTT',
};

// What a frame is for, in words: M-Bus functions (EN 13757-2), CJ/T 188 functions (§4).
const FUNCTION_MEANING = {
  mbus: {
    SND_NKE: 'master → meter: reset the link (sent before the first request)',
    SND_UD: 'master → meter: send data or a command',
    REQ_UD1: 'master → meter: asks for alarm data (class 1)',
    REQ_UD2: 'master → meter: asks for the meter data (class 2)',
    RSP_UD: 'meter → master: the answer, carrying the meter data',
  },
  // IEC 62056-21 messages of the optical port (spec/iec62056-21.md §3).
  iec62056_21: {
    sign_on: 'reading head → meter: sign-on request (“who are you?”)',
    identification: 'meter → reading head: identification (manufacturer, baud rate offered)',
    ack_option_select: 'reading head → meter: acknowledge and choose the mode and baud rate',
    data: 'meter → reading head: data (readout or the answer to a read)',
    command: 'reading head → meter: programming command',
    ack: 'acknowledgement (“received”)',
    nak: 'negative acknowledgement (“repeat, please”)',
    break: 'reading head → meter: break, end of the session',
    error: 'meter → reading head: error message',
    dsmr: 'smart meter → P1 port: DSMR telegram (electricity, and gas/water sub-meters over M-Bus)',
  },
  cjt188: {
    read_data: 'read data',
    read_address: 'read the meter address',
    write_data: 'write data',
    read_key_version: 'read the key version',
    write_address: 'write a new meter address',
    write_sync: 'set the meter register (synchronisation)',
  },
};

function meaningOf(d) {
  const link = d.link ?? {};
  if (d.protocol === 'cjt188') {
    const what = FUNCTION_MEANING.cjt188[link.function] ?? `function ${link.control ?? ''}`;
    if (link.direction === 'slave_to_master') return `meter → master: ${link.exception ? 'exception reply (the meter refused)' : 'reply'} to “${what}”`;
    return `master → meter: ${what}`;
  }
  if (d.protocol === 'iec62056_21') return FUNCTION_MEANING.iec62056_21[link.message] ?? null;
  if (link.kind === 'ack') return 'meter → master: acknowledgement (“received”)';
  return FUNCTION_MEANING[d.protocol]?.[link.function] ?? null;
}

// A sentence per error kind (design §3) for people who do not know the standard.
const ERROR_HINTS = {
  empty: 'There are no hex digits to decode.',
  hex: 'This is not hex text: each byte needs two digits 0-9 / A-F.',
  truncated: 'The frame ends too early: bytes are missing at the end (a cut-off capture?).',
  length: 'The length does not fit: a length field disagrees with the bytes present, or more bytes follow a complete frame.',
  start: 'The frame does not start (or restart) with the expected start byte.',
  stop: 'The frame does not end with the expected stop byte.',
  checksum: 'The checksum byte does not match the bytes before it: a transmission error or a mistyped byte.',
  crc: 'The CRC does not match the block: a transmission error or a mistyped byte.',
  unsupported: 'This protocol or feature has no decoder in this version of meterwire.',
  malformed: 'The frame is well delimited but its content breaks the protocol rules at this byte.',
  decrypt: 'Decryption failed: wrong key.',
  auth: 'The authentication code does not match: wrong key or altered data.',
  unknown_protocol: 'No supported protocol starts like this. Pick the protocol by hand if you know it; if the line holds several frames or noise, choose Read as: capture.',
};

// ---------------------------------------------------------------------------------------
// Requests the encode panel builds, per protocol, as models for the generic `encode(model)`.
// Defaults give the frames of the README and mbus-tables.md §14.1.

const MBUS = (link, extra = {}) => ({ schema_version: 1, protocol: 'mbus', link, records: [], ...extra });

const MEDIA = [
  ['', 'any'],
  ['0x07', '07 water'],
  ['0x16', '16 cold water'],
  ['0x06', '06 warm water'],
  ['0x15', '15 hot water'],
  ['0x04', '04 heat'],
  ['0x03', '03 gas'],
  ['0x02', '02 electricity'],
];

const METER_TYPES = [
  ['0x10', '10 cold water'],
  ['0x11', '11 domestic hot water'],
  ['0x12', '12 drinking water'],
  ['0x13', '13 reclaimed water'],
  ['0x20', '20 heat meter (heating)'],
  ['0x21', '21 heat meter (cooling)'],
  ['0x30', '30 gas'],
  ['0x40', '40 other'],
  ['0xAA', 'AA any type'],
];

const DATA_IDS = [
  ['0x901F', '901F metering data'],
  ...Array.from({ length: 12 }, (_, i) => [`0xD1${(0x20 + i).toString(16).toUpperCase()}`, `D1${(0x20 + i).toString(16).toUpperCase()} history, month −${i + 1}`]),
  ['0x8102', '8102 price table'],
  ['0x8103', '8103 settlement day'],
  ['0x8104', '8104 reading day'],
  ['0x8105', '8105 purchase amounts'],
];

const FIELDS = {
  address: { label: 'Primary address', kind: 'int', min: 0, max: 255, help: '0–250 meters, 253 = the selected meter, 254 = broadcast with reply, 255 = broadcast' },
  fcb: { label: 'FCB: frame count bit (toggle between successive requests)', kind: 'bool' },
  id: { label: 'ID mask', kind: 'text', help: 'up to 8 digits; F = any digit; missing leading digits are F' },
  manufacturer: { label: 'Manufacturer', kind: 'text', help: 'three letters, e.g. KAM; empty = any' },
  version: { label: 'Version', kind: 'int', min: 0, max: 254, optional: true, help: 'empty = any' },
  medium: { label: 'Medium', kind: 'select', options: MEDIA },
  new_address: { label: 'New primary address', kind: 'int', min: 1, max: 250 },
  meter_address: { label: 'Meter address', kind: 'text', help: 'up to 14 digits as printed on the meter (A6…A0), leading zeros added; AA…AA = any meter' },
  meter_type: { label: 'Meter type', kind: 'select', options: METER_TYPES },
  di: { label: 'Data', kind: 'select', options: DATA_IDS },
  valve: { label: 'Valve', kind: 'select', options: [['close', 'close (99)'], ['open', 'open (55)']] },
  ser: { label: 'Sequence number SER', kind: 'int', min: 0, max: 255, help: 'echoed by the meter in its reply' },
  di_order: { label: 'DI byte order', kind: 'select', options: [['hi_lo', 'high byte first (90 1F): most meters'], ['lo_hi', 'low byte first (1F 90)']] },
  preamble: { label: 'Wake-up bytes FE', kind: 'int', min: 0, max: 16 },
  device_address: { label: 'Device address', kind: 'text', help: 'up to 32 characters; empty for the usual point-to-point optical head' },
  baud: { label: 'Baud rate', kind: 'select', options: [['300', '300'], ['2400', '2400'], ['4800', '4800'], ['9600', '9600'], ['19200', '19200']] },
  iec_mode: { label: 'Mode', kind: 'select', options: [['data_readout', 'data readout'], ['programming', 'programming'], ['binary', 'binary (HDLC, mode E)']] },
  data_set: { label: 'Data set', kind: 'text', help: 'the data-set address, e.g. 8.0, 1.8.0 or C.1.0' },
  password: { label: 'Password', kind: 'text', help: 'as agreed with the meter, e.g. 00000000' },
  parity: { label: '7E1 parity bits (for a port sending 8 data bits)', kind: 'bool' },
};

// IEC 62056-21 (spec/iec62056-21.md §3): the same bytes as `meterwire encode iec62056-21 …`.
const IEC = (v, link, records = []) => ({
  schema_version: 1,
  protocol: 'iec62056_21',
  link: { ...link, parity: v.parity },
  records,
});
const iecText = (text, what, max) =>
  /^[\x20-\x7e]*$/.test(text) && !/[()!/]/.test(text) && text.length <= max ? null : `the ${what} is up to ${max} printable characters without ( ) ! /`;

const CJT = (v, link, records = []) => ({
  schema_version: 1,
  protocol: 'cjt188',
  link: {
    preamble_len: v.preamble,
    meter_type: v.meter_type,
    address: v.meter_address.toUpperCase().padStart(14, '0'),
    direction: 'master_to_slave',
    ser: v.ser,
    di_order: v.di_order ?? 'hi_lo',
    ...link,
  },
  records,
});
const cjtAddress = (v) => (/^[0-9Aa]{1,14}$/.test(v.meter_address) ? null : 'the meter address has 1 to 14 digits (or A for a wildcard)');

const REQUESTS = {
  mbus: [
    {
      id: 'req_ud2',
      label: 'REQ_UD2: ask a meter for its data',
      fields: { address: 5, fcb: true },
      model: (v) => MBUS({ kind: 'short', function: 'REQ_UD2', a: v.address, fcb: v.fcb, fcv: true }),
    },
    {
      id: 'snd_nke',
      label: 'SND_NKE: reset the link',
      fields: { address: 5 },
      model: (v) => MBUS({ kind: 'short', function: 'SND_NKE', a: v.address }),
    },
    {
      id: 'req_ud1',
      label: 'REQ_UD1: ask for alarm data',
      fields: { address: 5, fcb: false },
      model: (v) => MBUS({ kind: 'short', function: 'REQ_UD1', a: v.address, fcb: v.fcb, fcv: true }),
    },
    {
      id: 'select',
      label: 'Select a meter by secondary address (then talk to address 253)',
      fields: { id: '12345678', manufacturer: '', version: null, medium: '', fcb: false },
      model: (v) => {
        const meter = { id: v.id.toUpperCase().padStart(8, 'F') };
        if (v.manufacturer) meter.manufacturer = v.manufacturer.toUpperCase();
        if (v.version !== null) meter.version = v.version;
        if (v.medium) meter.medium_code = v.medium;
        return MBUS({ kind: 'long', function: 'SND_UD', a: 253, ci: '0x52', fcb: v.fcb, fcv: true }, { meter });
      },
      check: (v) => {
        if (!/^[0-9Ff]{1,8}$/.test(v.id)) return 'the ID mask has 1 to 8 characters, digits 0-9 or F';
        if (v.manufacturer && !/^[A-Za-z]{3}$/.test(v.manufacturer)) return 'the manufacturer is three letters';
        return null;
      },
    },
    {
      id: 'set_address',
      label: 'Give a meter a new primary address',
      fields: { address: 254, new_address: 8, fcb: false },
      model: (v) =>
        MBUS(
          { kind: 'long', function: 'SND_UD', a: v.address, ci: '0x51', fcb: v.fcb, fcv: true },
          { records: [{ quantity: 'bus_address', value: v.new_address, raw: { dif: '01', vif: '7A' } }] },
        ),
    },
    {
      id: 'reset',
      label: 'Application reset',
      fields: { address: 1, fcb: false },
      model: (v) => MBUS({ kind: 'control', function: 'SND_UD', a: v.address, ci: '0x50', fcb: v.fcb, fcv: true }),
    },
  ],
  // CJ/T 188 (spec/cjt188.md §4, §6): the same bytes as `meterwire encode cjt188 …`.
  cjt188: [
    {
      id: 'cjt_read',
      label: 'Read data (C 01): readings, history, settings',
      fields: { meter_address: '00010012345678', meter_type: '0x10', di: '0x901F', ser: 0, di_order: 'hi_lo', preamble: 2 },
      model: (v) => CJT(v, { function: 'read_data', di: v.di }),
      check: cjtAddress,
    },
    {
      id: 'cjt_read_address',
      label: 'Read address (C 03) of the one meter on the bus',
      fields: { meter_address: 'AAAAAAAAAAAAAA', meter_type: '0x10', ser: 0, preamble: 2 },
      model: (v) => CJT(v, { function: 'read_address', di: '0x810A' }),
      check: cjtAddress,
    },
    {
      id: 'cjt_valve',
      label: 'Valve control (C 04, DI A017)',
      fields: { meter_address: '00010012345678', meter_type: '0x10', valve: 'close', ser: 0, di_order: 'hi_lo', preamble: 2 },
      model: (v) => CJT(v, { function: 'write_data', di: '0xA017' }, [{ quantity: 'valve', value: v.valve }]),
      check: cjtAddress,
    },
  ],
  iec62056_21: [
    {
      id: 'iec_sign_on',
      label: 'Sign-on request /?…! (start of every session)',
      fields: { device_address: '', parity: false },
      model: (v) => IEC(v, { message: 'sign_on', device_address: v.device_address }),
      check: (v) => iecText(v.device_address, 'device address', 32),
    },
    {
      id: 'iec_option_select',
      label: 'Acknowledge / option select: mode and baud rate',
      fields: { baud: '9600', iec_mode: 'data_readout', parity: false },
      model: (v) => IEC(v, { message: 'ack_option_select', protocol_char: v.iec_mode === 'binary' ? '2' : '0', baud: Number(v.baud), mode: v.iec_mode }),
    },
    {
      id: 'iec_password',
      label: 'Password (P1) before programming',
      fields: { password: '00000000', parity: false },
      model: (v) => IEC(v, { message: 'command', command: 'P', command_type: '1' }, [{ quantity: 'other', value: v.password }]),
      check: (v) => iecText(v.password, 'password', 32),
    },
    {
      id: 'iec_read',
      label: 'Read a data set (R1)',
      fields: { data_set: '8.0', parity: false },
      model: (v) => IEC(v, { message: 'command', command: 'R', command_type: '1' }, [{ quantity: 'other', address: v.data_set }]),
      check: (v) => (v.data_set ? iecText(v.data_set, 'data set', 16) : 'the data set is needed'),
    },
    {
      id: 'iec_break',
      label: 'Break (B0): end the session',
      fields: { parity: false },
      model: (v) => IEC(v, { message: 'break', command: 'B', command_type: '0' }),
    },
  ],
  // Further protocols: add their requests here; the panel offers every protocol of this map
  // that the loaded core decodes.
};

// ---------------------------------------------------------------------------------------
// Small DOM helpers.

const $ = (id) => document.getElementById(id);

function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = v;
      else if (k === 'style') node.setAttribute('style', v);
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? '' : v);
    }
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : String(c));
  }
  return node;
}

// The big parts (bytes, field table, values, frame list) are built as HTML text: one parse
// is several times faster than thousands of createElement calls, and the view must follow
// typing. Every text goes through esc().
const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
const esc = (v) => String(v).replace(/[&<>"]/g, (c) => ESC[c]);

function fromHtml(html) {
  const t = document.createElement('template');
  t.innerHTML = html;
  return t.content;
}

async function copyText(text, note) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = h('textarea', { style: 'position:fixed;left:-9999px' });
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
  if (note) {
    note.textContent = 'copied';
    setTimeout(() => (note.textContent = ''), 1500);
  }
}

const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const range = (start, end) => (end - start === 1 ? `${start}` : `${start}–${end - 1}`);

// ---------------------------------------------------------------------------------------
// Decoding: the input box → items (frames, failed frames, garbage between frames).

let supported = ['mbus'];

function errorOf(e) {
  if (e instanceof MeterwireError) return { kind: e.kind, offset: e.offset, message: e.message };
  throw e;
}

// The decoding options of the page: the protocol override and, when given, the AES keys,
// the redaction key, the Modbus request and the register profile (each only once the core
// has accepted it).
function options(protocol) {
  const opts = protocol === 'auto' ? {} : { protocol };
  const keys = currentKeys();
  if (keys) opts.keys = keys;
  const redactKey = currentRedactKey();
  if (redactKey) opts.redactKey = redactKey;
  const request = currentRequest();
  if (request) opts.request = request;
  const profile = currentProfile();
  if (profile) opts.modbusProfile = profile;
  // MQTT: a PUBLISH does not say its version; 5.0 reads the properties.
  if ($('mqtt-version')?.value === '5.0') opts.mqttVersion = '5.0';
  // CoAP / MQTT: the payload cipher scheme, opened with the key field's keys.
  if ($('payload-cipher')?.value) opts.payloadCipher = $('payload-cipher').value;
  return opts;
}

// One frame per line, all lines in one session (a core Decoder): a compact wM-Bus frame
// decodes with the format of a full frame on an earlier line. Two sessions see the same
// lines in the same order: one explains (spans), one gives the core's JSON text.
function readLines(lines, protocol) {
  const opts = options(protocol);
  let explained;
  let plain;
  try {
    explained = new Decoder({ ...opts, explain: true });
    plain = new Decoder(opts);
  } catch (e) {
    const error = errorOf(e);
    return lines.map(({ line, text }) => ({ source: `line ${line}`, line, text, bytes: parseHex(text).bytes ?? null, error }));
  }
  try {
    return lines.map(({ line, text }) => {
      const parsed = parseHex(text);
      const item = { source: `line ${line}`, line, text, bytes: parsed.bytes ?? null };
      try {
        return { ...item, decoded: explained.decode(text), json: plain.decodeJson(text) };
      } catch (e) {
        return { ...item, error: errorOf(e) };
      }
    });
  } finally {
    explained.free();
    plain.free();
  }
}

// A capture cut by the core's stream decoder; the JSON text of each frame comes from a
// session fed the frames in the same order (compact wM-Bus frames after their full frame).
function readStream(lines, protocol) {
  const joined = lines.map((l) => l.text).join(' ');
  const parsed = parseHex(joined);
  if (!parsed.bytes) return null;
  const bytes = parsed.bytes;
  const opts = options(protocol);
  let stream;
  let plain;
  try {
    stream = decodeStream(bytes, { ...opts, explain: true });
    plain = new Decoder(opts);
  } catch (e) {
    return [{ source: 'capture', bytes, error: errorOf(e) }];
  }
  try {
    return stream.map((it) => {
      const slice = bytes.subarray(it.start, it.end);
      const source = `bytes ${range(it.start, it.end)}`;
      if (it.garbage !== undefined) {
        return { source, start: it.start, bytes: slice, garbage: true, reason: it.reason, protocol: it.protocol, kind: it.kind };
      }
      if (it.error) {
        try {
          plain.decode(slice);
        } catch {
          // The same error; the session only needs to have seen the frame.
        }
        return { source, start: it.start, bytes: slice, error: { ...it.error, offset: it.error.offset - it.start, streamOffset: it.error.offset } };
      }
      return { source, start: it.start, bytes: slice, decoded: it.frame, json: plain.decodeJson(slice) };
    });
  } finally {
    plain.free();
  }
}

const okCount = (items) => items.filter((it) => it.decoded).length;

/** Reads the box one frame per line, as a capture, or (auto) whichever decodes more frames. */
function readInput(text, protocol, mode) {
  const lines = splitLines(text);
  if (lines.length === 0) return { mode: 'lines', items: [] };
  if (mode === 'stream') return { mode: 'stream', items: readStream(lines, protocol) ?? readLines(lines, protocol) };
  const items = readLines(lines, protocol);
  if (mode === 'auto' && items.some((it) => it.error && ['length', 'truncated', 'start', 'unknown_protocol'].includes(it.error.kind))) {
    const stream = readStream(lines, protocol);
    if (stream && okCount(stream) > okCount(items)) return { mode: 'stream', items: stream };
  }
  return { mode: 'lines', items };
}

// ---------------------------------------------------------------------------------------
// Secret fields: the AES keys (wM-Bus; CoAP/MQTT payloads) and the redaction key (the core's
// `redact` option, 16 bytes or more as hex). Each value is checked once by a probe decode
// with only that option; one the core refuses is not used and its error is shown under the
// field. Held in this module's memory only (never in the URL, storage, or any log).

function secretField(input, error, option) {
  const check = { text: null, ok: false, message: '' };
  return {
    current() {
      const text = $(input).value.trim();
      if (!text) return undefined;
      if (check.text !== text) {
        check.text = text;
        try {
          decode('E5', { [option]: text });
          check.ok = true;
          check.message = '';
        } catch (e) {
          check.ok = false;
          check.message = e instanceof MeterwireError ? `${e.kind}: ${e.message}` : e.message;
        }
      }
      return check.ok ? text : undefined;
    },
    showState() {
      const text = $(input).value.trim();
      $(error).textContent = text && !check.ok ? `not used: ${check.message}` : '';
    },
  };
}

let keysSupported = false;
const keyField = secretField('key', 'key-error', 'keys');
const redactField = secretField('redact-key', 'redact-error', 'redactKey');

const currentKeys = () => (keysSupported ? keyField.current() : undefined);
const currentRedactKey = () => redactField.current();

function showKeyState() {
  if (keysSupported) keyField.showState();
  redactField.showState();
}

// ---------------------------------------------------------------------------------------
// Modbus: the request a read response answers (its registers' addresses) and a register
// profile (profiles/*.json, bundled, or pasted JSON) that turns registers into values. Each
// text is checked once by the core (a probe decode with only that option); one the core
// refuses is not used, and its error (kind and message, e.g. `malformed: modbus profile
// registers[2]: …`) is shown under its field. Both are kept in the link.

let modbusProtocol = null; // a Modbus protocol of this core, for the probe; null: no Modbus
let bundledProfiles = []; // [{name, file, text, description}] from profiles/index.json
let profileNote = ''; // a link that names a profile this build does not have
const MODBUS_PROBE = '01 03 00 00 00 02 C4 0B';
const PROBE_PROFILE = '{"name": "probe", "registers": [{"quantity": "volume", "address": 0, "type": "u16"}]}';
const requestCheck = { text: null, error: null };
const profileCheck = { text: null, error: null };

function checkOption(check, text, opts) {
  if (check.text !== text) {
    check.text = text;
    check.error = null;
    try {
      decode(MODBUS_PROBE, { protocol: 'modbus_rtu', ...opts });
    } catch (e) {
      check.error = e instanceof MeterwireError ? { kind: e.kind, offset: e.offset, message: e.message } : { kind: 'error', message: String(e.message ?? e) };
    }
  }
  return check.error ? undefined : text;
}

function currentRequest() {
  if (!modbusProtocol) return undefined;
  const text = $('request').value.trim();
  return text ? checkOption(requestCheck, text, { request: text }) : undefined;
}

function profileText() {
  const choice = $('profile').value;
  if (choice === 'custom') return $('profile-json').value.trim();
  return bundledProfiles.find((p) => p.name === choice)?.text ?? '';
}

function currentProfile() {
  if (!modbusProtocol) return undefined;
  const text = profileText();
  return text ? checkOption(profileCheck, text, { modbusProfile: text }) : undefined;
}

function showOptionError(box, error, what) {
  box.hidden = !error;
  if (!error) {
    box.replaceChildren();
    return;
  }
  box.dataset.kind = error.kind;
  const where = error.kind === 'hex' ? ` at character ${error.offset}` : '';
  box.replaceChildren(h('strong', null, `${error.kind} error`), `${where}: ${error.message} `, h('span', { class: 'hint' }, what));
}

function showModbusState(protocol, items) {
  const row = $('modbus-row');
  if (!modbusProtocol) {
    row.hidden = true;
    return;
  }
  const request = $('request').value.trim();
  const profile = $('profile').value;
  // Shown for Modbus only (chosen or decoded), or while one of its fields holds something.
  row.hidden = !(protocol.startsWith('modbus') || items.some((it) => it.decoded?.protocol.startsWith('modbus')) || request || profile || profileNote);
  $('profile-json').hidden = profile !== 'custom';
  showOptionError($('request-error'), request && currentRequest() === undefined ? requestCheck.error : null, '(frames are decoded without it)');
  const perror = profileText() && currentProfile() === undefined ? profileCheck.error : profileNote ? { kind: 'unknown_profile', message: profileNote } : null;
  showOptionError($('profile-error'), perror, '(frames are decoded without a profile)');
}

// The MQTT version and payload cipher choices: shown for CoAP and MQTT (chosen or decoded)
// or once one is set.
function showMqttState(protocol, items) {
  const row = $('mqtt-row');
  if (!row) return;
  const transport = (p) => p === 'mqtt' || p === 'coap';
  row.hidden = !(transport(protocol) || items.some((it) => transport(it.decoded?.protocol)) || $('mqtt-version').value === '5.0' || $('payload-cipher').value);
}

// The bundled profiles (copied into dist/profiles by scripts/build-web-demo.sh).
async function loadProfiles() {
  if (!modbusProtocol) return;
  try {
    const index = await (await fetch('profiles/index.json')).json();
    bundledProfiles = await Promise.all(index.map(async ({ name, file }) => {
      const text = await (await fetch(`profiles/${file}`)).text();
      let description = '';
      try {
        description = JSON.parse(text).description ?? '';
      } catch {
        // shown as the core's error once chosen
      }
      return { name, file, text, description };
    }));
  } catch {
    bundledProfiles = [];
  }
  const custom = $('profile').querySelector('option[value="custom"]');
  for (const p of bundledProfiles) custom.before(h('option', { value: p.name, title: p.description }, p.name));
}

// profiles/examples.jsonl: request/response pairs, each with its profile and expected values.
async function loadProfileExamples() {
  if (!modbusProtocol || !bundledProfiles.length) return [];
  try {
    const text = await (await fetch('profiles/examples.jsonl')).text();
    return text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l))
      .map((e) => ({ ...e, profile: String(e.profile).replace(/\.json$/, '') }))
      .filter((e) => supported.includes(e.protocol) && bundledProfiles.some((p) => p.name === e.profile));
  } catch {
    return [];
  }
}

function setProfile(choice) {
  profileNote = '';
  if (choice && choice !== 'custom' && !bundledProfiles.some((p) => p.name === choice)) {
    profileNote = `the link names the profile “${choice}”, which this page does not have`;
    choice = '';
  }
  $('profile').value = choice;
  $('profile').dataset.last = choice;
}

// ---------------------------------------------------------------------------------------
// State and the update cycle.

const state = { items: [], mode: 'lines', selected: 0 };
const MAX_ROWS = 500;

function update({ fromUser = true, keepSelection = false } = {}) {
  const t0 = performance.now();
  const text = $('frames').value;
  const protocol = $('protocol').value;
  const { mode, items } = readInput(text, protocol, $('read').value);
  state.mode = mode;
  state.items = items;
  // Show the first failed frame, else the first decoded one (not bytes between frames).
  const firstBad = items.findIndex((it) => it.error);
  const firstOk = items.findIndex((it) => it.decoded);
  if (!keepSelection || state.selected >= items.length) state.selected = firstBad >= 0 ? firstBad : Math.max(firstOk, 0);
  render();
  showKeyState();
  showModbusState(protocol, items);
  showMqttState(protocol, items);
  const ms = performance.now() - t0;
  document.documentElement.dataset.updateMs = ms.toFixed(2);
  $('timing').textContent = `decoded and drawn in ${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
  if (fromUser) scheduleFragment();
}

// The link follows the box. history.replaceState costs milliseconds in Chromium, so it runs
// once typing pauses (and at once before the link is copied), not on every key.
let fragmentTimer = 0;
function scheduleFragment() {
  clearTimeout(fragmentTimer);
  fragmentTimer = setTimeout(saveFragment, 150);
}
function saveFragment() {
  clearTimeout(fragmentTimer);
  const text = $('frames').value;
  const profile = $('profile').value;
  const frag = text.length <= 100000
    ? writeFragment({
      frames: text,
      protocol: $('protocol').value,
      read: $('read').value,
      request: $('request').value.trim(),
      profile,
      profileJson: profile === 'custom' ? $('profile-json').value : '',
    })
    : '';
  history.replaceState(null, '', frag || location.pathname + location.search);
  $('link-note').textContent = text.length > 100000 ? 'too long for a link' : '';
}

function render() {
  renderSummary();
  renderFrameList();
  renderDetail();
  renderJson();
}

function renderSummary() {
  const { items, mode } = state;
  const box = $('summary');
  box.replaceChildren();
  const frames = items.filter((it) => !it.garbage);
  const ok = okCount(items);
  const bad = frames.length - ok;
  const garbage = items.length - frames.length;
  if (items.length === 0) {
    box.append(h('p', { class: 'empty' }, 'Paste a frame on the left, or pick a sample.'));
  } else {
    const how = mode === 'stream' ? 'cut from the capture' : frames.length === 1 ? '' : 'one per line';
    box.append(
      h('span', { class: 'count' }, plural(frames.length, 'frame'), how ? ` ${how}` : ''),
      h('span', { class: 'ok' }, `${ok} decoded`),
      ...(bad ? [h('span', { class: 'bad' }, `${bad} failed`)] : []),
      ...(garbage ? [h('span', { class: 'bad' }, `${plural(garbage, 'stretch', 'stretches')} of bytes outside frames`)] : []),
    );
  }
  box.append(h('span', { id: 'timing', class: 'timing' }));
}

// Why the stream decoder left bytes outside frames, in words.
function garbageReason(it) {
  const family = SHORT_NAMES[it.protocol] ?? it.protocol;
  switch (it.reason) {
    case 'invalid_frame':
      return `a broken ${family} frame (${it.kind} does not verify)`;
    case 'truncated':
      return `the start of a ${family} frame cut off by the end of the capture`;
    case 'unsolicited_ack':
      return `a ${family} acknowledgement that follows no request`;
    default:
      return null;
  }
}

function itemTitle(it) {
  if (it.garbage) {
    const why = garbageReason(it);
    return why ? `bytes outside frames: ${why}` : 'bytes outside frames';
  }
  const d = it.decoded;
  if (!d) return `${it.error.kind} error`;
  const l = d.link ?? {};
  // CJ/T 188 says slave_to_master, Modbus response; Modbus names its numbered functions.
  const reply = l.direction === 'slave_to_master' || l.direction === 'response';
  const dir = reply ? (l.exception ? 'exception reply' : 'reply') : l.direction ? 'request' : null;
  if (d.protocol === 'coap' || d.protocol === 'mqtt') {
    const what = d.protocol === 'coap' ? [l.type, l.method ?? l.response ?? l.code, l.uri_path] : [l.packet_type, l.topic];
    const inner = d.payload ? `carrying ${SHORT_NAMES[d.payload.protocol] ?? d.payload.protocol}` : l.payload_format && `(${l.payload_format})`;
    return [SHORT_NAMES[d.protocol], ...what, inner].filter(Boolean).join(' ');
  }
  const name = l.function_name ?? l.function;
  const fn = typeof name === 'string' && /^[a-z_]+$/.test(name) ? humanize(name) : name;
  return [SHORT_NAMES[d.protocol] ?? d.protocol, l.kind, fn, dir].filter(Boolean).join(' ');
}

function renderFrameList() {
  const box = $('frame-list');
  const { items } = state;
  if (items.length < 2) {
    box.replaceChildren();
    return;
  }
  let rows = '';
  items.slice(0, MAX_ROWS).forEach((it, i) => {
    const d = it.decoded;
    let result;
    if (it.garbage) result = `<span class="bad">${plural(it.bytes.length, 'byte')} skipped</span>`;
    else if (d) result = `<span class="ok">${d.records.length ? plural(d.records.length, 'value') : 'ok'}</span>`;
    else result = `<span class="bad">${esc(it.error.kind)} at byte ${it.error.offset}</span>`;
    const cls = [i === state.selected ? 'sel' : '', d ? '' : 'failed'].join(' ').trim();
    rows += `<tr${cls ? ` class="${cls}"` : ''} data-index="${i}" data-testid="frame-row" tabindex="0">`
      + `<td class="num">${i + 1}</td><td>${esc(it.source)}</td><td>${esc(itemTitle(it))}</td>`
      + `<td class="mono">${esc(d?.meter?.id ?? '')}</td><td>${result}</td></tr>`;
  });
  const more = items.length > MAX_ROWS ? `<p class="hint">first ${MAX_ROWS} of ${items.length} shown</p>` : '';
  box.replaceChildren(fromHtml(`<section class="card"><h2 class="card-title">Frames <span class="hint">(click one to explain it)</span></h2>`
    + `<table class="frames"><thead><tr><th>#</th><th>from</th><th>frame</th><th>meter</th><th>result</th></tr></thead><tbody>${rows}</tbody></table>${more}</section>`));
}

function select(i) {
  state.selected = i;
  renderFrameList();
  renderDetail();
  renderJson();
}

// ---------------------------------------------------------------------------------------
// The detail of one frame: identity, values, bytes, field table.

function renderDetail() {
  const box = $('detail');
  box.replaceChildren();
  const it = state.items[state.selected];
  if (!it) return;
  const n = it.bytes ? plural(it.bytes.length, 'byte') : '';
  const head = h('div', { class: 'detail-head' },
    h('h2', null, state.items.length > 1 ? `Frame ${state.selected + 1}: ` : '', itemTitle(it)),
    h('span', { class: 'hint' }, [it.source, n].filter(Boolean).join(' · ')));
  if (it.garbage) {
    box.append(h('section', { class: 'card' }, head,
      h('p', null, 'These bytes are not part of any frame the decoder recognised (noise, a partial frame, or a protocol it does not decode).'),
      byteStrip(it.bytes, null)));
    return;
  }
  if (!it.decoded) {
    box.append(h('section', { class: 'card' }, head, errorView(it)));
    return;
  }
  const d = it.decoded;
  box.append(
    h('section', { class: 'card' }, head, overview(d)),
    recordsCard(d),
    bytesCard(it),
  );
  const nested = payloadTree(d, it.bytes ?? new Uint8Array(), 2);
  if (nested) box.append(nested);
  fillTableSoon();
}

// The field-by-field table (the longest part, mostly below the fold) is filled right after
// the first paint of the new view, so identity, values and bytes follow typing first.
let pendingTable = null;
let tableJob = 0;
let hovered = null;
let inputAt = null;

function fillTableSoon() {
  const job = ++tableJob;
  requestAnimationFrame(() => setTimeout(() => {
    if (job !== tableJob || pendingTable === null) return;
    const body = document.querySelector('#detail [data-testid="fields"] tbody');
    if (body) body.innerHTML = pendingTable;
    pendingTable = null;
    if (hovered?.isConnected) highlight(hovered);
    const root = document.documentElement.dataset;
    root.tableReady = String(job);
    if (inputAt !== null) {
      const t0 = inputAt;
      requestAnimationFrame(() => {
        const ch = new MessageChannel();
        ch.port1.onmessage = () => {
          root.inputToFullMs = (performance.now() - t0).toFixed(2);
          root.fulls = String(Number(root.fulls ?? 0) + 1);
        };
        ch.port2.postMessage(0);
      });
    }
  }, 0));
}

function fmtValue(v) {
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  // Model names (`cold_water`, `slave_to_master`) read as words.
  if (typeof v === 'string' && /^[a-z]+(_[a-z0-9]+)+$/.test(v)) return humanize(v);
  // CoAP options and MQTT properties: `Uri-Path=t, Content-Format=42`.
  if (Array.isArray(v)) return v.map((x) => (x && typeof x === 'object' ? `${x.key ?? x.name ?? x.number ?? x.id}=${x.value}` : String(x))).join(', ');
  if (v && typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

// `medium` + `medium_code` → "water (0x07)"; the same for every `x` with an `x_code`.
function pairs(obj, skip = []) {
  const out = [];
  for (const [k, v] of Object.entries(obj ?? {})) {
    if (skip.includes(k) || (k.endsWith('_code') && k.slice(0, -5) in obj)) continue;
    const code = obj[`${k}_code`];
    out.push([k, code !== undefined ? `${fmtValue(v)} (${code})` : fmtValue(v)]);
  }
  for (const [k, v] of Object.entries(obj ?? {})) {
    if (k.endsWith('_code') && !(k.slice(0, -5) in obj) && !skip.includes(k)) {
      // A wildcard in a selection: the name is omitted, the code kept.
      const name = k.slice(0, -5);
      out.push([name, /^0x(FF)+$/i.test(v) ? `any (${v})` : v]);
    }
  }
  return out;
}

// Rows named in `keys` first (in that order), then the others in model order.
const first = (rows, keys) => [...keys.flatMap((k) => rows.filter(([r]) => r === k)), ...rows.filter(([r]) => !keys.includes(r))];

const LABELS = { id: 'meter ID', a: 'address', c: 'C field', ci: 'CI field', access_no: 'access no.', fcb: 'FCB', fcv: 'FCV', acd: 'ACD', dfc: 'DFC', tpl: 'header' };
const label = (k) => LABELS[k] ?? humanize(k);

function overview(d) {
  const link = d.link ?? {};
  const meaning = meaningOf(d);
  const dl = (title, rows, testid) =>
    h('div', { class: 'kv', 'data-testid': testid },
      h('h3', null, title),
      h('dl', { class: rows.length > 7 ? 'two' : null }, rows.map(([k, v]) => [h('dt', null, label(k)), h('dd', { 'data-key': k }, v)])));
  const meterRows = d.meter ? pairs(d.meter, ['status']) : [];
  if (d.status) {
    const raw = `0x${hexByte(d.status.raw & 0xff)}`;
    meterRows.push(['status', d.status.flags.length ? `${d.status.flags.map(humanize).join(', ')} (${raw})` : `ok, no error flags (${raw})`]);
  } else if (d.meter?.status !== undefined) {
    meterRows.push(['status', fmtValue(d.meter.status)]);
  }
  const extra = [];
  if (d.application_error) extra.push(['application error', `${d.application_error.name} (${d.application_error.code})`]);
  if (d.alarm !== undefined) extra.push(['alarm', fmtValue(d.alarm)]);
  if (d.encrypted) extra.push(['encrypted', keysSupported ? 'yes: enter the AES key (left) to decrypt' : 'yes: payload not decrypted']);
  if (d.manufacturer_data) extra.push(['manufacturer data', d.manufacturer_data]);
  if (d.more_records_follow) extra.push(['more records follow', 'yes: request again']);
  return h('div', null,
    meaning ? h('p', { class: 'meaning' }, meaning) : null,
    headline(d),
    h('div', { class: 'cards2' },
      dl(`Meter`, meterRows.length ? meterRows : [['identity', 'not in this frame']], 'meter'),
      dl(`Link (${PROTOCOL_NAMES[d.protocol] ?? d.protocol})`, first(pairs(link), ['function', 'a', 'address', 'kind']), 'link'),
      extra.length ? dl('Also in this frame', extra, 'other') : null),
    d.warnings?.length ? h('ul', { class: 'warnings' }, d.warnings.map((w) => h('li', null, `warning: ${w}`))) : null);
}

// One line a person reads first: who, and the main value.
function headline(d) {
  const m = d.meter ?? {};
  const who = [m.id, m.manufacturer, m.medium && humanize(m.medium)].filter(Boolean).join(' · ');
  const main = d.records.find((r) => r.value !== undefined && r.quantity !== 'other' && r.quantity !== 'manufacturer_specific');
  if (!who && !main) return null;
  const what = main ? `${humanize(main.quantity)} ${main.exact ?? fmtValue(main.value)}${main.unit ? ` ${main.unit}` : ''}` : '';
  const more = main && d.records.length > 1 ? ` and ${plural(d.records.length - 1, 'more value')}` : '';
  return h('p', { class: 'headline', 'data-testid': 'headline' },
    who ? h('span', { class: 'who' }, `meter ${who}`) : null,
    who && what ? ': ' : '',
    what ? h('strong', null, what) : null,
    more);
}

// What a record's `address` is in each protocol (design §2).
const ADDRESS_NAME = { cjt188: 'DI', modbus_rtu: 'register', modbus_tcp: 'register', iec62056_21: 'data set' };

const STORAGE = (s) => (s === 0 ? 'current' : 'stored');

function recordsCard(d) {
  if (!d.records.length) {
    return fromHtml('<section class="card"><h2 class="card-title">Values</h2><p class="hint">This frame carries no values (a request, an acknowledgement or a command).</p></section>');
  }
  let rows = '';
  d.records.forEach((r, i) => {
    const notes = [];
    if (r.subunit) notes.push(`subunit ${r.subunit}`);
    if (r.label) notes.push(humanize(r.label));
    for (const m of r.modifiers ?? []) notes.push(humanize(m));
    if (r.invalid) notes.push('invalid');
    if (r.dst) notes.push('summer time');
    if (r.record_error) notes.push(`error: ${humanize(r.record_error)}`);
    if (r.action) notes.push(`action: ${humanize(r.action)}`);
    if (r.address !== undefined) notes.push(`${ADDRESS_NAME[d.protocol] ?? 'address'} ${r.address}`);
    const value = r.exact ?? (r.value !== undefined ? fmtValue(r.value) : r.invalid ? 'invalid' : '');
    const storage = r.storage === undefined ? '' : `${r.storage}<small> ${STORAGE(r.storage)}</small>`;
    rows += `<tr data-r="${i}" data-testid="record-row" tabindex="0" style="--h:${hue(i)}">`
      + `<td class="num"><span class="swatch"></span>${i}</td>`
      + `<td class="quantity" title="${esc(r.quantity)}">${esc(humanize(r.quantity))}</td>`
      + `<td class="value">${esc(value)}</td>`
      + `<td class="unit">${esc(r.unit ?? r.unit_text ?? '')}</td>`
      + `<td class="storage">${storage}</td>`
      + `<td class="tariff">${esc(r.tariff ?? '')}</td>`
      + `<td class="function">${esc(r.function ?? '')}</td>`
      + `<td class="notes">${esc(notes.join('; '))}</td></tr>`;
  });
  return fromHtml('<section class="card"><h2 class="card-title">Values</h2><table class="records" data-testid="records"><thead><tr>'
    + '<th>#</th><th>quantity</th><th>value</th><th>unit</th><th title="0 = the current value; k = the k-th stored value (e.g. at the last billing date)">storage</th><th>tariff</th><th>function</th><th>notes</th>'
    + `</tr></thead><tbody>${rows}</tbody></table></section>`);
}

// Record colours cycle through hues that stay apart from the link (blue) and meter (green).
const HUES = [38, 280, 335, 190, 12, 80, 305, 165];
const hue = (i) => HUES[i % HUES.length];

function bytesCard(it) {
  const d = it.decoded;
  const spans = d.spans ?? [];
  const bytes = it.bytes ?? new Uint8Array();
  let map = '';
  let table = '';
  let lastHeading = null;
  spans.forEach((s, k) => {
    const { group, record } = spanGroup(s.path);
    const part = record !== null && s.path.includes('.') ? s.path.split('.').pop() : '';
    const name = (record !== null ? `#${record} ` : '') + fieldName(s.path, s.label);
    const attrs = `data-s="${k}"${record !== null ? ` data-r="${record}" style="--h:${hue(record)}"` : ''} data-path="${esc(s.path)}"`;
    const cls = `g-${group}${part ? ` p-${part}` : ''}`;
    const hex = toHex(bytes.subarray(s.start, s.end));
    let cells = '';
    for (let i = s.start; i < s.end; i += 1) cells += `<span class="byte" data-i="${i}">${i < bytes.length ? hexByte(bytes[i]) : '··'}</span>`;
    map += `<div class="field ${cls}" ${attrs} title="bytes ${range(s.start, s.end)} · ${esc(s.path)}&#10;${esc(s.label)}">`
      + `<div class="fname">${esc(name)}</div><div class="fbytes">${cells}</div><div class="flabel">${esc(caption(s.label, hex))}</div></div>`;
    const heading =
      group === 'envelope' ? (/crc$/.test(s.path) ? 'Check bytes (CRC)' : /checksum|stop/.test(s.path) ? 'Frame end' : 'Frame start')
        : group === 'link' ? 'Link: addresses and control'
          : group === 'meter' ? 'Meter header: who is sending'
            : group === 'record' ? `Value #${record}: ${humanize(d.records[record]?.quantity ?? '')}`
              : `${humanize(s.path.split(/[.[]/)[0]).replace(/^./, (c) => c.toUpperCase())}`;
    if (heading !== lastHeading) {
      table += `<tr class="heading ${cls}"${record !== null ? ` style="--h:${hue(record)}"` : ''}><th colspan="4">${esc(heading)}</th></tr>`;
      lastHeading = heading;
    }
    table += `<tr class="${cls}" ${attrs} tabindex="0"><td class="num">${range(s.start, s.end)}</td><td class="mono hex">${hex}</td>`
      + `<td>${esc(fieldName(s.path, s.label))}<div class="path">${esc(s.path)}</div></td><td>${esc(s.label)}</td></tr>`;
  });
  pendingTable = table;
  // Redaction drops the spans with the raw bytes (they would show the ids it hides).
  if (!spans.length && currentRedactKey()) {
    return fromHtml('<section class="card"><h2 class="card-title">Bytes</h2>'
      + '<p class="hint" data-testid="bytes-redacted">Not shown while the redaction key is set: redaction drops'
      + ' the frame\'s bytes and their fields with the ids they carry. Clear the key to see them.</p></section>');
  }
  return fromHtml('<section class="card"><h2 class="card-title">Bytes</h2>'
    + '<p class="hint">Every byte belongs to one field; the words under the bytes say what it means.</p>'
    + '<p class="legend"><span class="chip g-envelope">frame start, length, checksum, stop</span>'
    + '<span class="chip g-link">link: control, address, content</span>'
    + '<span class="chip g-meter">header: who is sending</span>'
    + `<span class="chip g-record" style="--h:${hue(0)}">one colour per value: DIF = data type, VIF = quantity and unit, then the data</span></p>`
    + '<div class="hover-info" id="hover-info" data-testid="hover-info">Point at a byte, a field or a table row: the matching bytes, field and value light up.</div>'
    + `<div class="field-map" data-testid="byte-map">${map}</div>`
    + '<details class="explain" open><summary>Field by field (as <code>meterwire explain</code> prints it)</summary>'
    + '<table class="fields" data-testid="fields"><thead><tr><th>bytes</th><th>hex</th><th>field</th><th>meaning</th></tr></thead>'
    + '<tbody></tbody></table></details></section>');
}

// A frame carried inside another (CoAP, MQTT): one card per level, nested like a tree, each
// with its identity, values and its own bytes annotated by its own spans (offsets in the
// whole input, so the byte numbers are those of the outer frame).
function payloadTree(d, bytes, level) {
  const p = d.payload;
  if (!p) return null;
  const spans = p.spans ?? [];
  const from = spans.length ? spans[0].start : 0;
  const to = spans.length ? spans[spans.length - 1].end : 0;
  let map = '';
  spans.forEach((s) => {
    const { group, record } = spanGroup(s.path);
    const name = (record !== null ? `#${record} ` : '') + fieldName(s.path, s.label);
    const hex = toHex(bytes.subarray(s.start, s.end));
    let cells = '';
    for (let i = s.start; i < s.end; i += 1) cells += `<span class="byte">${i < bytes.length ? hexByte(bytes[i]) : '··'}</span>`;
    map += `<div class="field g-${group}"${record !== null ? ` style="--h:${hue(record)}"` : ''} data-path="${esc(s.path)}" title="bytes ${range(s.start, s.end)} · payload.${esc(s.path)}&#10;${esc(s.label)}">`
      + `<div class="fname">${esc(name)}</div><div class="fbytes">${cells}</div><div class="flabel">${esc(caption(s.label, hex))}</div></div>`;
  });
  const bytesPart = spans.length
    ? fromHtml(`<div><h3>Bytes of this level</h3><div class="field-map" data-testid="payload-byte-map">${map}</div></div>`)
    : h('p', { class: 'hint' }, 'This level\'s bytes are not bytes of the input (decrypted, or decoded from base64 text): its values are above.');
  return h('section', { class: 'card nested', 'data-testid': 'payload-level', 'data-level': level, 'data-protocol': p.protocol },
    h('div', { class: 'detail-head' },
      h('h2', null, `Payload, level ${level}: ${PROTOCOL_NAMES[p.protocol] ?? p.protocol}`),
      h('span', { class: 'hint' }, spans.length ? `bytes ${range(from, to)} of the input` : '')),
    overview(p),
    recordsCard(p),
    bytesPart,
    payloadTree(p, bytes, level + 1));
}

// A failed frame: its bytes with the offending one marked and the message next to it.
function errorView(it) {
  const e = it.error;
  const hint = ERROR_HINTS[e.kind] ?? '';
  const where = e.streamOffset !== undefined ? ` (byte ${e.streamOffset} of the capture)` : '';
  const note = h('div', { class: 'err-note', role: 'alert', 'data-testid': 'error', 'data-kind': e.kind, 'data-offset': e.offset },
    h('strong', null, `${e.kind} error`), ` at ${e.kind === 'hex' ? 'character' : 'byte'} ${e.offset}${where}: `, e.message);
  const parts = [];
  if (e.kind === 'hex' || e.kind === 'empty' || !it.bytes) {
    // The text itself is wrong: mark the character.
    const text = it.text ?? '';
    const at = Math.min(e.offset, Math.max(text.length - 1, 0));
    parts.push(h('div', { class: 'textline mono' },
      text.slice(0, at), h('mark', { class: 'err', 'data-testid': 'error-byte' }, text.slice(at, at + 1) || ' '), note, text.slice(at + 1)));
  } else {
    parts.push(byteStrip(it.bytes, e.offset, note));
  }
  parts.push(h('p', { class: 'hint' }, hint, ' The marked byte is where the decoder found the problem.'));
  return h('div', { class: 'error-view' }, parts);
}

function byteStrip(bytes, errAt, note) {
  const strip = h('div', { class: 'strip mono', 'data-testid': 'byte-map' });
  for (let i = 0; i < bytes.length; i += 1) {
    const bad = i === errAt;
    strip.append(h('span', { class: bad ? 'byte err' : 'byte', 'data-i': i, 'data-testid': bad ? 'error-byte' : undefined, title: `byte ${i}` }, hexByte(bytes[i])));
    if (bad && note) strip.append(note);
  }
  if (errAt !== null && errAt >= bytes.length) {
    strip.append(h('span', { class: 'byte err missing', 'data-i': errAt, 'data-testid': 'error-byte', title: `byte ${errAt}: missing` }, '··'));
    if (note) strip.append(note);
  }
  return strip;
}

// Hover (and keyboard focus) links bytes, fields, field rows and value rows.
function highlight(target) {
  hovered = target;
  const root = $('detail');
  for (const n of root.querySelectorAll('.hl')) n.classList.remove('hl');
  const info = $('hover-info');
  const it = state.items[state.selected];
  if (!target || !it?.decoded) return;
  const spans = it.decoded.spans ?? [];
  let ks = [];
  let rec = null;
  if (target.dataset.s !== undefined) {
    ks = [Number(target.dataset.s)];
    rec = target.dataset.r !== undefined ? Number(target.dataset.r) : null;
  } else if (target.dataset.r !== undefined) {
    rec = Number(target.dataset.r);
    ks = spans.map((s, k) => (spanGroup(s.path).record === rec ? k : -1)).filter((k) => k >= 0);
  }
  for (const k of ks) {
    for (const n of root.querySelectorAll(`[data-s="${k}"]`)) {
      n.classList.add('hl');
      for (const b of n.querySelectorAll('.byte')) b.classList.add('hl');
    }
  }
  if (rec !== null) for (const n of root.querySelectorAll(`tr[data-r="${rec}"]:not([data-s])`)) n.classList.add('hl');
  if (info && ks.length) {
    const first = spans[ks[0]];
    const last = spans[ks[ks.length - 1]];
    const r = rec !== null ? it.decoded.records[rec] : null;
    // A record's data bytes mean something only with its DIF (data type) and VIF (quantity).
    const how = [];
    if (rec !== null) {
      for (const part of ['dif', 'vif']) {
        const sp = spans.find((x) => x.path === `records[${rec}].raw.${part}`);
        if (sp) how.push(`${part.toUpperCase()} ${toHex(it.bytes.subarray(sp.start, sp.end))}: ${caption(sp.label, toHex(it.bytes.subarray(sp.start, sp.end)))}`);
      }
    }
    const parts = [
      h('strong', null, `bytes ${range(first.start, last.end)}`),
      ' · ',
      ks.length === 1 ? first.label : `${humanize(r?.quantity ?? '')} = ${r?.exact ?? fmtValue(r?.value ?? '')} ${r?.unit ?? ''}`,
      h('span', { class: 'path' }, ks.length === 1 ? first.path : `records[${rec}]`),
    ];
    if (how.length && (ks.length > 1 || first.path.endsWith('.value'))) parts.push(h('div', { class: 'how' }, `read with ${how.join(' · ')}`));
    info.replaceChildren(...parts);
  }
}

function hoverTarget(node) {
  const t = node instanceof Element ? node.closest('[data-s], tr[data-r]') : null;
  return t && $('detail').contains(t) ? t : null;
}

// ---------------------------------------------------------------------------------------
// JSON: one line per frame, exactly the core's text.

function renderJson() {
  const card = $('json-card');
  const frames = state.items.map((it, i) => [it, i]).filter(([it]) => !it.garbage);
  card.hidden = frames.length === 0;
  const pretty = $('pretty').checked;
  let hook = false;
  let html = '';
  for (const [it, i] of frames.slice(0, MAX_ROWS)) {
    const text = it.decoded ? it.json : errorJson(it.error);
    let attrs = `class="json-line${i === state.selected ? ' sel' : ''}${it.decoded ? '' : ' failed'}" data-index="${i}"`;
    if (it.decoded && !hook) {
      attrs += ' data-testid="decoded-json"';
      hook = true;
    }
    html += `<pre ${attrs}>${esc(pretty ? JSON.stringify(JSON.parse(text), null, 2) : text)}</pre>`;
  }
  if (!hook) html += '<pre data-testid="decoded-json" hidden></pre>';
  $('json-lines').innerHTML = html;
}

// The CLI's error line (design §3), with the offset in the input it was given.
const errorJson = (e) => JSON.stringify({ error: { kind: e.kind, offset: e.streamOffset ?? e.offset, message: e.message } });

function jsonText() {
  return state.items.filter((it) => !it.garbage).map((it) => (it.decoded ? it.json : errorJson(it.error))).join('\n');
}

// ---------------------------------------------------------------------------------------
// Samples and the encode panel.

async function loadSamples() {
  const box = $('samples');
  box.replaceChildren();
  let index = [];
  try {
    index = await (await fetch('samples/index.json')).json();
  } catch {
    box.append(h('p', { class: 'hint' }, 'no samples in this build'));
    return [];
  }
  const all = [];
  const order = Object.keys(PROTOCOL_NAMES);
  index.sort((a, b) => order.indexOf(a.protocol) - order.indexOf(b.protocol));
  for (const { protocol, file } of index) {
    if (!supported.includes(protocol)) continue;
    const text = await (await fetch(`samples/${file}`)).text();
    const samples = parseSamples(text);
    all.push(...samples.map((s) => ({ ...s, protocol })));
    box.append(h('div', { class: 'sample-group' },
      h('h3', null, PROTOCOL_NAMES[protocol] ?? protocol,
        h('button', { type: 'button', class: 'link', title: `all ${samples.length} frames of samples/${file}`, onclick: () => load(text, protocol) }, `all ${samples.length}`)),
      h('div', { class: 'sample-buttons' }, samples.map((s) =>
        h('button', { type: 'button', class: 'sample', 'data-testid': 'sample', 'data-protocol': protocol, 'data-name': s.name, title: `${s.description}\n${s.hex}`, onclick: () => load(s.hex, protocol) }, s.name)))));
  }
  // Modbus read responses with their request and register profile (profiles/examples.jsonl).
  const examples = await loadProfileExamples();
  if (examples.length) {
    box.append(h('div', { class: 'sample-group' },
      h('h3', null, 'Modbus with a register profile'),
      h('div', { class: 'sample-buttons' }, examples.map((e) =>
        h('button', {
          type: 'button',
          class: 'sample',
          'data-testid': 'sample',
          'data-protocol': e.protocol,
          'data-name': e.name,
          'data-request': e.request,
          'data-profile': e.profile,
          title: `a read response with its request, read through the example profile ${e.profile}\nrequest ${e.request}\nresponse ${e.response}`,
          onclick: () => load(e.response, e.protocol, { request: e.request, profile: e.profile }),
        }, e.name)))));
  }
  return all;
}

// A sample group's frames decode as the group's protocol (samples/<protocol>.hex): Modbus RTU
// has no signature to detect. A sample is a whole view: its Modbus request and profile (or
// none) replace the page's (a pasted profile stays in its box for later).
function load(text, protocol = 'auto', { request = '', profile = '' } = {}) {
  $('frames').value = text;
  $('protocol').value = supported.includes(protocol) ? protocol : 'auto';
  $('read').value = 'auto';
  $('request').value = request;
  setProfile(profile);
  update();
  $('frames').focus();
}

const encodeState = { protocol: null, request: null, values: {}, addressTouched: false };

function renderEncodeForm() {
  const form = $('encode-form');
  form.replaceChildren();
  const protocols = Object.keys(REQUESTS).filter((p) => supported.includes(p));
  if (!protocols.length) {
    form.append(h('p', { class: 'hint' }, 'No request builders for the protocols of this build.'));
    return;
  }
  encodeState.protocol ??= protocols[0];
  const list = REQUESTS[encodeState.protocol];
  const req = list.find((r) => r.id === encodeState.request) ?? list[0];
  encodeState.request = req.id;
  const row = (...c) => h('div', { class: 'field-row' }, ...c);
  if (protocols.length > 1) {
    form.append(row(h('label', null, 'Protocol ',
      h('select', { 'data-testid': 'encode-protocol', onchange: (e) => { encodeState.protocol = e.target.value; encodeState.request = null; encodeState.values = {}; renderEncodeForm(); } },
        protocols.map((p) => h('option', { value: p, selected: p === encodeState.protocol }, PROTOCOL_NAMES[p]))))));
  }
  form.append(row(h('label', null, 'Request ',
    h('select', { 'data-testid': 'encode-request', onchange: (e) => { encodeState.request = e.target.value; resetValues(); renderEncodeForm(); } },
      list.map((r) => h('option', { value: r.id, selected: r.id === req.id }, r.label))))));
  if (!Object.keys(encodeState.values).length) resetValues();
  for (const key of Object.keys(req.fields)) {
    const f = FIELDS[key];
    const v = encodeState.values[key];
    const onInput = (e) => {
      const t = e.target;
      encodeState.values[key] = f.kind === 'bool' ? t.checked : f.kind === 'int' ? (t.value === '' ? null : Number(t.value)) : t.value;
      if (key === 'address') encodeState.addressTouched = true;
      showEncoded();
    };
    let input;
    if (f.kind === 'bool') input = h('input', { type: 'checkbox', checked: v, 'data-testid': `encode-${key}`, oninput: onInput });
    else if (f.kind === 'select') input = h('select', { 'data-testid': `encode-${key}`, oninput: onInput }, f.options.map(([val, text]) => h('option', { value: val, selected: val === v }, text)));
    else input = h('input', { type: f.kind === 'int' ? 'number' : 'text', min: f.min, max: f.max, value: v ?? '', 'data-testid': `encode-${key}`, oninput: onInput, size: 10 });
    form.append(row(f.kind === 'bool' ? h('label', { class: 'inline' }, input, ' ', f.label) : h('label', null, f.label, ' ', input), f.help ? h('div', { class: 'hint' }, f.help) : null));
  }
  form.append(
    h('div', { class: 'encoded' },
      h('div', { class: 'hint' }, 'Bytes to send'),
      h('output', { id: 'encoded', class: 'mono', 'data-testid': 'encoded-hex' }),
      h('div', { id: 'encode-error', class: 'err-text', role: 'status' }),
      h('div', { class: 'controls' },
        h('button', { type: 'button', id: 'encode-decode', 'data-testid': 'encode-decode', onclick: () => { const t = $('encoded').textContent; if (t) { load(t); $('summary').scrollIntoView({ block: 'nearest' }); } } }, 'Decode these bytes'),
        h('button', { type: 'button', onclick: () => copyText($('encoded').textContent, $('encode-note')) }, 'Copy'),
        h('span', { id: 'encode-note', class: 'note', role: 'status' }))),
    h('details', { class: 'model' }, h('summary', null, 'the model given to encode()'), h('pre', { id: 'encode-model' })));
  showEncoded();
}

function resetValues() {
  const list = REQUESTS[encodeState.protocol];
  const req = list.find((r) => r.id === encodeState.request) ?? list[0];
  const keep = encodeState.values.address;
  encodeState.values = { ...req.fields };
  // An address the user typed stays when switching requests; otherwise each request's default.
  if ('address' in req.fields && encodeState.addressTouched && Number.isInteger(keep)) encodeState.values.address = keep;
}

function showEncoded() {
  const req = REQUESTS[encodeState.protocol].find((r) => r.id === encodeState.request);
  const v = encodeState.values;
  let problem = req.check?.(v) ?? null;
  for (const key of Object.keys(req.fields)) {
    const f = FIELDS[key];
    if (f.kind !== 'int') continue;
    const x = v[key];
    if (x === null && f.optional) continue;
    if (!Number.isInteger(x) || x < f.min || x > f.max) problem ??= `${f.label.toLowerCase()} must be a whole number ${f.min}–${f.max}`;
  }
  const out = $('encoded');
  const err = $('encode-error');
  out.textContent = '';
  err.textContent = '';
  $('encode-decode').disabled = true;
  if (problem) {
    err.textContent = problem;
    $('encode-model').textContent = '';
    return;
  }
  const model = req.model(v);
  $('encode-model').textContent = JSON.stringify(model, null, 2);
  try {
    out.textContent = toHex(encode(model));
    $('encode-decode').disabled = false;
  } catch (e) {
    err.textContent = e instanceof MeterwireError ? `${e.kind}: ${e.message}` : String(e);
  }
}

// ---------------------------------------------------------------------------------------
// Start-up.

function probeProtocols() {
  return Object.keys(PROTOCOL_NAMES).filter((p) => {
    try {
      decode('00', { protocol: p });
      return true;
    } catch (e) {
      return !(e instanceof MeterwireError && (e.kind === 'unsupported' || e.kind === 'unknown_protocol'));
    }
  });
}

// Does this core take AES keys in its options? (A build without them refuses the option.)
function probeKeys() {
  try {
    decode('E5', { keys: '000102030405060708090A0B0C0D0E0F' });
    return true;
  } catch {
    return false;
  }
}

function applyFragment() {
  const f = readFragment(location.hash);
  $('frames').value = f.frames;
  $('protocol').value = supported.includes(f.protocol) ? f.protocol : 'auto';
  $('read').value = ['lines', 'stream'].includes(f.read) ? f.read : 'auto';
  $('request').value = f.request;
  if (f.profile === 'custom') $('profile-json').value = f.profileJson;
  setProfile(f.profile);
}

// Does this core take a Modbus request and register profile? (It refuses options it lacks.)
function probeModbus() {
  if (!supported.includes('modbus_rtu')) return null;
  try {
    decode(MODBUS_PROBE, { protocol: 'modbus_rtu', request: MODBUS_PROBE, modbusProfile: PROBE_PROFILE });
    return 'modbus_rtu';
  } catch {
    return null;
  }
}

async function main() {
  try {
    await init();
  } catch (e) {
    $('engine').textContent = `could not load the decoder: ${e.message}`;
    $('engine').classList.add('bad');
    return;
  }
  supported = probeProtocols();
  keysSupported = supported.includes('wmbus') && probeKeys();
  $('key-row').hidden = !keysSupported;
  modbusProtocol = probeModbus();
  $('engine').textContent = `decodes ${supported.map((p) => SHORT_NAMES[p]).join(', ')} · WebAssembly, offline`;
  for (const p of supported) $('protocol').append(h('option', { value: p }, PROTOCOL_NAMES[p]));

  const frames = $('frames');
  let paints = 0;
  frames.addEventListener('input', (e) => {
    update();
    // Time from the input event to the first frame rendered after the update: a message
    // posted from requestAnimationFrame runs once that frame's style, layout and paint are
    // done. Shown to the test (and anyone curious) as data attributes on <html>.
    const t0 = e.timeStamp;
    inputAt = t0;
    requestAnimationFrame(() => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => {
        const root = document.documentElement.dataset;
        root.inputToPaintMs = (performance.now() - t0).toFixed(2);
        root.paints = String((paints += 1));
      };
      ch.port2.postMessage(0);
    });
  });
  $('protocol').addEventListener('change', () => update());
  // The key changes the view but never the link: update without touching the fragment.
  $('key').addEventListener('input', () => update({ fromUser: false, keepSelection: true }));
  $('key-show').addEventListener('change', (e) => $('key').classList.toggle('masked', !e.target.checked));
  // So does the redaction key.
  $('redact-key').addEventListener('input', () => update({ fromUser: false, keepSelection: true }));
  $('redact-show').addEventListener('change', (e) => $('redact-key').classList.toggle('masked', !e.target.checked));
  $('read').addEventListener('change', () => update());
  // The Modbus options are part of the view and of the link.
  $('request').addEventListener('input', () => update({ keepSelection: true }));
  $('mqtt-version').addEventListener('change', () => update({ keepSelection: true }));
  $('payload-cipher').addEventListener('change', () => update({ keepSelection: true }));
  $('profile').addEventListener('change', () => {
    profileNote = '';
    // "custom…" starts from the profile chosen before, to edit it.
    const before = bundledProfiles.find((p) => p.name === $('profile').dataset.last);
    if ($('profile').value === 'custom' && !$('profile-json').value.trim() && before) $('profile-json').value = before.text;
    $('profile').dataset.last = $('profile').value;
    update({ keepSelection: true });
  });
  $('profile-json').addEventListener('input', () => update({ keepSelection: true }));
  $('pretty').addEventListener('change', () => renderJson());
  $('json-lines').addEventListener('click', (e) => {
    const line = e.target.closest('pre[data-index]');
    if (line && Number(line.dataset.index) !== state.selected && !getSelection().toString()) select(Number(line.dataset.index));
  });
  $('clear').addEventListener('click', () => load(''));
  $('copy-link').addEventListener('click', () => {
    saveFragment();
    copyText(location.href, $('link-note'));
  });
  const list = $('frame-list');
  list.addEventListener('click', (e) => {
    const row = e.target.closest('tr[data-index]');
    if (row) select(Number(row.dataset.index));
  });
  list.addEventListener('keydown', (e) => {
    const row = e.target.closest('tr[data-index]');
    if (row && (e.key === 'Enter' || e.key === ' ')) {
      e.preventDefault();
      select(Number(row.dataset.index));
    }
  });
  $('copy-json').addEventListener('click', () => copyText(jsonText(), $('json-note')));
  window.addEventListener('hashchange', () => {
    applyFragment();
    update({ fromUser: false });
  });
  const detail = $('detail');
  detail.addEventListener('mouseover', (e) => highlight(hoverTarget(e.target)));
  detail.addEventListener('mouseleave', () => highlight(null));
  detail.addEventListener('focusin', (e) => highlight(hoverTarget(e.target)));

  renderEncodeForm();
  await loadProfiles();
  applyFragment();
  const samples = await loadSamples();
  if (!frames.value) {
    // First visit: show a meter's answer rather than an empty page (the URL stays clean).
    const first = samples.find((s) => /^rsp-ud/.test(s.name)) ?? samples[0];
    if (first) frames.value = first.hex;
  }
  update({ fromUser: false });
  document.documentElement.dataset.ready = 'true';
}

main();
