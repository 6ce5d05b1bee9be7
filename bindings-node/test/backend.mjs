// Loads the meterwire API under test. One set of test files runs against every backend:
//
//   MW_BACKEND=native (default)  bindings-node/index.js      (napi addon)
//   MW_BACKEND=wasm              bindings-wasm/index.js      (wasm-bindgen --target nodejs)
//   MW_BACKEND=web               bindings-wasm/web.js        (wasm-bindgen --target web, bytes
//                                                             handed to init())
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** The repository root. */
export const root = resolve(here, '..', '..');
/** The public corpora (`../shared/vectors` beside the repository), or null when absent. */
export const sharedVectors = (() => {
  const dir = resolve(root, '..', 'shared', 'vectors');
  return existsSync(dir) ? dir : null;
})();

export const backendName = process.env.MW_BACKEND || 'native';

const nativeAddon = join(root, 'bindings-node', 'binding.cjs');
const wasmNode = join(root, 'bindings-wasm', 'pkg-node', 'meterwire_wasm.js');
const wasmWeb = join(root, 'bindings-wasm', 'pkg-web', 'meterwire_wasm_bg.wasm');

/** Whether a backend's build output is present. */
export function built(name) {
  if (name === 'native') return existsSync(nativeAddon);
  if (name === 'wasm') return existsSync(wasmNode);
  if (name === 'web') return existsSync(wasmWeb);
  return false;
}

/** `{api, raw}` of a backend: the public module and the raw binding it wraps. */
export async function load(name = backendName) {
  if (name === 'native') {
    return { api: await import('../index.js'), raw: require(nativeAddon) };
  }
  if (name === 'wasm') {
    return { api: await import('../../bindings-wasm/index.js'), raw: require(wasmNode) };
  }
  if (name === 'web') {
    const api = await import('../../bindings-wasm/web.js');
    await api.default(readFileSync(wasmWeb));
    const raw = await import('../../bindings-wasm/pkg-web/meterwire_wasm.js');
    return { api, raw };
  }
  throw new Error(`unknown MW_BACKEND ${name} (native, wasm, web)`);
}

/** Every line of a JSON Lines file, parsed. */
export function readJsonl(file) {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
}

/** The project's own conformance vectors: `[{file, line}]`. */
export function ownVectors() {
  const dir = join(root, 'tests', 'conformance');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .flatMap((f) => readJsonl(join(dir, f)).map((line) => ({ file: f, line })));
}

/** The stream vectors (tests/conformance/streams/*.jsonl): lines whose `expected` is the
 * list of `decodeStream` items. */
export function ownStreams() {
  const dir = join(root, 'tests', 'conformance', 'streams');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .flatMap((f) => readJsonl(join(dir, f)));
}

/**
 * Decoding options of a vector line (tests/conformance/README.md): its `protocol` (`auto`
 * when absent), `key`, `request` (hex) and `profile` (a file from the repo root, passed
 * parsed as `modbusProfile`).
 */
export function vectorOptions(line) {
  const opts = {};
  if (typeof line.protocol === 'string' && line.protocol) opts.protocol = line.protocol;
  if (typeof line.key === 'string' && line.key) opts.keys = line.key;
  if (typeof line.request === 'string' && line.request) opts.request = line.request;
  if (typeof line.profile === 'string' && line.profile) {
    opts.modbusProfile = JSON.parse(readFileSync(join(root, line.profile), 'utf8'));
  }
  if (typeof line.mqtt_version === 'string' && line.mqtt_version) opts.mqttVersion = line.mqtt_version;
  if (typeof line.cipher === 'string' && line.cipher) opts.payloadCipher = line.cipher;
  if (typeof line.tlv_schema === 'string' && line.tlv_schema) {
    opts.tlvSchema = JSON.parse(readFileSync(join(root, line.tlv_schema), 'utf8'));
  }
  return Object.keys(opts).length ? opts : undefined;
}

/** The CLI flags of a vector line's `request` and `profile` fields. */
export function cliOptions(line) {
  const args = [];
  if (typeof line.request === 'string' && line.request) args.push('--request', line.request);
  if (typeof line.profile === 'string' && line.profile) args.push('--profile', join(root, line.profile));
  if (typeof line.mqtt_version === 'string' && line.mqtt_version) args.push('--mqtt-version', line.mqtt_version);
  if (typeof line.cipher === 'string' && line.cipher) args.push('--cipher', line.cipher);
  if (typeof line.tlv_schema === 'string' && line.tlv_schema) args.push('--tlv-schema', join(root, line.tlv_schema));
  return args;
}

/** The §3 error text the CLI and `error_json` print, rebuilt from a thrown MeterwireError. */
export function errorJson(e) {
  return JSON.stringify({ error: { kind: e.kind, offset: e.offset, message: e.message } });
}

/** `decodeJson` text, or the §3 error text for a MeterwireError. */
export function decodeJsonOrError(api, input, opts) {
  try {
    return api.decodeJson(input, opts);
  } catch (e) {
    if (e instanceof api.MeterwireError) return errorJson(e);
    throw e;
  }
}
