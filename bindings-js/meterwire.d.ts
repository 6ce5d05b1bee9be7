// Types of meterwire's JavaScript API and of the decoded model (design §2), shared by the
// native package (bindings-node) and the WebAssembly package (bindings-wasm): the two copies
// are identical (a test checks it). Written by hand from core/src/model.rs; keep in step.
//
// Names are snake_case as in the JSON text; optional fields are omitted, never null.

/** Protocol ids of the model's `protocol` key. */
export type Protocol =
  | 'mbus'
  | 'wmbus'
  | 'cjt188'
  | 'modbus_rtu'
  | 'modbus_tcp'
  | 'iec62056_21'
  | 'coap'
  | 'mqtt';

/** A byte-valued code as text: `"0x08"` (upper-case digits). */
export type Code8 = string;
/** A 16-bit code as text: `"0x2C2D"`. */
export type Code16 = string;
/** Bytes as upper-case hex without separators: `"0C13"`. */
export type Hex = string;

/** One decoded frame. */
export interface Decoded {
  /** The model's version (1); bumped on any breaking change. */
  schema_version: number;
  protocol: Protocol;
  /** The protocol's own header fields (design §2.2); `protocol` says which. */
  link: MbusLink | WmbusLink | Cjt188Link | Iec62056Link | CoapLink | MqttLink | LinkFields;
  /** The meter's identity, when the frame carries one. */
  meter?: Meter;
  /** One record per value. */
  records: DataRecord[];
  /** The normalised status. */
  status?: Status;
  /** An application error reported by the meter (M-Bus CI 70). */
  application_error?: ApplicationError;
  /** An alarm byte (M-Bus CI 71). */
  alarm?: number;
  /** Manufacturer-specific data after the records, as hex. */
  manufacturer_data?: Hex;
  /** The meter has more records for the next request (M-Bus DIF 1F). */
  more_records_follow?: true;
  /** Application data meterwire does not decode (an unknown CI), as hex. */
  application_data?: Hex;
  /** Idle filler bytes (M-Bus 2F) after the last record. */
  trailing_fill?: number;
  /** A payload could not be decrypted (no key). */
  encrypted?: true;
  /** The encrypted bytes, when `encrypted`. */
  encrypted_data?: Hex;
  /** A nested frame carried as payload, in the same model. */
  payload?: Decoded;
  /** Oddities that did not stop decoding (`already_decrypted`, unknown codes, …). */
  warnings?: string[];
  /** Explain mode only: every input byte, once, with its place in the model. */
  spans?: Span[];
}

/** IEC 62056-21 link fields (optical port messages and DSMR P1 telegrams; design §2.2). */
export interface Iec62056Link {
  message:
    | 'sign_on'
    | 'identification'
    | 'ack_option_select'
    | 'data'
    | 'command'
    | 'ack'
    | 'nak'
    | 'break'
    | 'error'
    | 'dsmr';
  device_address?: string;
  manufacturer?: string;
  reaction_time_ms_min?: number;
  baud_char?: string;
  baud?: number;
  protocol_mode?: string;
  identification?: string;
  enhanced_id?: string;
  protocol_char?: string;
  mode_char?: string;
  mode?: string;
  command?: string;
  command_type?: string;
  command_name?: string;
  error_text?: string;
  empty_data?: boolean;
  end_mark?: boolean;
  partial?: boolean;
  /** Block check character, `"0x13"`. */
  bcc?: string;
  /** DSMR CRC-16, `"0xE47C"`. */
  crc?: string;
  /** The capture carried 7E1 parity bits (encoding sets them again). */
  parity?: boolean;
}

/** Link fields of protocols without a dedicated type here (design §2.2). */
export interface LinkFields {
  [key: string]: unknown;
}

