// meterwire in the browser (WebAssembly). Call and await `init()` first. The API and model
// types: types/meterwire.d.ts.
import type { MeterwireApi } from './types/meterwire.js';

export * from './types/meterwire.js';
/** What wasm-bindgen's init accepts: a URL, a Response, bytes or a compiled module. */
export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;
/** Loads the WebAssembly module once (default: pkg-web/meterwire_wasm_bg.wasm beside web.js). */
declare function init(source?: InitInput | Promise<InitInput>): Promise<MeterwireApi>;
export default init;
export { init };
/** Which backend this package runs on. */
export declare const backend: 'wasm';
