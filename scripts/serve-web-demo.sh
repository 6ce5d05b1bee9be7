#!/usr/bin/env bash
# Serves web-demo/dist (built by scripts/build-web-demo.sh) on 127.0.0.1 and prints the URL.
# The port is a free one chosen by the system unless PORT is set. `.wasm` is served as
# application/wasm (needed for streaming compilation). Stops on Ctrl-C.
#
#   bash scripts/serve-web-demo.sh           # web-demo: http://127.0.0.1:PORT/
#   PORT=8080 bash scripts/serve-web-demo.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dist="$root/web-demo/dist"
if [ ! -f "$dist/index.html" ]; then
    echo "serve-web-demo: $dist is missing; run bash scripts/build-web-demo.sh first" >&2
    exit 1
fi

exec python3 -u - "$dist" "${PORT:-0}" <<'PY'
import functools
import http.server
import signal
import sys

# Stop cleanly on SIGTERM too (a test harness, a service manager), not only on Ctrl-C.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

directory, port = sys.argv[1], int(sys.argv[2])


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".wasm": "application/wasm",
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".json": "application/json",
        ".hex": "text/plain; charset=utf-8",
        ".html": "text/html; charset=utf-8",
        ".css": "text/css",
    }

    def end_headers(self):
        # A rebuilt demo must not be mixed with a cached older one.
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, fmt, *args):
        pass


server = http.server.ThreadingHTTPServer(
    ("127.0.0.1", port), functools.partial(Handler, directory=directory)
)
print(f"web-demo: serving http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C to stop)", flush=True)
try:
    server.serve_forever()
except KeyboardInterrupt:
    pass
PY
