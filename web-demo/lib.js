// Pure helpers of the web demo: no DOM, no WebAssembly, so Node's test runner checks them
// directly (test/lib.test.mjs). Decoding itself is always the core's (through the wasm
// package); the hex reader here only lays bytes out for display.

/**
 * Reads hex text into bytes with the rules of the core's `parse_hex` (design §4): digits in
 * either case, separated or not by spaces, tabs, newlines, `:`, `-`, `,` or `;`, each group
 * optionally prefixed `0x`, groups of whole bytes. Returns `{bytes}` or `{error: {offset}}`
 * (offset of the offending character). The core decides what a frame is; this is only used
 * to draw the bytes the core was given.
 */
export function parseHex(text) {
  const out = [];
  const n = text.length;
  let i = 0;
  const sep = (c) => c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === ':' || c === '-' || c === ',' || c === ';';
  const nib = (c) => {
    const k = c.charCodeAt(0);
    if (k >= 48 && k <= 57) return k - 48;
    if (k >= 97 && k <= 102) return k - 87;
    if (k >= 65 && k <= 70) return k - 55;
    return -1;
  };
  while (i < n) {
    if (sep(text[i])) {
      i += 1;
      continue;
    }
    if (text[i] === '0' && (text[i + 1] === 'x' || text[i + 1] === 'X')) i += 2;
    let high = -1;
    let at = 0;
    while (i < n && !sep(text[i])) {
      const v = nib(text[i]);
      if (v < 0) return { error: { offset: i } };
      if (high < 0) {
        high = v;
        at = i;
      } else {
        out.push((high << 4) | v);
        high = -1;
      }
      i += 1;
    }
    if (high >= 0) return { error: { offset: at } };
  }
  if (out.length === 0) return { error: { offset: 0, empty: true } };
  return { bytes: Uint8Array.from(out) };
}

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).toUpperCase().padStart(2, '0'));

/** One byte as two upper-case hex digits. */
export const hexByte = (b) => HEX[b];

/** Bytes as upper-case hex with one space between bytes (the CLI's spelling). */
export function toHex(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 1) s += (i ? ' ' : '') + HEX[bytes[i]];
  return s;
}

/**
 * The frames of the input box: one per non-blank line, `#` starting a comment (as in
 * `meterwire decode --file`). Returns `[{line, text}]` with 1-based line numbers.
 */
export function splitLines(text) {
  const out = [];
  text.split('\n').forEach((raw, i) => {
    const hash = raw.indexOf('#');
    const body = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    if (body) out.push({ line: i + 1, text: body });
  });
  return out;
}

/**
 * Sample frames from a `samples/*.hex` file: each frame line labelled by the comment line
 * just above it (`# name: description`). Header comments not followed by a frame are skipped.
 */