/** CoAP link fields (RFC 7252; design §2.2). */
export interface CoapLink {
  type: 'CON' | 'NON' | 'ACK' | 'RST';
  /** class.detail, e.g. `"0.02"`. */
  code: string;
  /** `GET`, `POST`, `PUT`, `DELETE`, `FETCH`, `PATCH`, `iPATCH` (codes 0.01–0.07). */
  method?: string;
  /** The response of codes 2.xx–5.xx in snake_case (`content`, `not_found`, …). */
  response?: string;
  message_id: number;
  /** The token as hex; omitted when empty. */
  token?: string;
  /** The options in wire order; encoding writes these. */
  options?: CoapOption[];
  /** The Uri-Path options joined (`/t/d`); ignored when encoding. */
  uri_path?: string;
  content_format?: number;
  content_format_name?: string;
  /** What the payload was read as: `cjt188`, `mbus`, `wmbus`, `modbus_rtu` (in `payload`), `json` (records), `lwm2m_tlv`, `senml_json`, `tlv`, `opaque` (`application_data`). */
  payload_format?: string;
  /** The payload cipher scheme the payload was opened with (`sm4-cbc-pkcs7`). */
  payload_cipher?: string;
}

/** One CoAP option: a number for `uint` formats, text for `string`, hex for `opaque`. */
export interface CoapOption {
  number: number;
  /** The registry's name (`Uri-Path`, `Content-Format`, `Observe`, …). */
  name?: string;
  value: number | string;
  /** The value's bytes (hex) when `value` does not give them back exactly. */
  raw?: string;
  /** Block1 / Block2 fields. */
  block?: { num: number; more: boolean; size: number };
}

/** MQTT link fields (design §2.2). */
export interface MqttLink {
  /** `PUBLISH`, `CONNECT`, `PUBACK`, … */
  packet_type: string;
  version: '3.1.1' | '5.0';
  dup?: boolean;
  qos?: 0 | 1 | 2;
  retain?: boolean;
  /** Other packet types: the fixed header's low four bits. */
  flags?: number;
  remaining_length: number;
  /** Only when the remaining length took more bytes than it needs. */
  remaining_length_bytes?: number;
  topic?: string;
  packet_id?: number;
  /** CONNECT: the protocol level (4 = 3.1.1, 5 = 5.0). */
  protocol_level?: number;
  /** MQTT 5.0 properties in wire order. */
  properties?: { id: number; name?: string; key?: string; value: number | string }[];
  payload_format?: string;
  payload_cipher?: string;
}

/** Wired M-Bus link fields. */
export interface MbusLink {
  kind: 'ack' | 'short' | 'control' | 'long';
  c?: Code8;
  function?: 'SND_NKE' | 'SND_UD' | 'REQ_UD1' | 'REQ_UD2' | 'RSP_UD';
  fcb?: boolean;
  fcv?: boolean;
  acd?: boolean;
  dfc?: boolean;
  /** Primary address. */
  a?: number;
  ci?: Code8;
  /** Application header layout after the CI. */
  tpl?: 'long' | 'short' | 'none' | 'fixed';
  /** Signature / configuration field of a long or short header. */
  config?: Code16;
  /** `msb_first` for CI 76/77; omitted for LSB first. */
  byte_order?: string;
}

/** Wireless M-Bus link fields (EN 13757-4, OMS). */
export interface WmbusLink {
  /** `A`, `B`, or `none` when the link-layer CRCs were already removed. */
  frame_format: 'A' | 'B' | 'none';
  l?: number;
  c: Code8;
  /** `SND_NR`, `SND_IR`, `ACC_NR`, … */
  function?: string;
  /** The link-layer address (manufacturer, id, version, medium). */
  dll_address?: Meter;
  ci?: Code8;
  tpl?: 'long' | 'short' | 'none' | 'fixed';
  access_no?: number;
  config?: Code16;
  config_ext?: Code8;
  security_mode?: number;
  encrypted_blocks?: number;
  format_signature?: Code16;
  data_crc?: Code16;
  /** The manufacturer-specific layer that was read: behind CI A0–B7 (`apator_na1`, …) or
   * a scrambled transport payload (`diehl_real_data`, `diehl_prios`). */
  manufacturer_format?: string;
  /** The manufacturer's published default key that opened the payload when none was given
   * (`diehl_aes`, `diehl_lfsr_1`, `diehl_lfsr_2`): a name, never key bytes. */
  default_key?: string;
  /** Extended link layer (CI 8C–8F). */
  ell?: {
    ci: Code8;
    cc: Code8;
    access_no: number;
    session_number?: number;
    payload_crc?: Code16;
    address?: Meter;
  };
  /** Authentication and fragmentation layer (CI 90). */
  afl?: {
    fcl: Code16;
    more_fragments?: boolean;
    fragment_id?: number;
    message_length?: number;
    mcl?: Code8;
    key_info?: Code16;
    message_counter?: number;
    mac?: Hex;
  };
}

