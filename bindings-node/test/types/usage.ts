// Type-checked by types.test.mjs (tsc --noEmit): the .d.ts files describe the packages'
// real use, for the native, WASM (Node) and web entry points.
import native, { decode, decodeJson, decodeMany, decodeStream, Decoder, encode, toReading, protocols, iec62056Message, MeterwireError } from '../../index.js';
import type { Decoded, DataRecord, StreamItem, ErrorObject, Reading, MbusLink, Iec62056Link, ProtocolInfo, ModbusProfile, DecodeOptions, CoapLink, MqttLink } from '../../index.js';
import * as wasm from '../../../bindings-wasm/index.js';
import init, * as web from '../../../bindings-wasm/web.js';

const d: Decoded = decode('10 7B 05 80 16', { protocol: 'mbus', explain: false });
const text: string = decodeJson(new Uint8Array([0xe5]));
const link = d.link as MbusLink;
const fn: string | undefined = link.function;
const first: DataRecord | undefined = d.records[0];
const v: number | string | undefined = first?.value;
const many: Decoded[] = decodeMany(['E5', new Uint8Array([0xe5])]);
const skipped: Decoded[] = decodeMany(['E5'], { onError: 'skip' });
const collected: Array<Decoded | ErrorObject> = decodeMany(['E5'], { onError: 'collect' });
const items: StreamItem[] = decodeStream('00E5');
for (const it of items) {
  if ('frame' in it) it.frame.protocol satisfies string;
  else if ('error' in it) it.error.kind satisfies string;
  else {
    it.garbage satisfies string;
    it.reason satisfies 'noise' | 'invalid_frame' | 'truncated' | 'unsolicited_ack';
  }
}
const stream = new Decoder({ protocol: 'auto' });
const fed: StreamItem[] = stream.feed(new Uint8Array([0x10, 0x7b]));
const needed: number | null = stream.needed;
const rest: StreamItem[] = stream.finish();
stream.decode('E5').protocol satisfies string;
void [fed, needed, rest, stream.pending, stream.position];
// @ts-expect-error: the decoder's position is read-only
stream.position = 3;
const bytes: Uint8Array = encode(d);
const r: Reading = toReading(d);
const listed: ProtocolInfo[] = protocols();
const named: string[] = listed.filter((p) => !p.detect).map((p) => p.name);
web.protocols() satisfies ProtocolInfo[];
try {
  decode('zz');
} catch (e) {
  if (e instanceof MeterwireError) {
    const k: 'hex' | string = e.kind;
    const o: number = e.offset;
    const c: string = e.code;
    void [k, o, c];
  }
}
const w: Decoded = wasm.decode('E5');
const wb: 'wasm' = wasm.backend;
const nb: 'native' = (await import('../../index.js')).backend;
native.decode('E5') satisfies Decoded;
const api = await init();
api.decodeJson('E5') satisfies string;
web.decode('E5') satisfies Decoded;
new web.Decoder().feed('E5') satisfies StreamItem[];
// Modbus: the request (hex or bytes) and a register profile (object or JSON text).
const profile: ModbusProfile = {
  name: 'flow',
  registers: [{ quantity: 'volume_flow', label: 'flow', address: 0, type: 'f32', word_order: 'swapped', unit: 'm3/h' }],
};
const modbusOpts: DecodeOptions = { protocol: 'modbus_rtu', request: '01 03 00 00 00 02 C4 0B', modbusProfile: profile };
decode('01 03 04 00 00 C1 48 AB 95', modbusOpts) satisfies Decoded;
decodeJson('0103040000C148AB95', { protocol: 'modbus-rtu', request: new Uint8Array([1, 3, 0, 0, 0, 2, 0xc4, 0x0b]), modbusProfile: JSON.stringify(profile) }) satisfies string;
decodeMany(['0103040000C148AB95'], { ...modbusOpts, onError: 'skip' }) satisfies Decoded[];
decodeStream('0103040000C148AB95', modbusOpts) satisfies StreamItem[];
// @ts-expect-error: a profile entry needs a known type
const badProfile: ModbusProfile = { name: 'x', registers: [{ quantity: 'volume', address: 0, type: 'u24' }] };
// IEC 62056-21: message builders and link fields.
const signOn: Uint8Array = iec62056Message({ message: 'read', address: '8.0' });
const iecLink = decode(signOn).link as Iec62056Link;
const iecMessage: string = iecLink.message;
// @ts-expect-error: unknown IEC 62056-21 message
iec62056Message({ message: 'wake_up' });
void [iecMessage];
// @ts-expect-error: numbers are not an input type
decode(5);
// @ts-expect-error: unknown onError mode
decodeMany(['E5'], { onError: 'ignore' });
void [text, fn, v, many, skipped, collected, bytes, r, listed, named, w, wb, nb, badProfile];

// MQTT 5.0 and the CoAP / MQTT link types.
const mqttOpts: DecodeOptions = { protocol: 'mqtt', mqttVersion: '5.0' };
const published = decode('300A00036D2F310201017B7D', mqttOpts);
const mqttLink = published.link as MqttLink;
mqttLink.version satisfies '3.1.1' | '5.0';
const coapLink = decode('60001234').link as CoapLink;
coapLink.type satisfies 'CON' | 'NON' | 'ACK' | 'RST';

// The TS013 codec functions and redaction.
import { decodeUplink, encodeDownlink, decodeDownlink } from '../../index.js';
import type { UplinkResult, DownlinkEncodeResult, DownlinkDecodeResult } from '../../index.js';
const up: UplinkResult = decodeUplink({ bytes: [0xe5], fPort: 1, recvTime: new Date(), variables: { redactKey: '00'.repeat(16) } });
const upData: Reading | undefined = up.data;
const down: DownlinkEncodeResult = encodeDownlink({ data: { modbusRequest: { function: 'read_holding_registers', unit: 1, start: 0, count: 2 } } });
const downBytes: number[] | undefined = down.bytes;
const back: DownlinkDecodeResult = decodeDownlink({ bytes: new Uint8Array([0xe5]) });
const redacted: Decoded = decode('E5', { redactKey: new Uint8Array(16) });
const webUp: UplinkResult = web.decodeUplink({ bytes: 'E5' });
const wasmUp: UplinkResult = wasm.decodeUplink({ bytes: [0xe5], recvTime: '2026-12-07T02:30:00Z' });
// @ts-expect-error: bytes must be numbers, a Uint8Array or hex text
decodeUplink({ bytes: [true] });
void [upData, downBytes, back, redacted, webUp, wasmUp, toReading(redacted, { redactKey: '00'.repeat(16) })];