export function parseSamples(fileText) {
  const out = [];
  let label = null;
  for (const raw of fileText.split('\n')) {
    const line = raw.trim();
    if (!line) {
      label = null;
    } else if (line.startsWith('#')) {
      label = line.replace(/^#+\s*/, '');
    } else {
      const hash = line.indexOf('#');
      const hex = (hash >= 0 ? line.slice(0, hash) : line).trim();
      const m = label && /^([\w.-]+):\s*(.*)$/.exec(label);
      out.push({
        name: m ? m[1] : label || `frame ${out.length + 1}`,
        description: m ? m[2] : label || '',
        hex,
      });
      label = null;
    }
  }
  return out;
}

/**
 * The state a link reproduces, read from a URL fragment: `#frames=…&protocol=…&read=…`
 * (form-encoded; `protocol` and `read` only when not `auto`), and for Modbus `request=…`
 * (hex) and `profile=<bundled name>` or `profile=custom&profile_json=…` (pasted JSON text).
 * Keys are never part of it.
 */
export function readFragment(hash) {
  const params = new URLSearchParams(String(hash || '').replace(/^#/, ''));
  const profile = params.get('profile') || '';
  return {
    frames: params.get('frames') ?? '',
    protocol: params.get('protocol') || 'auto',
    read: params.get('read') || 'auto',
    request: params.get('request') ?? '',
    profile,
    profileJson: profile === 'custom' ? params.get('profile_json') ?? '' : '',
  };
}

/** The fragment (with `#`) for a state; `''` for an empty box. */
export function writeFragment({ frames, protocol = 'auto', read = 'auto', request = '', profile = '', profileJson = '' }) {
  if (!frames) return '';
  const params = new URLSearchParams();
  params.set('frames', frames);
  if (protocol && protocol !== 'auto') params.set('protocol', protocol);
  if (read && read !== 'auto') params.set('read', read);
  if (request) params.set('request', request);
  if (profile) {
    params.set('profile', profile);
    if (profile === 'custom') params.set('profile_json', profileJson);
  }
  return `#${params.toString()}`;
}

/**
 * Where a span's model path belongs, for colours and headings: `envelope` (wake-up and
 * start bytes, M-Bus length, checksum, stop), `link` (other link fields), `meter` (identity
 * header), `record` (with its index), `data` (anything else: status word, manufacturer data,
 * alarms, fillers…).
 */
export function spanGroup(path) {
  const rec = /^records\[(\d+)\]/.exec(path);
  if (rec) return { group: 'record', record: Number(rec[1]) };
  if (/^link\.(kind|l|start|checksum|crc|stop|preamble_len)$/.test(path)) return { group: 'envelope', record: null };
  // The configuration field belongs to the header that carries the meter's identity.
  if (path === 'link.config') return { group: 'meter', record: null };
  if (path.startsWith('link.')) return { group: 'link', record: null };
  if (path.startsWith('meter.')) return { group: 'meter', record: null };
  return { group: 'data', record: null };
}

const FIELD_NAMES = {
  kind: 'start',
  start: 'start',
  preamble_len: 'wake-up',
  length: 'L (length)',
  meter_type: 'meter type',
  control: 'control',
  di: 'DI (data id)',
  ser: 'SER (sequence)',
  unit: 'unit',
  crc: 'CRC',
  records: 'record',
  l: 'L (length)',
  c: 'C (control)',
  a: 'A (address)',
  ci: 'CI (content)',
  config: 'configuration',
  checksum: 'checksum',
  stop: 'stop',
  id: 'meter ID',
  access_no: 'access no.',
  dif: 'DIF (data type)',
  vif: 'VIF (quantity)',
  value: 'value',
  fill: 'filler',
  trailing_fill: 'filler',
  manufacturer_data: 'manufacturer data',
  application_data: 'application data',
  encrypted_data: 'encrypted data',
  more_records_follow: 'more follow',
};

/**
 * A short name for a span's model path (`records[0].raw.vif` → `VIF (quantity)`); the label
 * tells a start byte from a one-byte frame such as the M-Bus acknowledgement `E5`.
 */
export function fieldName(path, label = '') {
  const last = path.split('.').pop().replace(/\[\d+\]$/, '');
  if (last === 'kind' && !/^(second )?start/.test(label)) return 'frame type';
  if (FIELD_NAMES[last]) return FIELD_NAMES[last];
  if (last.length <= 3) return last.toUpperCase();
  return last.replace(/_/g, ' ');
}

/**
 * A span's label without a leading restatement of its own bytes, for the caption under the
 * bytes: `C 0x08: RSP_UD (ACD 0, DFC 0)` → `RSP_UD (ACD 0, DFC 0)`, `DIF 0C: 8-digit BCD…` →
 * `8-digit BCD…`. Labels whose prefix says more than the bytes (`L = 21: …`) stay whole.
 */
export function caption(label, bytesHex) {
  const m = /^([^:]{1,24}):\s+(.+)$/.exec(label);
  if (!m) return label;
  const prefix = m[1].toUpperCase();
  const compact = bytesHex.replace(/ /g, '');
  if (bytesHex && (prefix.includes(`0X${compact}`) || prefix.endsWith(` ${bytesHex}`) || prefix === bytesHex)) return m[2];
  return label;
}

/** `flow_temperature` → `flow temperature`. */
export const humanize = (name) => String(name).replace(/_/g, ' ');