/** CJ/T 188 link fields. */
export interface Cjt188Link {
  preamble_len?: number;
  /** `"0x10"`: cold water, … */
  meter_type: Code8;
  /** 14 digits. */
  address: string;
  control?: Code8;
  direction?: 'master_to_slave' | 'slave_to_master';
  exception?: boolean;
  function?: 'read_data' | 'read_address' | 'write_data' | 'read_key_version' | 'write_address' | 'write_sync';
  length?: number;
  /** Data identifier, `"0x901F"`. */
  di?: Code16;
  di_order?: 'hi_lo' | 'lo_hi';
  ser?: number;
}

/** The meter's identity. */
export interface Meter {
  /** Identification number, leading zeros kept. */
  id: string;
  /** Three-letter manufacturer code (`KAM`). */
  manufacturer?: string;
  /** The raw 16-bit manufacturer field. */
  manufacturer_code?: Code16;
  version?: number;
  /** `water`, `warm_water`, `heat`, … (design §2). */
  medium?: string;
  medium_code?: Code8;
  access_no?: number;
  /** The header's raw status byte. */
  status?: number;
}

/** One value of a frame (design §2 `records[]`). */
export interface DataRecord {
  /** `volume`, `energy`, `datetime`, `fabrication_no`, … */
  quantity: string;
  /**
   * Numbers: the JSON number read from `exact`. Dates and times: ISO 8601 text
   * (`2026-11-23T14:35`). Text values and unreadable bytes (hex): a string.
   */
  value?: number | string;
  /** The exact decimal of a numeric value (`"1234.567"`). */
  exact?: string;
  /** `m3`, `kWh`, `C`, … */
  unit?: string;
  /** A plain-text unit sent by the meter (VIF 7C/FC), instead of `unit`. */
  unit_text?: string;
  /** 0 = current value, k > 0 = the k-th stored value. */
  storage?: number;
  tariff?: number;
  subunit?: number;
  function?: 'instantaneous' | 'maximum' | 'minimum' | 'error';
  /** A protocol-specific meaning in words. */
  label?: string;
  /** Qualifiers from VIF extensions (`backward_flow`, `per_hour`, …). */
  modifiers?: string[];
  /** A record error reported by the meter. */
  record_error?: string;
  /** An object action (master → slave). */
  action?: string;
  /** The date's invalid flag, or data that is not valid BCD. */
  invalid?: true;
  /** The date's summer-time flag. */
  dst?: true;
  /** The record's address in protocols that name each value (register, OBIS code, DI). */
  address?: number | string;
  /** The record's source bytes. */
  raw?: RawRecord;
}

/** A record's source bytes, as hex. */
export interface RawRecord {
  /** Idle filler bytes (2F) directly before the record. */
  fill?: number;
  /** DIF and DIFEs. */
  dif?: Hex;
  /** VIF, VIFEs and plain-text unit bytes. */
  vif?: Hex;
  /** The data field. */
  data: Hex;
}

/** Status flags normalised across protocols. */
export type StatusFlag =
  | 'valve_open'
  | 'valve_closed'
  | 'valve_fault'
  | 'low_battery'
  | 'power_low'
  | 'leak'
  | 'burst'
  | 'reverse_flow'
  | 'tamper'
  | 'dry'
  | 'temporary_error'
  | 'permanent_error'
  | 'application_busy'
  | 'application_error'
  | 'alarm';

/** The normalised status. */
export interface Status {
  raw: number;
  flags: StatusFlag[];
}

/** An application error reported by the meter (M-Bus CI 70). */
export interface ApplicationError {
  code: number;
  name: string;
  detail?: Hex;
}

