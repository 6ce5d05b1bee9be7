// meterwire for Node.js: the native addon (napi-rs) behind the shared JS API of wrap.js.
//
//   import { decode, decodeJson, MeterwireError } from 'meterwire';
//   decode('68 03 03 68 53 01 50 A4 16').link.function; // 'SND_UD'
//
// The addon's loader (binding.cjs) and the .node file are written by `napi build`
// (scripts/test-node.sh).
import { createRequire } from 'node:module';
import { makeApi, MeterwireError } from './wrap.js';

const require = createRequire(import.meta.url);
const api = makeApi(require('./binding.cjs'));

export const { decode, decodeJson, decodeMany, decodeStream, Decoder, encode, toReading, protocols, modbusRequest, iec62056Message, decodeUplink, encodeDownlink, decodeDownlink } = api;
export { MeterwireError };
/** Which backend this package runs on. */
export const backend = 'native';
export default api;
