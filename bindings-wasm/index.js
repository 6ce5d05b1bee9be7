// meterwire for Node.js on WebAssembly: the wasm-bindgen `--target nodejs` build (pkg-node/,
// written by scripts/build-wasm.sh) behind the shared JS API of wrap.js. Same functions,
// options, errors and output as the native package.
import { createRequire } from 'node:module';
import { makeApi, MeterwireError } from './wrap.js';

const require = createRequire(import.meta.url);
const api = makeApi(require('./pkg-node/meterwire_wasm.js'));

export const { decode, decodeJson, decodeMany, decodeStream, Decoder, encode, toReading, protocols, modbusRequest, iec62056Message, decodeUplink, encodeDownlink, decodeDownlink } = api;
export { MeterwireError };
/** Which backend this package runs on. */
export const backend = 'wasm';
export default api;