/** One annotated byte range of explain mode. */
export interface Span {
  start: number;
  end: number;
  /** Where the bytes went in the model (`link.c`, `records[2].data`). */
  path: string;
  /** What the bytes are, for people. */
  label: string;
}

/** The error object of design §3 (in `decodeMany` with `onError: "collect"`). */
export interface ErrorObject {
  error: ErrorBody;
}

/** What went wrong and where. */
export interface ErrorBody {
  kind: ErrorKind;
  offset: number;
  message: string;
}

/** The stable error kinds (design §3). */
export type ErrorKind =
  | 'empty'
  | 'hex'
  | 'truncated'
  | 'length'
  | 'start'
  | 'stop'
  | 'checksum'
  | 'crc'
  | 'unsupported'
  | 'malformed'
  | 'decrypt'
  | 'auth'
  | 'unknown_protocol';

/** Why bytes of a stream are garbage. */
export type GarbageReason = 'noise' | 'invalid_frame' | 'truncated' | 'unsolicited_ack';

/** One item of `decodeStream`: a frame, a frame that failed to decode, or garbage. */
export type StreamItem =
  | { start: number; end: number; frame: Decoded }
  | { start: number; end: number; error: ErrorBody }
  | {
      start: number;
      end: number;
      /** The bytes, as upper-case hex. */
      garbage: Hex;
      reason: GarbageReason;
      /** The family whose frame the bytes began (all reasons but `noise`). */
      protocol?: Protocol;
      /** `invalid_frame`: the check that failed (`checksum`, `crc`). */
      kind?: ErrorKind;
    };

/** The flat reading view of `toReading` (design §2.1); keys depend on the frame. */
export interface Reading {
  media?: string;
  id?: string;
  manufacturer?: string;
  protocol?: Protocol;
  /** `"OK"`, or the upper-case flags joined by spaces. */
  status?: string;
  [key: string]: string | number | boolean | undefined;
}

/** Input: bytes, or hex text (any case; spaces, `:`, `-` separators; `0x` prefixes). */
export type Input = Uint8Array | string;

/** Decoding options. */
export interface DecodeOptions {
  /** `"auto"` (default) or a protocol id; the hyphen spellings are accepted too. */
  protocol?: 'auto' | Protocol | 'modbus-rtu' | 'modbus-tcp' | 'iec62056-21' | (string & {});
  /** Fill `spans` with every byte's place in the model. */
  explain?: boolean;
  /** Keys for encrypted payloads (AES-128: 32 hex digits; DES for security mode 2: 16): one hex key for every meter, or meter id → hex key. */
  keys?: Keys;
  /** Modbus: the request the frame answers (bytes or hex, framed like the frame); read responses get register addresses from it. A request that does not fit is a warning. */
  request?: Input | null;
  /** Modbus: a register profile (`profiles/README.md`) as an object or JSON text; a bad profile throws `MeterwireError` of kind `malformed`. */
  modbusProfile?: ModbusProfile | string | null;
  /** MQTT: the version packets are read as, `"3.1.1"` (default) or `"5.0"` (a PUBLISH does not say; 5.0 reads its properties). Another value throws `MeterwireError` of kind `malformed`. */
  mqttVersion?: '3.1.1' | '5.0' | (string & {}) | null;
  /** CoAP / MQTT: the scheme payloads are encrypted with (`"sm4-cbc"`, `"aes-128-ecb-zero"`, …: algorithm `aes-128`/`sm4`, mode `cbc` (zero IV)/`ecb`, padding `pkcs7` (default)/`zero`/`none`), opened with the key `keys` gives for the device id in the topic or Uri-Path. */
  payloadCipher?: string | null;
  /** CoAP / MQTT: a vendor TLV layout (`profiles/tlv/vendor-tlv-example.json`: `tag_bytes`, `length_bytes`, `endian`, `fields` of tag hex → `{quantity, type, scale, unit, label}`) as an object or JSON text, tried on payloads that are no frame and no JSON; a bad schema throws `MeterwireError` of kind `malformed`. */
  tlvSchema?: object | string | null;
  /** Redaction for sharing with third parties: a secret of at least 16 bytes (bytes, or hex text). Meter ids, addresses, device ids and topics become keyed pseudonyms (HMAC-SHA256, 24 hex digits, the same for the same id and key) and raw bytes and spans are dropped (docs/model.md, "Redaction"). */
  redactKey?: Uint8Array | string | null;
}

