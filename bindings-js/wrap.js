// The JavaScript face of meterwire, shared by the native addon (bindings-node) and the
// WebAssembly package (bindings-wasm): scripts/sync-js.sh copies this one file into both.
// It checks argument types, turns the backend's JSON text into objects, and re-throws the
// backend's errors as `MeterwireError`. No protocol logic lives here.
//
// Both backends offer the same raw functions, each returning the core's JSON text:
// decodeJson, decodeManyJson, decodeStreamJson, toReadingJson, and encodeJson (bytes); and
// the class StreamDecoder (feedJson, finishJson, decodeJson, needed, pending, position).

/**
 * The error every meterwire function throws for input it cannot decode or encode
 * (design §3): `kind` is the stable error kind (`checksum`, `truncated`, …), `code` the same
 * string (Node's convention), `offset` the byte where the problem was found.
 */
export class MeterwireError extends Error {
  constructor(message, kind, offset, details = {}) {
    super(message);
    this.kind = kind;
    this.code = kind;
    this.offset = offset;
    if (typeof details.layer === 'string') this.layer = details.layer;
    if (typeof details.index === 'number') this.index = details.index;
  }
}
Object.defineProperty(MeterwireError.prototype, 'name', {
  value: 'MeterwireError',
  writable: true,
  configurable: true,
});

const ON_ERROR = ['raise', 'skip', 'collect'];

function typeError(message, code = 'ERR_INVALID_ARG_TYPE') {
  const e = new TypeError(message);
  e.code = code;
  return e;
}

function describe(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (ArrayBuffer.isView(value)) return `a ${value.constructor?.name ?? 'typed array'}`;
  return `type ${typeof value}`;
}

function checkData(data, what = 'data') {
  if (typeof data === 'string' || data instanceof Uint8Array) return data;
  throw typeError(`${what} must be a Uint8Array, a Buffer or a hex string (got ${describe(data)})`);
}

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

// keys: one hex key (or the `ID=HEX,ID=HEX` text) for every meter, or {meterId: hexKey}.
// The backend gets the text, or the map as a flat [id, key, id, key, …] list.
function checkKeys(keys) {
  if (typeof keys === 'string') return keys;
  if (isPlainObject(keys)) {
    const flat = [];
    for (const [id, key] of Object.entries(keys)) {
      if (typeof key !== 'string') {
        throw typeError(`opts.keys[${JSON.stringify(id)}] must be a hex string (got ${describe(key)})`);
      }
      flat.push(id, key);
    }
    return flat;
  }
  throw typeError(`opts.keys must be a hex string or an object of meter id -> hex key (got ${describe(keys)})`);
}

// modbusProfile: a register profile object (profiles/README.md) or its JSON text; the
// backend gets the text and the core reads it (`ModbusProfile::from_json`).
function checkProfile(profile) {
  if (typeof profile === 'string') return profile;
  if (isPlainObject(profile)) {
    const text = JSON.stringify(profile);
    if (typeof text === 'string') return text;
  }
  throw typeError(`opts.modbusProfile must be an object or a JSON string (got ${describe(profile)})`);
}

const HEX_DIGITS = '0123456789abcdef';

// redactKey: the secret as bytes (Uint8Array / Buffer) or as hex text; the backend gets hex
// and the core checks its length (at least 16 bytes).
function checkRedactKey(key, what = 'opts.redactKey') {
  if (typeof key === 'string') return key;
  if (key instanceof Uint8Array) {
    let hex = '';
    for (const b of key) hex += HEX_DIGITS[b >> 4] + HEX_DIGITS[b & 15];
    return hex;
  }
  throw typeError(`${what} must be a Uint8Array, a Buffer or a hex string (got ${describe(key)})`);
}

