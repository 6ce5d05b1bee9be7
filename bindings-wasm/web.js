// meterwire in the browser: the wasm-bindgen `--target web` build (pkg-web/, written by
// scripts/build-wasm.sh) behind the shared JS API of wrap.js.
//
//   import init, { decode } from './web.js';
//   await init();               // fetches pkg-web/meterwire_wasm_bg.wasm next to this file
//   decode('10 7B 05 80 16');
//
// `init(source)` also takes what wasm-bindgen's init takes: a URL, a Response, bytes or a
// WebAssembly.Module. Calling a function before init() resolves throws an Error.
import initWasm, * as raw from './pkg-web/meterwire_wasm.js';
import { makeApi, MeterwireError } from './wrap.js';

let api = null;
let loading = null;

/** Loads the WebAssembly module once; resolves to the API object. */
export default function init(source) {
  if (api) return Promise.resolve(api);
  if (!loading) {
    loading = initWasm(source === undefined ? undefined : { module_or_path: source }).then(() => {
      api = makeApi(raw);
      return api;
    });
  }
  return loading;
}

function ready() {
  if (!api) {
    const e = new Error('meterwire: call and await init() before using the WebAssembly build');
    e.code = 'ERR_METERWIRE_NOT_INITIALISED';
    throw e;
  }
  return api;
}

export { init, MeterwireError };
/** Which backend this package runs on. */
export const backend = 'wasm';
export const decode = (data, opts) => ready().decode(data, opts);
export const decodeJson = (data, opts) => ready().decodeJson(data, opts);
export const decodeMany = (frames, opts) => ready().decodeMany(frames, opts);
export const decodeStream = (data, opts) => ready().decodeStream(data, opts);
/** The stateful stream decoder (see wrap.js); needs init() like the functions. */
export class Decoder {
  constructor(opts) {
    return new (ready().Decoder)(opts);
  }
}
export const encode = (obj, opts) => ready().encode(obj, opts);
export const toReading = (decoded, opts) => ready().toReading(decoded, opts);
export const protocols = () => ready().protocols();
export const modbusRequest = (spec) => ready().modbusRequest(spec);
export const iec62056Message = (spec) => ready().iec62056Message(spec);
// The TS013 codec functions never throw, also before init(): the failure is in `errors`.
const notReady = (e) => ({ warnings: [], errors: [`not_initialized: ${e?.message ?? e}`] });
export const decodeUplink = (input) => {
  try {
    return ready().decodeUplink(input);
  } catch (e) {
    return notReady(e);
  }
};
export const encodeDownlink = (input) => {
  try {
    return ready().encodeDownlink(input);
  } catch (e) {
    return notReady(e);
  }
};
export const decodeDownlink = (input) => {
  try {
    return ready().decodeDownlink(input);
  } catch (e) {
    return notReady(e);
  }
};