/** A Modbus register profile (`profiles/README.md`): which registers hold which values. */
export interface ModbusProfile {
  name: string;
  description?: string;
  registers: ModbusProfileEntry[];
}

/** One value of a register profile. */
export interface ModbusProfileEntry {
  quantity: string;
  label?: string;
  /** First register, 0–65535, as sent in the PDU. */
  address: number;
  kind?: 'holding' | 'input';
  type: 'u16' | 'i16' | 'bcd16' | 'u32' | 'i32' | 'f32' | 'bcd32' | 'u64' | 'i64' | 'f64';
  word_order?: 'big' | 'swapped' | 'little' | 'byte_swapped' | 'ABCD' | 'CDAB' | 'DCBA' | 'BADC';
  /** An exact decimal string the value is multiplied by (`"0.001"`). */
  scale?: string;
  unit?: string;
  /** `u16`/`u32` only: bit number → status flag. */
  flags?: Record<string, string>;
}

/** One hex key (32 digits) for every meter (or the `ID=HEX,ID=HEX` text), or meter id → hex key. */
export type Keys = string | Record<string, string>;

/** Options of `encode`. */
export interface EncodeOptions {
  /** With a key for the meter, wM-Bus payloads of security mode 5/7 are encrypted. */
  keys?: Keys;
}

/** Options of `decodeMany`. */
export interface DecodeManyOptions extends DecodeOptions {
  /** `"raise"` (default) throws the first failure, `"skip"` drops it, `"collect"` keeps its error object. */
  onError?: 'raise' | 'skip' | 'collect';
}

/** Thrown for input meterwire cannot decode or encode. */
export declare class MeterwireError extends Error {
  readonly name: 'MeterwireError';
  /** The stable error kind. */
  readonly kind: ErrorKind;
  /** Same as `kind` (Node's convention). */
  readonly code: ErrorKind;
  /** The byte where the problem was found (design §3). */
  readonly offset: number;
  /** The pipeline layer that found it: `input`, `link`, `application`, `security`. */
  readonly layer?: 'input' | 'link' | 'application' | 'security';
  /** `decodeMany` (`onError: "raise"`): the index of the failed frame. */
  readonly index?: number;
}

/** Decodes one frame into the model. Throws `MeterwireError`, or `TypeError` for bad arguments. */
export declare function decode(data: Input, opts?: DecodeOptions | null): Decoded;
/** Decodes one frame into the core's JSON text, byte-identical in every runtime. */
export declare function decodeJson(data: Input, opts?: DecodeOptions | null): string;
/** Decodes many frames. */
export declare function decodeMany(
  frames: Input[],
  opts?: (DecodeManyOptions & { onError?: 'raise' | 'skip' }) | null,
): Decoded[];
export declare function decodeMany(
  frames: Input[],
  opts: DecodeManyOptions & { onError: 'collect' },
): Array<Decoded | ErrorObject>;
/** Cuts a byte stream into frames and garbage; every byte is in exactly one item. */
export declare function decodeStream(data: Input, opts?: DecodeOptions | null): StreamItem[];
/**
 * A stateful stream decoder for serial and TCP readers and radio receivers: `feed` returns
 * the items the bytes completed (the items of `decodeStream`), while bytes that may begin a
 * frame wait for more (`needed`). Also the session of one source: compact wM-Bus frames
 * decode after their full frame, keys apply per meter, an `E5` is an acknowledgement only
 * right after an M-Bus request.
 */