// Reads each option once into a fresh plain object: getters and proxies run once, and the
// backend sees only known keys of the right types.
function checkOpts(opts, { many = false, decoding = true } = {}) {
  if (opts === undefined || opts === null) return undefined;
  if (typeof opts !== 'object' || Array.isArray(opts)) {
    throw typeError(`opts must be an object (got ${describe(opts)})`);
  }
  const out = {};
  if (decoding) {
    const protocol = opts.protocol;
    if (protocol !== undefined) {
      if (typeof protocol !== 'string') {
        throw typeError(`opts.protocol must be a string (got ${describe(protocol)})`);
      }
      out.protocol = protocol;
    }
    const explain = opts.explain;
    if (explain !== undefined) {
      if (typeof explain !== 'boolean') {
        throw typeError(`opts.explain must be a boolean (got ${describe(explain)})`);
      }
      out.explain = explain;
    }
    // Modbus: the request a response answers (bytes or hex, like a frame).
    const request = opts.request;
    if (request !== undefined && request !== null) {
      out.request = checkData(request, 'opts.request');
    }
    const modbusProfile = opts.modbusProfile;
    if (modbusProfile !== undefined && modbusProfile !== null) {
      out.modbusProfile = checkProfile(modbusProfile);
    }
    // MQTT: the version packets are read as ("3.1.1" or "5.0"; the core reads the text).
    const mqttVersion = opts.mqttVersion;
    if (mqttVersion !== undefined && mqttVersion !== null) {
      if (typeof mqttVersion !== 'string') {
        throw typeError(`opts.mqttVersion must be a string (got ${describe(mqttVersion)})`);
      }
      out.mqttVersion = mqttVersion;
    }
    // CoAP / MQTT: the payload cipher scheme ("sm4-cbc", …; the core reads the text).
    const payloadCipher = opts.payloadCipher;
    if (payloadCipher !== undefined && payloadCipher !== null) {
      if (typeof payloadCipher !== 'string') {
        throw typeError(`opts.payloadCipher must be a string (got ${describe(payloadCipher)})`);
      }
      out.payloadCipher = payloadCipher;
    }
    // CoAP / MQTT: a vendor TLV layout (object or JSON text; the core reads the text).
    const tlvSchema = opts.tlvSchema;
    if (tlvSchema !== undefined && tlvSchema !== null) {
      if (typeof tlvSchema === 'string') {
        out.tlvSchema = tlvSchema;
      } else if (isPlainObject(tlvSchema) && typeof JSON.stringify(tlvSchema) === 'string') {
        out.tlvSchema = JSON.stringify(tlvSchema);
      } else {
        throw typeError(`opts.tlvSchema must be an object or a JSON string (got ${describe(tlvSchema)})`);
      }
    }
  }
  const keys = opts.keys;
  if (keys !== undefined) out.keys = checkKeys(keys);
  if (decoding) {
    const redactKey = opts.redactKey;
    if (redactKey !== undefined && redactKey !== null) out.redactKey = checkRedactKey(redactKey);
  }
  if (many) {
    const onError = opts.onError;
    if (onError !== undefined) {
      if (!ON_ERROR.includes(onError)) {
        throw typeError('opts.onError must be "raise", "skip" or "collect"', 'ERR_INVALID_ARG_VALUE');
      }
      out.onError = onError;
    }
  }
  return out;
}

function checkModel(obj, what) {
  if (!isPlainObject(obj)) {
    throw typeError(`${what} must be a decoded model object (got ${describe(obj)})`);
  }
  const text = JSON.stringify(obj);
  if (typeof text !== 'string') throw typeError(`${what} cannot be written as JSON`);
  return text;
}

// Backend errors carry `kind` and `offset`; a WebAssembly trap is a Rust panic.
function rethrow(e) {
  if (e instanceof MeterwireError) throw e;
  if (e !== null && typeof e === 'object' && typeof e.kind === 'string' && typeof e.offset === 'number') {
    throw new MeterwireError(e.message, e.kind, e.offset, e);
  }
  if (typeof WebAssembly === 'object' && e instanceof WebAssembly.RuntimeError) {
    const panic = new Error(`meterwire panicked (a bug, please report it): ${e.message}`, { cause: e });
    panic.code = 'ERR_METERWIRE_PANIC';
    throw panic;
  }
  throw e;
}

