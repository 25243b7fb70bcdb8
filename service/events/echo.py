"""``motcua webhook-echo``: a local webhook receiver that checks each delivery's signature and prints it — for
trying subscriptions out (see the README) and as a reference for integrators."""

from __future__ import annotations

import hashlib
import hmac
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def serve(port: int, secret: str, *, host: str = "127.0.0.1") -> None:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected, self.headers.get("X-Motcua-Signature", "")):
                print("refused: bad signature", flush=True)
                self.send_response(401)
                self.end_headers()
                return
            event = json.loads(body)
            data = event["data"]
            print(f"{event['time']}  {event['type']:<32} {event['subject']}  seq={data['seq']}  "
                  f"status={data['status']}  due_at={data['due_at']}  id={event['id']}", flush=True)
            self.send_response(204)
            self.end_headers()

    server = ThreadingHTTPServer((host, port), Handler)
    print(f"listening on http://{host}:{port}/ (signature checked with the given secret)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
