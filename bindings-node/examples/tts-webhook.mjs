// A webhook consumer for The Things Stack: each uplink webhook (JSON with a base64
// `uplink_message.frm_payload`) is decoded with meterwire's TS013 `decodeUplink` and answered
// with the result. Run: METERWIRE_PROTOCOL=mbus node tts-webhook.mjs 8080, then point a TTS
// webhook's "uplink message" at http://<host>:8080/.
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';

/** An HTTP server that decodes TTS uplink webhooks with `api.decodeUplink`. */
export function webhookServer(api, variables, onReading = (r) => console.log(JSON.stringify(r))) {
  return createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      body += chunk;
      if (body.length > 1_000_000) req.destroy(); // webhooks are small
    });
    req.on('end', () => {
      let hook;
      try {
        hook = JSON.parse(body);
      } catch {
        res.writeHead(400).end();
        return;
      }
      const uplink = hook.uplink_message ?? {};
      const result = api.decodeUplink({
        bytes: Array.from(Buffer.from(uplink.frm_payload ?? '', 'base64')),
        fPort: uplink.f_port,
        recvTime: hook.received_at,
        variables,
      });
      if (result.errors.length === 0) onReading(result.data);
      res.writeHead(result.errors.length ? 422 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(result));
    });
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const api = await import('meterwire');
  const variables = {
    protocol: process.env.METERWIRE_PROTOCOL,
    keys: process.env.METERWIRE_KEYS,
    redactKey: process.env.METERWIRE_REDACT_KEY, // hex: share readings without meter ids
  };
  webhookServer(api, variables).listen(Number(process.argv[2] ?? 8080));
}