export declare class Decoder {
  constructor(opts?: DecodeOptions | null);
  /** Adds the next bytes (or hex text); returns the items they completed, in stream order. */
  feed(data: Input): StreamItem[];
  /** Ends the stream; returns the last items. Feeding again continues the offsets. */
  finish(): StreamItem[];
  /** Decodes one already cut frame in this decoder's session (throws like `decode`). */
  decode(data: Input): Decoded;
  /** `decode`'s result as the core's JSON text, in this decoder's session. */
  decodeJson(data: Input): string;
  /** Bytes the frame that may begin at the current position still needs, or null. */
  readonly needed: number | null;
  /** Bytes fed but not yet in a returned item. */
  readonly pending: number;
  /** The stream offset of the next byte to be fed. */
  readonly position: number;
  /** Releases the WebAssembly memory now (the garbage collector does it otherwise). */
  free(): void;
}
/** Encodes a decoded model back to its frame: `encode(decode(x))` gives `x`. */
export declare function encode(obj: Decoded, opts?: EncodeOptions | null): Uint8Array;
/** Options of `toReading`. */
export interface ReadingOptions {
  /** The reception time to add as `timestamp` (UTC, e.g. `2026-11-25T16:00:00Z`). */
  timestamp?: string;
  /** Redact the model first (see `DecodeOptions.redactKey`); for a model decoded without it. */
  redactKey?: Uint8Array | string | null;
}

/** The flat reading view of a decoded frame (design §2.1). */
export declare function toReading(decoded: Decoded, opts?: ReadingOptions | null): Reading;

/** What `modbusRequest` builds: a Modbus master's request (RTU unless `framing` is `tcp`). */
export interface ModbusRequestSpec {
  /** The model's function name of the request. */
  function:
    | 'read_coils'
    | 'read_discrete_inputs'
    | 'read_holding_registers'
    | 'read_input_registers'
    | 'write_single_coil'
    | 'write_single_register'
    | 'write_multiple_coils'
    | 'write_multiple_registers'
    | 'read_device_identification';
  /** The unit (slave) address. */
  unit: number;
  /** `rtu` (default) or `tcp`. */
  framing?: 'rtu' | 'tcp';
  /** TCP: the transaction identifier (default 1). */
  transaction?: number;
  /** Reads and multiple writes: the first address. */
  start?: number;
  /** Reads: how many coils or registers. */
  count?: number;
  /** Single writes: the address. */
  address?: number;
  /** `write_single_register`: the value. */
  value?: number;
  /** `write_single_coil`: on or off. */
  on?: boolean;
  /** `write_multiple_registers`: the values. */
  values?: number[];
  /** `write_multiple_coils`: the states. */
  coils?: boolean[];
  /** `read_device_identification`: access code (1 basic … 4 one object; default 1). */
  code?: number;
  /** `read_device_identification`: the first object (default 0). */
  objectId?: number;
}

/** Builds a Modbus master's request frame; a missing or out-of-range parameter throws a
 * `MeterwireError` of kind `malformed`. */
export declare function modbusRequest(spec: ModbusRequestSpec): Uint8Array;

/** What `iec62056Message` builds: an IEC 62056-21 message of the optical port. */
export interface Iec62056MessageSpec {
  /** Which message. */
  message:
    | 'sign_on'
    | 'option_select'
    | 'ack'
    | 'nak'
    | 'identification'
    | 'password'
    | 'read'
    | 'write'
    | 'execute'
    | 'break'
    | 'error'
    | 'readout';
  /** Sign-on: the device address; read, write, execute: the data-set address. */
  address?: string;
  /** Write, execute: the value; password: the password; error: the error text. */
  value?: string;
  /** Option select, identification: the baud rate (default 9600). */
  baud?: number;
  /** Option select: `data_readout` (default), `programming`, `binary`. */
  mode?: 'data_readout' | 'programming' | 'binary';
  /** Identification: the 3 manufacturer letters. */
  manufacturer?: string;
  /** Identification: the enhanced identification digit (`'2'`: HDLC available). */
  enhancedId?: string;
  /** Identification: the identification text. */
  identification?: string;
  /** Password: `'0'` operand, `'1'` password (default), `'2'` secured result. */
  type?: '0' | '1' | '2';
  /** Readout: the data sets. */
  dataSets?: { address: string; value: string; unit?: string }[];
  /** Set 7E1 even-parity bits on every byte. */
  parity?: boolean;
}

