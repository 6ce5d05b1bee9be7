// End-to-end tests of the web demo in headless Debian Chromium (playwright-core, no browser
// download; launch flags of shared/toolchain.md). The page is served from web-demo/dist by
// scripts/serve-web-demo.sh on 127.0.0.1 and compared with the `meterwire` CLI (the core's
// own JSON). Screenshots go to web-demo/test/screenshots/.
//
//   bash scripts/test-web.sh        # builds what is missing, then runs this file
//   node --test web-demo/test/      # when dist, the CLI and chromium are already there
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const shots = join(here, 'screenshots');
const cli = process.env.METERWIRE_CLI ?? join(root, 'target', 'debug', 'meterwire');
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const RSP_UD = '68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 67 45 23 01 0D 16';
const RSP_UD_BAD = '68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 67 45 23 01 0E 16';

/**
 * The core's JSON line for a frame, from the CLI (`decode` prints exactly `decode_json`);
 * Modbus: `request` (hex) and `profile` (a file under profiles/, without .json).
 */
function core(hex, protocol, { request, profile, before = [] } = {}) {
  const args = ['decode', ...(protocol ? ['--protocol', protocol] : [])];
  if (request) args.push('--request', request);
  if (profile) args.push('--profile', join(root, 'profiles', `${profile}.json`));
  // Frames decoded first in the same session (the CLI's run): the last line is `hex`'s.
  args.push(...before, hex);
  let out;
  try {
    out = execFileSync(cli, args, { encoding: 'utf8' });
  } catch (e) {
    out = String(e.stdout);
  }
  return out.trim().split('\n').at(-1);
}

let server;
let baseUrl;
let context;
let profile;
const external = [];
const problems = [];
const logs = [];

async function open(hash = '') {
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    logs.push(m.text());
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  await page.goto(baseUrl + hash);
  await page.waitForSelector('html[data-ready="true"]');
  return page;
}

/** Pastes text and waits until the view, incl. the field table filled after it, is drawn. */
async function paste(page, text) {
  const job = await page.evaluate(() => document.documentElement.dataset.tableReady ?? '');
  await page.getByTestId('frame-input').fill(text);
  // Frames that decode get a field table right after the first paint; others do not.
  await page.waitForFunction((j) => document.documentElement.dataset.tableReady !== j || !document.querySelector('#detail [data-testid="fields"]'), job);
}

const jsonHook = (page) => page.getByTestId('decoded-json').textContent();

/**
 * Types `secret` into the field `testId`, edits the frames so the link is written, and checks
 * that the secret is nowhere outside the page's memory: not in the address, the storage, the
 * session history, the cookies or the console. Returns a new page opened from the link, whose
 * field is checked empty.
 */
async function secretStaysInMemory(page, testId, secret) {
  await page.getByTestId(testId).fill(secret);
  await page.getByTestId('frame-input').press('End');
  await page.getByTestId('frame-input').type(' ');
  await page.waitForURL(/#frames=/);
  const trace = new RegExp(secret.slice(0, 12), 'i');
  assert.doesNotMatch(page.url(), trace);
  const stored = await page.evaluate(() => JSON.stringify([{ ...localStorage }, { ...sessionStorage }, history.state, document.cookie]));
  assert.doesNotMatch(stored, trace);
  assert.ok(logs.every((l) => !trace.test(l)), 'the secret appeared in the console');
  const again = await open(page.url().slice(baseUrl.length));
  assert.equal(await again.getByTestId(testId).inputValue(), '');
  return again;
}
const shot = (page, name) => page.screenshot({ path: join(shots, name), fullPage: true });

before(async () => {
  assert.ok(existsSync(join(root, 'web-demo', 'dist', 'index.html')), 'web-demo/dist is missing: run bash scripts/build-web-demo.sh');
  assert.ok(existsSync(cli), `${cli} is missing: cargo build -p meterwire-cli`);
  assert.ok(existsSync(chromiumPath), `${chromiumPath} is missing: apt-get install -y chromium`);
  mkdirSync(shots, { recursive: true });

  server = spawn('bash', [join(root, 'scripts', 'serve-web-demo.sh')], { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: server.stdout });
  baseUrl = await new Promise((resolve, reject) => {
    lines.on('line', (l) => {
      const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(l);
      if (m) resolve(m[1]);
    });
    server.on('exit', (code) => reject(new Error(`serve-web-demo.sh exited (${code})`)));
  });

  profile = mkdtempSync(join(tmpdir(), 'meterwire-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 900 },
  });
  // Offline by construction: anything not served by our 127.0.0.1 server is refused and noted.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(baseUrl) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
    external.push(url);
    return route.abort();
  });
});

after(async () => {
  await context?.close();
  if (server && server.exitCode === null) server.kill('SIGTERM');
  if (profile) rmSync(profile, { recursive: true, force: true });
});

