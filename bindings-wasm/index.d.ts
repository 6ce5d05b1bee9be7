// meterwire for Node.js on WebAssembly. The API and model types: types/meterwire.d.ts.
import type { MeterwireApi } from './types/meterwire.js';

export * from './types/meterwire.js';
/** Which backend this package runs on. */
export declare const backend: 'wasm';
declare const api: MeterwireApi;
export default api;