/** Builds an IEC 62056-21 message (BCC computed); a missing or invalid parameter throws a
 * `MeterwireError` of kind `malformed`. */
export declare function iec62056Message(spec: Iec62056MessageSpec): Uint8Array;

/** A protocol this build decodes (the core's registry). */
export interface ProtocolInfo {
  /** The `protocol` option and model value (`"mbus"`, `"modbus_rtu"`, …). */
  name: string;
  /** Its name in words. */
  title: string;
  /** Whether `encode` writes it. */
  encode: boolean;
  /** Whether auto-detection finds it (otherwise pass `protocol`). */
  detect: boolean;
}

/** The protocols this build decodes, in the model's order. */
export declare function protocols(): ProtocolInfo[];

/** The functions above as one object (the default export). */
/** Settings of the TS013 codec functions: the decoding options (device variables are strings) and, for downlinks, the `fPort`. */
export interface CodecVariables {
  protocol?: string;
  keys?: Keys;
  redactKey?: Uint8Array | string | null;
  request?: Input | null;
  modbusProfile?: ModbusProfile | string | null;
  mqttVersion?: string | null;
  payloadCipher?: string | null;
  tlvSchema?: object | string | null;
  /** encodeDownlink: the port to send on when `data.fPort` is absent (default 1). */
  fPort?: number | string;
  [other: string]: unknown;
}

/** The input of `decodeUplink` / `decodeDownlink` (LoRaWAN TS013-1.0.0). */
export interface CodecInput {
  /** The frame: an array of integers 0–255 (as The Things Stack and ChirpStack deliver it), a Uint8Array / Buffer, or hex text. */
  bytes: number[] | Uint8Array | string;
  /** The LoRaWAN port (not used to decode: the protocol comes from `variables.protocol` or the frame). */
  fPort?: number;
  /** The reception time, added to the reading as `timestamp`. */
  recvTime?: Date | string;
  variables?: CodecVariables | null;
}

/** `decodeUplink`'s result: the flat reading, or errors (`"kind: message"`). */
export interface UplinkResult {
  data?: Reading;
  warnings: string[];
  errors: string[];
}

/** `decodeDownlink`'s result: the decoded model of the downlink frame, or errors. */
export interface DownlinkDecodeResult {
  data?: Decoded;
  warnings: string[];
  errors: string[];
}

/** The input of `encodeDownlink`: a decoded model to write back, or a request spec. */
export interface DownlinkInput {
  data:
    | (Decoded & { fPort?: number })
    | { modbusRequest: ModbusRequestSpec; fPort?: number }
    | { iec62056Message: Iec62056MessageSpec; fPort?: number };
  variables?: CodecVariables | null;
}

/** `encodeDownlink`'s result: the frame as an array of integers and its port, or errors. */
export interface DownlinkEncodeResult {
  bytes?: number[];
  fPort?: number;
  warnings: string[];
  errors: string[];
}

/** LoRaWAN payload codec (TS013): the flat reading of an uplink frame. Never throws. */
export declare function decodeUplink(input: CodecInput): UplinkResult;
/** LoRaWAN payload codec (TS013): a downlink frame built from a model or a request spec. Never throws. */
export declare function encodeDownlink(input: DownlinkInput): DownlinkEncodeResult;
/** LoRaWAN payload codec (TS013): the decoded model of a downlink frame. Never throws. */
export declare function decodeDownlink(input: CodecInput): DownlinkDecodeResult;

export interface MeterwireApi {
  decode: typeof decode;
  decodeJson: typeof decodeJson;
  decodeMany: typeof decodeMany;
  decodeStream: typeof decodeStream;
  Decoder: typeof Decoder;
  encode: typeof encode;
  toReading: typeof toReading;
  protocols: typeof protocols;
  modbusRequest: typeof modbusRequest;
  iec62056Message: typeof iec62056Message;
  decodeUplink: typeof decodeUplink;
  encodeDownlink: typeof encodeDownlink;
  decodeDownlink: typeof decodeDownlink;
  MeterwireError: typeof MeterwireError;
}