/** Builds the public API over a raw backend (the napi addon or the wasm-bindgen module). */
export function makeApi(raw) {
  function decodeJson(data, opts) {
    checkData(data);
    const o = checkOpts(opts);
    try {
      return raw.decodeJson(data, o);
    } catch (e) {
      rethrow(e);
    }
  }

  function decode(data, opts) {
    return JSON.parse(decodeJson(data, opts));
  }

  function decodeMany(frames, opts) {
    if (!Array.isArray(frames)) {
      throw typeError(`frames must be an array (got ${describe(frames)})`);
    }
    frames.forEach((f, i) => checkData(f, `frames[${i}]`));
    const o = checkOpts(opts, { many: true });
    let text;
    try {
      text = raw.decodeManyJson(frames, o);
    } catch (e) {
      rethrow(e);
    }
    return JSON.parse(text);
  }

  function decodeStream(data, opts) {
    checkData(data);
    const o = checkOpts(opts);
    let text;
    try {
      text = raw.decodeStreamJson(data, o);
    } catch (e) {
      rethrow(e);
    }
    return JSON.parse(text);
  }

  function encode(obj, opts) {
    const text = checkModel(obj, 'obj');
    const o = checkOpts(opts, { decoding: false });
    try {
      return raw.encodeJson(text, o);
    } catch (e) {
      rethrow(e);
    }
  }

  function toReading(decoded, opts) {
    const text = checkModel(decoded, 'decoded');
    let timestamp;
    let redactKey;
    if (opts !== undefined && opts !== null) {
      if (typeof opts !== 'object' || Array.isArray(opts)) {
        throw typeError(`opts must be an object (got ${describe(opts)})`);
      }
      timestamp = opts.timestamp;
      if (timestamp !== undefined && typeof timestamp !== 'string') {
        throw typeError(`opts.timestamp must be a string (got ${describe(timestamp)})`);
      }
      const key = opts.redactKey;
      if (key !== undefined && key !== null) redactKey = checkRedactKey(key);
    }
    let out;
    try {
      out = raw.toReadingJson(text, timestamp, redactKey);
    } catch (e) {
      rethrow(e);
    }
    return JSON.parse(out);
  }

  /**
   * A Modbus master's request, built by the core from a spec:
   * `{function, unit, framing?: 'rtu' | 'tcp', transaction?, start?, count?, address?, value?,
   * on?, values?, coils?, code?, objectId?}`; `function` is the model's `function_name`.
   */
  function modbusRequest(spec) {
    if (!isPlainObject(spec)) {
      throw typeError(`spec must be an object (got ${describe(spec)})`);
    }
    const { objectId, ...rest } = spec;
    const text = JSON.stringify(objectId === undefined ? rest : { ...rest, object_id: objectId });
    try {
      return raw.modbusRequestJson(text);
    } catch (e) {
      rethrow(e);
    }
  }

  /**
   * A stateful stream decoder for serial and TCP readers and radio receivers (the core's
   * `Decoder`): `feed(bytes)` returns the items the bytes completed, in stream order — the
   * items of `decodeStream` — while bytes that may begin a frame wait for more (`needed`).
   * It is also the session of one source: compact wM-Bus frames decode after their full
   * frame (`feed` or `decode`), keys apply per meter, an `E5` is an acknowledgement only
   * right after an M-Bus request.
   */
  class Decoder {
    #raw;

    constructor(opts) {
      const o = checkOpts(opts);
      try {
        this.#raw = new raw.StreamDecoder(o);
      } catch (e) {
        rethrow(e);
      }
    }

    /** Adds the next bytes (or hex text); returns the items they completed. */
    feed(data) {
      checkData(data);
      let text;
      try {
        text = this.#raw.feedJson(data);
      } catch (e) {
        rethrow(e);
      }
      return JSON.parse(text);
    }

    /** Ends the stream; returns the last items. Feeding again continues the offsets. */
    finish() {
      return JSON.parse(this.#raw.finishJson());
    }

    /** Decodes one already cut frame (a line of a log) in this decoder's session. */
    decode(data) {
      checkData(data);
      let text;
      try {
        text = this.#raw.decodeJson(data);
      } catch (e) {
        rethrow(e);
      }
      return JSON.parse(text);
    }

    /** `decode`'s result as the core's JSON text (`decodeJson` in this decoder's session). */
    decodeJson(data) {
      checkData(data);
      try {
        return this.#raw.decodeJson(data);
      } catch (e) {
        rethrow(e);
      }
    }

    /** Bytes the frame that may begin at the current position still needs, or null. */
    get needed() {
      return this.#raw.needed ?? null;
    }

    /** Bytes fed but not yet in a returned item. */
    get pending() {
      return this.#raw.pending;
    }

    /** The stream offset of the next byte to be fed. */
    get position() {
      return this.#raw.position;
    }

    /** Releases the WebAssembly memory now (the garbage collector does it otherwise). */
    free() {
      this.#raw.free?.();
    }
  }

  /**
   * An IEC 62056-21 message, built by the core from a spec:
   * `{message, address?, value?, baud?, mode?, manufacturer?, enhancedId?, identification?,
   * type?, dataSets?: [{address, value, unit?}], parity?}`; `message` is `sign_on`,
   * `option_select`, `ack`, `nak`, `identification`, `password`, `read`, `write`, `execute`,
   * `break`, `error` or `readout`.
   */
  function iec62056Message(spec) {
    if (!isPlainObject(spec)) {
      throw typeError(`spec must be an object (got ${describe(spec)})`);
    }
    const { enhancedId, dataSets, ...rest } = spec;
    const body = { ...rest };
    if (enhancedId !== undefined) body.enhanced_id = enhancedId;
    if (dataSets !== undefined) body.data_sets = dataSets;
    try {
      return raw.iec62056MessageJson(JSON.stringify(body));
    } catch (e) {
      rethrow(e);
    }
  }

  // ---- The LoRaWAN payload-codec shape (TS013-1.0.0) of The Things Stack and ChirpStack ----
  // decodeUplink / encodeDownlink / decodeDownlink never throw: every failure is a string of
  // `errors` that begins with its kind (`checksum: …`, `invalid_argument: …`). Settings come
  // from `variables` (the device's or the application's, as those servers pass them): the
  // decoding options of `decode` (`protocol`, `keys`, `redactKey`, `request`,
  // `modbusProfile`, `mqttVersion`, `payloadCipher`, `tlvSchema`) and, for downlinks, `fPort`.

  function failure(e) {
    if (e instanceof MeterwireError) return `${e.kind}: ${e.message} (offset ${e.offset})`;
    if (e !== null && typeof e === 'object' && typeof e.kind === 'string') {
      return `${e.kind}: ${e.message}`;
    }
    if (e instanceof TypeError || e instanceof RangeError) return `invalid_argument: ${e.message}`;
    return `internal: ${e?.message ?? String(e)}`;
  }

  // The codec input as an object (anything else is a TypeError, reported in `errors`).
  function codecInput(input) {
    if (!isPlainObject(input)) {
      throw typeError(`input must be an object {bytes, fPort, recvTime, variables} (got ${describe(input)})`);
    }
    return input;
  }

  // `bytes` as those servers deliver them: an array of integers 0–255; also a Uint8Array,
  // a Buffer or hex text.
  function codecBytes(bytes) {
    if (Array.isArray(bytes)) {
      const out = new Uint8Array(bytes.length);
      bytes.forEach((b, i) => {
        if (!Number.isInteger(b) || b < 0 || b > 255) {
          throw typeError(`bytes[${i}] must be an integer 0-255 (got ${JSON.stringify(b) ?? describe(b)})`);
        }
        out[i] = b;
      });
      return out;
    }
    return checkData(bytes, 'bytes');
  }

  // `variables` as decoding options: the decoding keys of `decode` only (device variables
  // are strings; an object is taken as it is).
  function codecOptions(variables) {
    if (variables === undefined || variables === null) return undefined;
    if (!isPlainObject(variables)) {
      throw typeError(`variables must be an object (got ${describe(variables)})`);
    }
    const { protocol, keys, redactKey, request, modbusProfile, mqttVersion, payloadCipher, tlvSchema } =
      variables;
    const opts = { protocol, keys, redactKey, request, modbusProfile, mqttVersion, payloadCipher, tlvSchema };
    for (const k of Object.keys(opts)) {
      if (opts[k] === undefined || opts[k] === null || opts[k] === '') delete opts[k];
    }
    return opts;
  }

  // `recvTime` (a Date or an ISO 8601 text) as the reading's `timestamp`: UTC, whole seconds
  // written without a fraction.
  function codecTime(recvTime) {
    if (recvTime === undefined || recvTime === null) return undefined;
    if (recvTime instanceof Date) {
      if (Number.isNaN(recvTime.getTime())) throw typeError('recvTime is an invalid Date');
      return recvTime.toISOString().replace('.000Z', 'Z');
    }
    if (typeof recvTime === 'string') return recvTime;
    throw typeError(`recvTime must be a Date or an ISO 8601 string (got ${describe(recvTime)})`);
  }

  /**
   * TS013 `decodeUplink({bytes, fPort, recvTime, variables})` → `{data, warnings, errors}`:
   * `data` is the flat reading (`toReading`) of the frame in `bytes`, with `recvTime` as its
   * `timestamp`; `warnings` are the model's. Never throws.
   */
  function decodeUplink(input) {
    try {
      const { bytes, recvTime, variables } = codecInput(input);
      const timestamp = codecTime(recvTime);
      const model = decode(codecBytes(bytes), codecOptions(variables));
      const data = toReading(model, timestamp === undefined ? undefined : { timestamp });
      return { data, warnings: collectWarnings(model), errors: [] };
    } catch (e) {
      return { warnings: [], errors: [failure(e)] };
    }
  }

  /**
   * TS013 `decodeDownlink({bytes, fPort, recvTime, variables})` → `{data, warnings,
   * errors}`: `data` is the decoded model of the downlink frame (a master's request: M-Bus
   * REQ_UD2 / SND_NKE / SND_UD, a Modbus request, a CJ/T 188 command, an IEC 62056-21
   * request), as `decode` returns it. Never throws.
   */
  function decodeDownlink(input) {
    try {
      const { bytes, variables } = codecInput(input);
      const data = decode(codecBytes(bytes), codecOptions(variables));
      return { data, warnings: collectWarnings(data), errors: [] };
    } catch (e) {
      return { warnings: [], errors: [failure(e)] };
    }
  }

  /**
   * TS013 `encodeDownlink({data, variables})` → `{bytes, fPort, warnings, errors}`: `data` is
   * a decoded model (`decode`'s shape, e.g. an M-Bus REQ_UD2) written back to its frame by
   * `encode` (with `variables.keys`), or `{modbusRequest: spec}` / `{iec62056Message: spec}`
   * built by `modbusRequest` / `iec62056Message`. `bytes` is an array of integers; `fPort` is
   * `data.fPort`, else `variables.fPort`, else 1. Never throws.
   */
  function encodeDownlink(input) {
    try {
      const { data, variables } = codecInput(input);
      if (!isPlainObject(data)) {
        throw typeError(`data must be an object (got ${describe(data)})`);
      }
      const vars = isPlainObject(variables) ? variables : {};
      const rawPort = data.fPort ?? vars.fPort ?? 1;
      const fPort = typeof rawPort === 'string' ? Number(rawPort) : rawPort;
      if (!Number.isInteger(fPort) || fPort < 1 || fPort > 223) {
        throw typeError(`fPort must be an integer 1-223 (got ${JSON.stringify(rawPort)})`);
      }
      let bytes;
      if (data.modbusRequest !== undefined) {
        bytes = modbusRequest(data.modbusRequest);
      } else if (data.iec62056Message !== undefined) {
        bytes = iec62056Message(data.iec62056Message);
      } else {
        const { fPort: _port, ...model } = data;
        const keys = vars.keys === undefined || vars.keys === '' ? undefined : vars.keys;
        bytes = encode(model, keys === undefined ? undefined : { keys });
      }
      return { bytes: Array.from(bytes), fPort, warnings: [], errors: [] };
    } catch (e) {
      return { warnings: [], errors: [failure(e)] };
    }
  }

  // The warnings of a model and of the frames nested in it.
  function collectWarnings(model) {
    const out = [];
    for (let m = model; isPlainObject(m); m = m.payload) {
      if (Array.isArray(m.warnings)) out.push(...m.warnings);
    }
    return out;
  }

  /** The protocols this build decodes (the core's registry): `[{name, title, encode, detect}]`. */
  function protocols() {
    return JSON.parse(raw.protocolsJson());
  }

  return Object.freeze({
    decode,
    decodeJson,
    decodeMany,
    decodeStream,
    Decoder,
    encode,
    toReading,
    protocols,
    modbusRequest,
    iec62056Message,
    decodeUplink,
    encodeDownlink,
    decodeDownlink,
    MeterwireError,
  });
}