describe('web demo in headless Chromium', () => {
  test('the server sends the WebAssembly module as application/wasm', async () => {
    const wasm = readdirSync(join(root, 'web-demo', 'dist', 'meterwire', 'pkg-web')).find((f) => f.endsWith('.wasm'));
    const res = await fetch(`${baseUrl}meterwire/pkg-web/${wasm}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/wasm');
    await res.arrayBuffer();
  });

  test('M-Bus RSP_UD: meter identity, the values table and the core\'s JSON', async () => {
    const page = await open();
    await paste(page, RSP_UD);
    const meter = page.getByTestId('meter');
    assert.equal(await meter.locator('dd[data-key="id"]').textContent(), '12345678');
    assert.match(await meter.textContent(), /KAM/);
    assert.match(await meter.textContent(), /water \(0x07\)/);
    const row = page.getByTestId('record-row').first();
    assert.equal(await row.locator('.quantity').textContent(), 'volume');
    assert.equal(await row.locator('.value').textContent(), '1234.567');
    assert.equal(await row.locator('.unit').textContent(), 'm3');
    assert.match(await row.locator('.storage').textContent(), /^0/);
    assert.equal(await row.locator('.function').textContent(), 'instantaneous');
    // The hook's text is the core's decode_json text, byte for byte, and parses to the same object.
    const text = await jsonHook(page);
    const expected = core(RSP_UD);
    assert.equal(text, expected);
    assert.deepEqual(JSON.parse(text), JSON.parse(expected));
    assert.equal(await page.getByTestId('error').count(), 0);
    await shot(page, 'mbus-rsp-ud.png');
    await page.close();
  });

  test('CoAP carrying CJ/T 188 (digest MB1): the nested payload as a tree, its own bytes annotated', async () => {
    const page = await open();
    const mb1 = '52021234A1B2B1740164112AFFFEFE6810785634120001008116901F01563412002C000012002C0030081503252000006F16';
    await paste(page, mb1);
    const level = page.getByTestId('payload-level');
    assert.equal(await level.count(), 1);
    assert.equal(await level.getAttribute('data-protocol'), 'cjt188');
    assert.equal(await level.getAttribute('data-level'), '2');
    assert.equal(await level.getByTestId('meter').locator('dd[data-key="id"]').textContent(), '00010012345678');
    assert.equal(await level.getByTestId('record-row').first().locator('.value').textContent(), '1234.56');
    // The nested level's fields cover bytes 13-49 of the message.
    const fields = level.getByTestId('payload-byte-map').locator('.field');
    assert.ok((await fields.count()) > 5);
    assert.match(await level.textContent(), /bytes 13–49 of the input/);
    assert.equal(await jsonHook(page), core(mb1));
    assert.equal(await page.getByTestId('error').count(), 0);
    await shot(page, 'coap-cjt188.png');
    await page.close();
  });

  test('MQTT payload encryption: the cipher choice and the key field open an SM4-CBC payload', async () => {
    const page = await open();
    const hex = '304400126D65746572732F31323334353637382F75705E8E041740C738E52AD53E0A413A8EE47C828C35E7A2AA317BF3EBD0AA52FA732B525ACFA25DC56BC9817C086C67A064';
    await paste(page, hex);
    assert.equal(await page.getByTestId('mqtt-options').isHidden(), false);
    await page.getByTestId('payload-cipher').selectOption('sm4-cbc');
    await page.getByTestId('key-input').fill('12345678=0123456789ABCDEFFEDCBA9876543210');
    const level = page.getByTestId('payload-level');
    await level.waitFor();
    assert.equal(await level.getAttribute('data-protocol'), 'cjt188');
    assert.equal(await level.getByTestId('record-row').first().locator('.value').textContent(), '1234.56');
    await page.close();
  });

  test('every sample of every protocol the page offers decodes as the CLI does', async () => {
    const page = await open();
    const protocols = await page.$$eval('[data-testid="protocol"] option', (os) => os.map((o) => o.value).filter((v) => v !== 'auto'));
    assert.ok(protocols.includes('mbus'));
    const buttons = page.getByTestId('sample');
    const n = await buttons.count();
    assert.ok(n >= 10, `only ${n} samples`);
    const seen = new Set();
    for (let i = 0; i < n; i += 1) {
      const b = buttons.nth(i);
      const protocol = await b.getAttribute('data-protocol');
      const name = await b.getAttribute('data-name');
      // Modbus samples with a register profile carry their request and profile.
      const request = (await b.getAttribute('data-request')) ?? undefined;
      const profile = (await b.getAttribute('data-profile')) ?? undefined;
      seen.add(protocol);
      await b.click();
      const hex = await page.getByTestId('frame-input').inputValue();
      assert.equal(await page.getByTestId('error').count(), 0, `${protocol}/${name} failed in the page`);
      assert.equal(await page.getByTestId('request-input').inputValue(), request ?? '', `${protocol}/${name}: request`);
      assert.equal(await page.getByTestId('profile-select').inputValue(), profile ?? '', `${protocol}/${name}: profile`);
      const got = await jsonHook(page);
      assert.equal(got, core(hex, protocol, { request, profile }), `${protocol}/${name}`);
      assert.equal(JSON.parse(got).protocol, protocol, `${protocol}/${name} detected as another protocol`);
    }
    // Every protocol the core decodes and the samples folder has frames for is offered.
    for (const p of protocols) {
      if (existsSync(join(root, 'samples', `${p}.hex`))) assert.ok(seen.has(p), `no sample buttons for ${p}`);
    }
    console.log(`samples checked against the CLI: ${n} (${[...seen].join(', ')})`);
    await page.close();
  });

  test('CJ/T 188: a water meter reply (spec/cjt188.md E2) and requests built in the encode panel', async (t) => {
    const page = await open();
    const protocols = await page.$$eval('[data-testid="protocol"] option', (os) => os.map((o) => o.value));
    if (!protocols.includes('cjt188')) {
      t.skip('the WebAssembly core has no CJ/T 188 decoder');
      await page.close();
      return;
    }
    const reply = 'FE FE 68 10 78 56 34 12 00 01 00 81 16 90 1F 01 56 34 12 00 2C 00 00 12 00 2C 00 30 08 15 03 25 20 00 00 6F 16';
    await paste(page, reply);
    assert.equal(await page.getByTestId('meter').locator('dd[data-key="id"]').textContent(), '00010012345678');
    const rows = page.getByTestId('record-row');
    assert.equal(await rows.nth(0).locator('.quantity').textContent(), 'volume');
    assert.equal(await rows.nth(0).locator('.value').textContent(), '1234.56');
    assert.equal(await rows.nth(0).locator('.unit').textContent(), 'm3');
    assert.match(await rows.nth(0).locator('.storage').textContent(), /^0/);
    assert.equal(await rows.nth(1).locator('.value').textContent(), '1200.00');
    assert.match(await rows.nth(1).locator('.storage').textContent(), /^1/);
    assert.equal(await rows.nth(2).locator('.value').textContent(), '2025-03-15T08:30:00');
    const text = await jsonHook(page);
    assert.equal(text, core(reply));
    assert.equal(JSON.parse(text).protocol, 'cjt188');
    // Hover: the DI bytes light their field.
    await page.hover('[data-testid="byte-map"] .byte[data-i="14"]');
    assert.match(await page.locator('.field[data-path="link.di"]').getAttribute('class'), /\bhl\b/);
    await shot(page, 'cjt188-reply.png');

    const cliEncode = (...args) => execFileSync(cli, ['encode', 'cjt188', ...args], { encoding: 'utf8' }).trim();
    const built = () => page.getByTestId('encoded-hex').textContent();
    await page.getByTestId('encode-protocol').selectOption('cjt188');
    await page.getByTestId('encode-request').selectOption('cjt_read');
    assert.equal(await built(), cliEncode('read-data', '--address', '00010012345678', '--di', '901F'));
    await page.getByTestId('encode-di').selectOption('0xD120');
    await page.getByTestId('encode-ser').fill('7');
    await page.getByTestId('encode-di_order').selectOption('lo_hi');
    assert.equal(await built(), cliEncode('read-data', '--address', '00010012345678', '--di', 'D120', '--ser', '7', '--di-order', 'lo-hi'));
    await page.getByTestId('encode-request').selectOption('cjt_read_address');
    assert.equal(await built(), cliEncode('read-address'));
    await page.getByTestId('encode-request').selectOption('cjt_valve');
    assert.equal(await built(), cliEncode('valve', '--address', '00010012345678', '--close'));
    await page.getByTestId('encode-meter_address').fill('12345678');
    await page.getByTestId('encode-valve').selectOption('open');
    assert.equal(await built(), cliEncode('valve', '--address', '12345678', '--open'));
    await page.getByTestId('encode-decode').click();
    const back = JSON.parse(await jsonHook(page));
    assert.equal(back.protocol, 'cjt188');
    assert.equal(back.link.di, '0xA017');
    assert.equal(back.records[0].value, 'open');
    await page.close();
  });

  test('IEC 62056-21: a readout (spec/iec62056-21.md I7), a DSMR telegram, and messages built in the encode panel', async (t) => {
    const page = await open();
    const protocols = await page.$$eval('[data-testid="protocol"] option', (os) => os.map((o) => o.value));
    if (!protocols.includes('iec62056_21')) {
      t.skip('the WebAssembly core has no IEC 62056-21 decoder');
      await page.close();
      return;
    }
    const readout =
      '02 30 2E 30 2E 30 28 31 32 33 34 35 36 37 38 29 0D 0A 38 2E 30 28 30 30 31 32 33 34 2E 35 36 37 2A 6D 33 29 0D 0A 38 2E 31 28 30 30 30 30 31 32 2E 33 34 35 2A 6D 33 29 0D 0A 30 2E 39 2E 31 28 30 38 33 30 30 30 29 0D 0A 30 2E 39 2E 32 28 32 35 30 33 31 35 29 0D 0A 21 0D 0A 03 13';
    await paste(page, readout);
    const rows = page.getByTestId('record-row');
    assert.equal(await rows.nth(1).locator('.quantity').textContent(), 'volume');
    assert.equal(await rows.nth(1).locator('.value').textContent(), '1234.567');
    assert.equal(await rows.nth(1).locator('.unit').textContent(), 'm3');
    const text = await jsonHook(page);
    assert.equal(text, core(readout));
    assert.equal(JSON.parse(text).link.bcc, '0x13');
    await shot(page, 'iec62056-21-readout.png');

    const cliEncode = (...args) => execFileSync(cli, ['encode', 'iec62056-21', ...args], { encoding: 'utf8' }).trim();
    const built = () => page.getByTestId('encoded-hex').textContent();
    await page.getByTestId('encode-protocol').selectOption('iec62056_21');
    await page.getByTestId('encode-request').selectOption('iec_sign_on');
    assert.equal(await built(), cliEncode('sign-on'));
    await page.getByTestId('encode-device_address').fill('12345678');
    assert.equal(await built(), cliEncode('sign-on', '--address', '12345678'));
    await page.getByTestId('encode-request').selectOption('iec_option_select');
    await page.getByTestId('encode-iec_mode').selectOption('programming');
    assert.equal(await built(), cliEncode('option-select', '--baud', '9600', '--mode', 'programming'));
    await page.getByTestId('encode-request').selectOption('iec_password');
    assert.equal(await built(), cliEncode('password', '--password', '00000000'));
    await page.getByTestId('encode-request').selectOption('iec_read');
    assert.equal(await built(), cliEncode('read', '--address', '8.0'));
    await page.getByTestId('encode-request').selectOption('iec_break');
    assert.equal(await built(), cliEncode('break'));
    await page.getByTestId('encode-decode').click();
    const back = JSON.parse(await jsonHook(page));
    assert.equal(back.protocol, 'iec62056_21');
    assert.equal(back.link.message, 'break');
    await page.close();
  });

  test('wM-Bus AES key: decrypts in the page, never leaves memory', async (t) => {
    const page = await open();
    if (!(await page.getByTestId('key-input').isVisible())) {
      t.skip('the WebAssembly core takes no AES keys');
      await page.close();
      return;
    }
    // An encrypted telegram (security mode 5) built by the core for Node from a plain one.
    const mw = await import(join(root, 'bindings-wasm', 'index.js'));
    const plain = mw.decode('1D443A63785634120107EA447A2A0000000C1367452301026C2F330B4D333B2001008560');
    plain.records[0].raw.fill = 2;
    Object.assign(plain.link, { security_mode: 5, config: '0x0510', encrypted_blocks: 1 });
    const KEY = '000102030405060708090A0B0C0D0E0F';
    const hex = [...mw.encode(plain, { keys: KEY })].map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');

    await paste(page, hex);
    const locked = JSON.parse(await jsonHook(page));
    assert.equal(locked.encrypted, true);
    assert.equal(await jsonHook(page), core(hex));
    assert.equal(await page.getByTestId('record-row').count(), 0);

    await page.getByTestId('key-input').fill(KEY);
    assert.equal(await page.getByTestId('record-row').first().locator('.value').textContent(), '1234.567');
    const open_ = await jsonHook(page);
    assert.equal(open_, execFileSync(cli, ['decode', '--key', KEY, hex], { encoding: 'utf8' }).trim());
    assert.doesNotMatch(open_, new RegExp(KEY, 'i'));
    await shot(page, 'wmbus-decrypted.png');

    // Wrong key: a decrypt error, marked like any other.
    await page.getByTestId('key-input').fill('0F0E0D0C0B0A09080706050403020100');
    assert.equal(await page.getByTestId('error').getAttribute('data-kind'), 'decrypt');
    // Not a key: said next to the field, frames decode without it.
    await page.getByTestId('key-input').fill('1234');
    assert.match(await page.getByTestId('key-error').textContent(), /not used/);
    assert.equal(JSON.parse(await jsonHook(page)).encrypted, true);

    // Never in the address, the storage, the session history or the console; a link opens
    // without the key: the frame is encrypted again.
    const again = await secretStaysInMemory(page, 'key-input', KEY);
    assert.equal(JSON.parse(await jsonHook(again)).encrypted, true);
    await again.close();
    await page.close();
  });

  test('redaction key: ids become the keyed pseudonyms the CLI writes, raw bytes go, the key stays in memory', async () => {
    const page = await open();
    await paste(page, RSP_UD);
    assert.equal(JSON.parse(await jsonHook(page)).meter.id, '12345678');

    const KEY = '5ec2e75ec2e75ec2e75ec2e75ec2e75e';
    await page.getByTestId('redact-key-input').fill(KEY);
    const shared = await jsonHook(page);
    const model = JSON.parse(shared);
    // The pseudonym of docs/model.md: HMAC-SHA256 under the key over the id's text, 24 hex digits.
    const pseudonym = createHmac('sha256', Buffer.from(KEY, 'hex')).update('12345678').digest('hex').slice(0, 24);
    assert.equal(model.meter.id, pseudonym);
    assert.doesNotMatch(shared, /12345678/);
    assert.equal(model.records[0].raw, undefined);
    assert.equal(model.records[0].exact, '1234.567');
    assert.equal(model.link.a, undefined);
    const keyFile = join(mkdtempSync(join(tmpdir(), 'meterwire-redact-')), 'key');
    writeFileSync(keyFile, Buffer.from(KEY, 'hex'));
    assert.equal(shared, execFileSync(cli, ['decode', '--redact-key', keyFile, RSP_UD], { encoding: 'utf8' }).trim());
    rmSync(dirname(keyFile), { recursive: true, force: true });
    // The meter card shows the pseudonym too, not the id; the bytes card says why it is empty.
    assert.doesNotMatch(await page.locator('#detail').textContent(), /12345678/);
    assert.match(await page.getByTestId('bytes-redacted').textContent(), /Clear the key/);
    await shot(page, 'mbus-redacted.png');

    // Too short a secret: said next to the field, frames decode unredacted.
    await page.getByTestId('redact-key-input').fill('0011');
    assert.match(await page.getByTestId('redact-error').textContent(), /not used/);
    assert.equal(JSON.parse(await jsonHook(page)).meter.id, '12345678');

    // Never in the address, the storage or the console; a link opens unredacted.
    const again = await secretStaysInMemory(page, 'redact-key-input', KEY);
    assert.equal(JSON.parse(await jsonHook(again)).meter.id, '12345678');
    await again.close();
    await page.close();
  });

  // profiles/examples.jsonl: the electromagnetic-u32-abcd pair (RTU).
  const MB_REQUEST = '02 03 00 00 00 0C 45 FC';
  const MB_RESPONSE = '02 03 18 C0 70 00 00 3F 99 99 9A 00 12 D6 87 00 00 07 D0 00 12 CE B7 00 05 01 66 16 96';
  const MB_PROFILE = 'electromagnetic-u32-abcd';
  const MB_PROFILE_TEXT = readFileSync(join(root, 'profiles', `${MB_PROFILE}.json`), 'utf8');
  /** The values-table row whose label (first note) is `label`, as [value, unit]. */
  const valueOf = async (page, label) => {
    const row = page.getByTestId('record-row').filter({ has: page.locator('.notes', { hasText: new RegExp(`^${label}(;|$)`) }) });
    assert.equal(await row.count(), 1, `one row labelled ${label}`);
    return [await row.locator('.value').textContent(), await row.locator('.unit').textContent()];
  };
  const modbusReady = async (page, t) => {
    const protocols = await page.$$eval('[data-testid="protocol"] option', (os) => os.map((o) => o.value));
    if (!protocols.includes('modbus_rtu')) {
      t.skip('the WebAssembly core has no Modbus decoder');
      return false;
    }
    return true;
  };

  test('Modbus: a read response with its request and register profile gives values', async (t) => {
    const page = await open();
    if (!(await modbusReady(page, t))) return page.close();
    // Hidden for M-Bus: the page stays uncluttered.
    await paste(page, RSP_UD);
    assert.ok(!(await page.getByTestId('modbus-options').isVisible()));
    // The sample fills frame, protocol, request and profile.
    await page.locator(`[data-testid="sample"][data-name="${MB_PROFILE} (RTU)"]`).click();
    assert.ok(await page.getByTestId('modbus-options').isVisible());
    assert.equal(await page.getByTestId('frame-input').inputValue(), MB_RESPONSE);
    assert.equal(await page.getByTestId('protocol').inputValue(), 'modbus_rtu');
    assert.equal(await page.getByTestId('request-input').inputValue(), MB_REQUEST);
    assert.equal(await page.getByTestId('profile-select').inputValue(), MB_PROFILE);
    assert.equal(await page.getByTestId('error').count(), 0);
    assert.match(await page.locator('.detail-head h2').textContent(), /^Modbus RTU read holding registers reply$/);
    assert.deepEqual(await valueOf(page, 'forward total'), ['1234.567', 'm3']);
    assert.deepEqual(await valueOf(page, 'flow'), ['-3.75', 'm3/h']);
    assert.deepEqual(await valueOf(page, 'velocity'), ['1.2', 'm/s']);
    assert.deepEqual(await valueOf(page, 'net total'), ['1232.567', 'm3']);
    assert.deepEqual(await valueOf(page, 'battery'), ['3.58', 'V']);
    assert.match(await page.getByTestId('meter').locator('dd[data-key="status"]').textContent(), /reverse flow, dry/);
    assert.equal(await jsonHook(page), core(MB_RESPONSE, 'modbus_rtu', { request: MB_REQUEST, profile: MB_PROFILE }));
    await shot(page, 'modbus-profile.png');

    // By hand: without the request the registers have no addresses (the core's warning);
    // typing it gives the values again.
    await page.getByTestId('request-input').fill('');
    assert.equal(await page.locator('.notes', { hasText: /^forward total/ }).count(), 0);
    assert.match(await page.locator('.warnings').textContent(), /no addresses/);
    await page.getByTestId('request-input').fill(MB_REQUEST);
    assert.deepEqual(await valueOf(page, 'forward total'), ['1234.567', 'm3']);
    // No profile: the registers as they are, with their addresses.
    await page.getByTestId('profile-select').selectOption('');
    assert.equal(await page.getByTestId('record-row').count(), 12);
    assert.match(await page.getByTestId('record-row').nth(4).locator('.notes').textContent(), /register 4/);
    assert.equal(await jsonHook(page), core(MB_RESPONSE, 'modbus_rtu', { request: MB_REQUEST }));
    await page.close();
  });

  test('Modbus: the link keeps the request and the profile, bundled or pasted', async (t) => {
    const page = await open();
    if (!(await modbusReady(page, t))) return page.close();
    await page.getByTestId('protocol').selectOption('modbus_rtu');
    await paste(page, MB_RESPONSE);
    await page.getByTestId('request-input').fill(MB_REQUEST);
    await page.getByTestId('profile-select').selectOption(MB_PROFILE);
    await page.waitForURL(/profile=electromagnetic/);
    const url = page.url();
    assert.match(url, /request=02\+03\+00\+00\+00\+0C\+45\+FC/);
    const shown = await jsonHook(page);
    assert.equal(shown, core(MB_RESPONSE, 'modbus_rtu', { request: MB_REQUEST, profile: MB_PROFILE }));

    const again = await open(url.slice(baseUrl.length));
    assert.equal(await again.getByTestId('protocol').inputValue(), 'modbus_rtu');
    assert.equal(await again.getByTestId('request-input').inputValue(), MB_REQUEST);
    assert.equal(await again.getByTestId('profile-select').inputValue(), MB_PROFILE);
    assert.equal(await jsonHook(again), shown);
    assert.deepEqual(await valueOf(again, 'forward total'), ['1234.567', 'm3']);
    await again.close();

    // "custom…" starts from the chosen profile; an edited profile travels in the link.
    await page.getByTestId('profile-select').selectOption('custom');
    const box = page.getByTestId('profile-json');
    assert.ok(await box.isVisible());
    assert.equal(await box.inputValue(), MB_PROFILE_TEXT);
    const edited = MB_PROFILE_TEXT.replace('"label": "forward_total"', '"label": "total_forward"');
    await box.fill(edited);
    assert.deepEqual(await valueOf(page, 'total forward'), ['1234.567', 'm3']);
    await page.waitForURL(/profile=custom&profile_json=/);
    const custom = await open(page.url().slice(baseUrl.length));
    assert.equal(await custom.getByTestId('profile-select').inputValue(), 'custom');
    assert.equal(await custom.getByTestId('profile-json').inputValue(), edited);
    assert.deepEqual(await valueOf(custom, 'total forward'), ['1234.567', 'm3']);
    assert.equal(await jsonHook(custom), await jsonHook(page));
    await custom.close();

    // A link naming a profile this page does not have says so; the frame still decodes.
    const missing = await open(url.slice(baseUrl.length).replace(`profile=${MB_PROFILE}`, 'profile=no-such-profile'));
    assert.equal(await missing.getByTestId('profile-select').inputValue(), '');
    assert.match(await missing.getByTestId('profile-error').textContent(), /no-such-profile/);
    assert.equal(await missing.getByTestId('error').count(), 0);
    await missing.close();
    await page.close();
  });

  test('Modbus: a broken profile or request shows the core\'s error, the frame still decodes', async (t) => {
    const page = await open();
    if (!(await modbusReady(page, t))) return page.close();
    await page.locator(`[data-testid="sample"][data-name="${MB_PROFILE} (RTU)"]`).click();
    const err = page.getByTestId('profile-error');
    assert.ok(!(await err.isVisible()));
    await page.getByTestId('profile-select').selectOption('custom');
    // Entry 2's type is not a type: the core's `malformed` error, naming the entry.
    const broken = MB_PROFILE_TEXT.replace('"type": "u32"', '"type": "u33"');
    await page.getByTestId('profile-json').fill(broken);
    assert.ok(await err.isVisible());
    assert.equal(await err.getAttribute('data-kind'), 'malformed');
    assert.match(await err.getAttribute('class'), /\berr-note\b/);
    const mw = await import(join(root, 'bindings-wasm', 'index.js'));
    let message = null;
    try {
      mw.decode(MB_RESPONSE, { protocol: 'modbus_rtu', request: MB_REQUEST, modbusProfile: broken });
    } catch (e) {
      assert.equal(e.kind, 'malformed');
      message = e.message;
    }
    assert.match(message, /^modbus profile registers\[2\]: `type`/);
    const text = await err.textContent();
    assert.ok(text.includes(message), text);
    assert.match(text, /^malformed error/);
    // The frame is decoded without the profile: registers, no frame error.
    assert.equal(await page.getByTestId('error').count(), 0);
    assert.equal(await page.getByTestId('record-row').count(), 12);
    assert.equal(await jsonHook(page), core(MB_RESPONSE, 'modbus_rtu', { request: MB_REQUEST }));
    await shot(page, 'modbus-profile-error.png');
    // Not JSON at all.
    await page.getByTestId('profile-json').fill('{"name": ');
    assert.match(await err.textContent(), /malformed error: modbus profile: the profile is not valid JSON/);
    // Fixed: the error is gone and the values are back.
    await page.getByTestId('profile-json').fill(MB_PROFILE_TEXT);
    assert.ok(!(await err.isVisible()));
    assert.deepEqual(await valueOf(page, 'flow'), ['-3.75', 'm3/h']);
    // A request that is not hex: the core's hex error under the request field.
    await page.getByTestId('request-input').fill('02 0G');
    const rerr = page.getByTestId('request-error');
    assert.equal(await rerr.getAttribute('data-kind'), 'hex');
    assert.match(await rerr.textContent(), /hex error at character 4/);
    assert.equal(await page.getByTestId('error').count(), 0);
    await page.getByTestId('request-input').fill(MB_REQUEST);
    assert.ok(!(await rerr.isVisible()));
    await page.close();
  });

  test('a corrupted checksum: the error names kind and offset, the byte is marked', async () => {
    const page = await open();
    await paste(page, RSP_UD_BAD);
    const err = page.getByTestId('error');
    assert.ok(await err.isVisible());
    assert.equal(await err.getAttribute('data-kind'), 'checksum');
    assert.equal(await err.getAttribute('data-offset'), '25');
    const text = await err.textContent();
    assert.match(text, /checksum/);
    assert.match(text, /byte 25/);
    assert.match(text, /computed 0x0D/);
    const bad = page.getByTestId('error-byte');
    assert.equal(await bad.count(), 1);
    assert.equal(await bad.getAttribute('data-i'), '25');
    assert.equal(await bad.textContent(), '0E');
    assert.match(await bad.getAttribute('class'), /\berr\b/);
    // The message sits right next to the marked byte.
    assert.equal(await bad.evaluate((n) => n.nextElementSibling?.dataset.testid), 'error');
    // No decoded frame: the JSON hook is empty and hidden.
    assert.equal(await jsonHook(page), '');
    assert.ok(!(await page.getByTestId('decoded-json').isVisible()));
    await shot(page, 'mbus-checksum-error.png');

    // A truncated frame marks the missing byte after the last one.
    await paste(page, RSP_UD.slice(0, -6));
    assert.equal(await err.getAttribute('data-kind'), 'truncated');
    assert.equal(await page.getByTestId('error-byte').getAttribute('data-i'), '25');
    // Bad hex text marks the character.
    await paste(page, '68 1G');
    assert.equal(await err.getAttribute('data-kind'), 'hex');
    assert.equal(await page.getByTestId('error-byte').textContent(), 'G');
    // Fixed again: the error is gone.
    await paste(page, RSP_UD);
    assert.equal(await err.count(), 0);
    await page.close();
  });

  test('the URL fragment reproduces the frames in a new page', async () => {
    const page = await open();
    const frames = `# two frames\n${RSP_UD}\n10 7B 05 80 16`;
    await paste(page, frames);
    await page.getByTestId('protocol').selectOption('mbus');
    // The address follows the box once typing pauses.
    await page.waitForURL(/protocol=mbus/);
    const url = page.url();
    assert.match(url, /#frames=/);
    assert.match(url, /protocol=mbus/);
    assert.doesNotMatch(url, /key/i);
    const first = await jsonHook(page);
    // "Copy link" copies exactly this address.
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseUrl.replace(/\/$/, '') });
    await page.getByTestId('copy-link').click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), url);
    // "Copy" next to the JSON copies the lines shown, one per frame.
    await page.getByTestId('copy-json').click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `${core(RSP_UD)}\n${core('10 7B 05 80 16')}`);
    await page.close();

    const again = await open(url.slice(baseUrl.length));
    assert.equal(await again.getByTestId('frame-input').inputValue(), frames);
    assert.equal(await again.getByTestId('protocol').inputValue(), 'mbus');
    assert.equal(await again.getByTestId('frame-row').count(), 2);
    assert.equal(await jsonHook(again), first);
    assert.equal(await jsonHook(again), core(RSP_UD));
    await shot(again, 'fragment-two-frames.png');
    await again.close();
  });

  test('hovering a byte lights its field and row; hovering a row lights its bytes', async () => {
    const page = await open();
    await paste(page, RSP_UD);
    await page.hover('[data-testid="byte-map"] .byte[data-i="22"]');
    const field = page.locator('.field[data-path="records[0].value"]');
    assert.match(await field.getAttribute('class'), /\bhl\b/);
    for (const i of [21, 22, 23, 24]) {
      assert.match(await page.locator(`.byte[data-i="${i}"]`).getAttribute('class'), /\bhl\b/, `byte ${i}`);
    }
    assert.doesNotMatch(await page.locator('.byte[data-i="20"]').getAttribute('class'), /\bhl\b/);
    assert.match(await page.locator('[data-testid="record-row"][data-r="0"]').getAttribute('class'), /\bhl\b/);
    assert.match(await page.locator('[data-testid="fields"] tr[data-path="records[0].value"]').getAttribute('class'), /\bhl\b/);
    assert.match(await page.getByTestId('hover-info').textContent(), /1234\.567 m3/);
    await shot(page, 'hover-byte.png');

    // A field-table row lights its bytes.
    await page.hover('[data-testid="fields"] tr[data-path="meter.id"]');
    for (const i of [7, 8, 9, 10]) assert.match(await page.locator(`.byte[data-i="${i}"]`).getAttribute('class'), /\bhl\b/);
    assert.doesNotMatch(await page.locator('.byte[data-i="22"]').getAttribute('class'), /\bhl\b/);

    // A values-table row lights all bytes of its record (DIF, VIF, data), nothing else.
    await page.hover('[data-testid="record-row"][data-r="0"]');
    for (const i of [19, 20, 21, 22, 23, 24]) assert.match(await page.locator(`.byte[data-i="${i}"]`).getAttribute('class'), /\bhl\b/, `byte ${i}`);
    for (const i of [18, 25]) assert.doesNotMatch(await page.locator(`.byte[data-i="${i}"]`).getAttribute('class'), /\bhl\b/);
    await shot(page, 'hover-row.png');
    await page.close();
  });

  test('the encode panel builds M-Bus requests as the CLI does and decodes them back', async () => {
    const page = await open();
    const request = page.getByTestId('encode-request');
    const built = () => page.getByTestId('encoded-hex').textContent();
    const cliEncode = (...args) => execFileSync(cli, ['encode', 'mbus', ...args], { encoding: 'utf8' }).trim();

    await request.selectOption('req_ud2');
    assert.equal(await page.getByTestId('encode-address').inputValue(), '5');
    await page.getByTestId('encode-fcb').check();
    assert.equal(await built(), '10 7B 05 80 16');
    assert.equal(await built(), cliEncode('req-ud2', '--address', '5', '--fcb'));
    await page.getByTestId('encode-decode').click();
    assert.equal(await page.getByTestId('frame-input').inputValue(), '10 7B 05 80 16');
    const back = JSON.parse(await jsonHook(page));
    assert.equal(back.link.function, 'REQ_UD2');
    assert.equal(back.link.a, 5);
    assert.equal(back.link.fcb, true);
    await shot(page, 'encode-req-ud2.png');

    await request.selectOption('snd_nke');
    assert.equal(await built(), cliEncode('snd-nke', '--address', '5'));

    await request.selectOption('select');
    assert.equal(await built(), '68 0B 0B 68 53 FD 52 78 56 34 12 FF FF FF FF B2 16');
    await page.getByTestId('encode-manufacturer').fill('KAM');
    await page.getByTestId('encode-version').fill('1');
    await page.getByTestId('encode-medium').selectOption('0x07');
    assert.equal(await built(), '68 0B 0B 68 53 FD 52 78 56 34 12 2D 2C 01 07 17 16');
    assert.equal(await built(), cliEncode('select', '--id', '12345678', '--manufacturer', 'KAM', '--version', '1', '--medium', '7'));
    await page.getByTestId('encode-id').fill('1234');
    assert.equal(await built(), cliEncode('select', '--id', '1234', '--manufacturer', 'KAM', '--version', '1', '--medium', '7'));
    await page.getByTestId('encode-id').fill('12x4');
    assert.equal(await built(), '');
    assert.ok(await page.getByTestId('encode-decode').isDisabled());

    await request.selectOption('set_address');
    assert.equal(await built(), cliEncode('set-address', '--address', '254', '--new', '8'));
    await request.selectOption('reset');
    assert.equal(await built(), cliEncode('reset', '--address', '1'));
    // An address typed by the user stays when switching requests.
    await page.getByTestId('encode-address').fill('17');
    await request.selectOption('req_ud2');
    assert.equal(await built(), cliEncode('req-ud2', '--address', '17', '--fcb'));
    await request.selectOption('reset');
    assert.equal(await built(), cliEncode('reset', '--address', '17'));
    await page.getByTestId('encode-decode').click();
    assert.equal(JSON.parse(await jsonHook(page)).link.ci, '0x50');
    await page.close();
  });

  test('a capture with several frames and noise is cut into frames', async () => {
    const page = await open();
    await paste(page, `00 ${RSP_UD} E5 10 7B 05 80 16 FF`);
    const rows = page.getByTestId('frame-row');
    assert.equal(await rows.count(), 5);
    // The E5 after a reply answers no request: the core's stream decoder leaves it out.
    assert.match(await page.getByTestId('summary').textContent(), /2 frames cut from the capture/);
    assert.equal(await jsonHook(page), core(RSP_UD));
    // The first decoded frame is explained, not the noise before it.
    assert.match(await page.locator('.detail-head').textContent(), /Frame 2: M-Bus long RSP_UD/);
    assert.match(await rows.nth(0).textContent(), /1 byte skipped/);
    assert.match(await rows.nth(2).textContent(), /acknowledgement that follows no request/);
    await rows.nth(3).click();
    assert.match(await page.locator('.detail-head').textContent(), /REQ_UD2/);
    await shot(page, 'capture.png');
    await rows.nth(4).click();
    assert.match(await page.locator('.detail-head').textContent(), /bytes outside frames/);
    // Forced one frame per line, the same text is one frame with bytes after it.
    await page.getByTestId('read-mode').selectOption('lines');
    assert.equal(await page.getByTestId('error').getAttribute('data-kind'), 'unknown_protocol');
    await page.close();
  });

  test('compact wM-Bus frames pasted one per line decode after their full frame', async () => {
    const page = await open();
    // A full frame (CI 78) and two compact frames (CI 79) with its format signature 0xEAE9.
    const full = '14442D2C78563412010778041339300000025B1400';
    const compact = '14442D2C78563412010779E9EA20C7393000001400';
    await paste(page, `${full}\n${compact}\n${compact}`);
    const rows = page.getByTestId('frame-row');
    assert.equal(await rows.count(), 3);
    for (let i = 0; i < 3; i += 1) assert.match(await rows.nth(i).textContent(), /2 values/);
    // The JSON card holds one line per frame; the third is the second compact frame.
    const text = await page.locator('#json-lines pre').nth(2).textContent();
    const session = JSON.parse(text);
    assert.equal(session.link.format_signature, '0xEAE9');
    assert.equal(session.records[0].exact, '12.345');
    // The CLI decodes the lines of one run in one session too: the same text.
    assert.equal(text, core(compact, 'wmbus', { before: [full] }));
    await page.close();
  });

  test('time from input to the updated view for a 100-byte frame (reported, not asserted)', async () => {
    // A 100-byte RSP_UD: the README header, 13 six-byte records, one idle filler.
    const recs = ['0C 13', '4C 13', '0C 3B', '0C 5B', '0C 13', '4C 13', '0C 3B', '0C 5B', '0C 13', '4C 13', '0C 3B', '0C 5B', '0C 13'];
    const frameFor = (seed) => {
      const body = [0x08, 0x05, 0x72, 0x78, 0x56, 0x34, 0x12, 0x2d, 0x2c, 0x01, 0x07, 0x2a, 0x00, 0x00, 0x00];
      recs.forEach((r, i) => {
        body.push(...r.split(' ').map((x) => parseInt(x, 16)));
        const n = String(10000000 + seed * 37 + i * 1111).slice(-8);
        body.push(...[6, 4, 2, 0].map((k) => parseInt(n.slice(k, k + 2), 16)));
      });
      body.push(0x2f);
      const cs = body.reduce((a, b) => (a + b) & 0xff, 0);
      const bytes = [0x68, body.length, body.length, 0x68, ...body, cs, 0x16];
      return bytes.map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');
    };
    const a = frameFor(1);
    assert.equal(a.split(' ').length, 100);
    assert.equal(JSON.parse(core(a)).records.length, 13, core(a));

    const page = await open();
    const area = page.getByTestId('frame-input');
    const runs = [];
    for (let i = 0; i < 30; i += 1) {
      const before = await page.evaluate(() => [document.documentElement.dataset.paints ?? '0', document.documentElement.dataset.fulls ?? '0']);
      // A real (trusted) input event, as typing or pasting makes.
      await area.fill(frameFor(i + 2));
      await page.waitForFunction(([p, f]) => (document.documentElement.dataset.paints ?? '0') !== p && (document.documentElement.dataset.fulls ?? '0') !== f, before);
      const r = await page.evaluate(() => ({
        update: Number(document.documentElement.dataset.updateMs),
        paint: Number(document.documentElement.dataset.inputToPaintMs),
        full: Number(document.documentElement.dataset.inputToFullMs),
        rows: document.querySelectorAll('[data-testid="record-row"]').length,
      }));
      assert.equal(r.rows, 13);
      runs.push(r);
    }
    const stat = (k) => {
      const v = runs.slice(5).map((r) => r[k]).sort((x, y) => x - y);
      return `median ${v[Math.floor(v.length / 2)].toFixed(1)} ms, max ${v[v.length - 1].toFixed(1)} ms`;
    };
    await shot(page, 'frame-100-bytes.png');
    // The floor on this machine: the same measurement around an input that changes nothing.
    await page.evaluate(() => {
      const probe = document.createElement('textarea');
      probe.id = 'probe';
      document.body.append(probe);
      window.probeRuns = 0;
      probe.addEventListener('input', (e) => {
        const t0 = e.timeStamp;
        requestAnimationFrame(() => {
          const ch = new MessageChannel();
          ch.port1.onmessage = () => {
            window.probeMs = performance.now() - t0;
            window.probeRuns += 1;
          };
          ch.port2.postMessage(0);
        });
      });
    });
    const floor = [];
    for (let i = 0; i < 25; i += 1) {
      const n = await page.evaluate(() => window.probeRuns);
      await page.fill('#probe', 'x'.repeat(i + 1));
      await page.waitForFunction((k) => window.probeRuns !== k, n);
      floor.push({ paint: await page.evaluate(() => window.probeMs) });
    }
    const floorMedian = floor.slice(5).map((r) => r.paint).sort((x, y) => x - y)[10];
    const load = loadavg().map((x) => x.toFixed(1)).join(' ');
    console.log(`100-byte frame, machine load average ${load} on ${cpus().length} cores`);
    console.log(`100-byte frame, decode (explain) + JSON + render of the view: ${stat('update')}`);
    console.log(`100-byte frame, input event → next frame painted (identity, values, bytes): ${stat('paint')}`);
    console.log(`100-byte frame, input event → field-by-field table painted too: ${stat('full')}`);
    console.log(`the same for an input that changes nothing (this machine's floor): median ${floorMedian.toFixed(1)} ms`);
    await page.close();
  });

  test('offline: no request left 127.0.0.1, no page or console errors', () => {
    assert.deepEqual(external, []);
    assert.deepEqual(problems, []);
  });
});
