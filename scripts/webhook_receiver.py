"""A reference receiver for the portal's signed webhooks (README, "Connected systems over HTTP"), standard library only.

    python scripts/webhook_receiver.py 8900 answers.json    # the key in $PRIVACY_PORTAL_SECRET

``answers.json`` maps an action to the JSON to answer, e.g. {"access": {"status": "done", "data": {...}}}.
An answer {"async": true, ...} is sent later to the call's ``callback_url`` instead, with status 202 at once.
"""

import hashlib
import hmac
import json
import os
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def sign(key: bytes, body: bytes) -> str:
    t = str(int(time.time()))
    return f"t={t},v1={hmac.new(key, t.encode() + b'.' + body, hashlib.sha256).hexdigest()}"


def verified(key: bytes, body: bytes, header: str) -> bool:
    parts = dict(p.strip().split("=", 1) for p in (header or "").split(",") if "=" in p)
    t = parts.get("t", "")
    if not t.isdigit() or abs(time.time() - int(t)) > 300:  # stale: refused
        return False
    want = hmac.new(key, t.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(parts.get("v1", ""), want)


def serve(port: int, key: bytes, answers: dict, calls: list | None = None) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            ok = verified(key, body, self.headers.get("Privacy-Portal-Signature", ""))
            action = self.path.strip("/").rsplit("/", 1)[-1]
            if calls is not None:
                calls.append((action, ok, body))
            answer = dict(answers.get(action, {"status": "done"}))
            code = 401 if not ok else int(answer.pop("http_status", 200))
            if ok and answer.pop("async", False):
                call = json.loads(body)
                threading.Timer(0.2, callback, (call, answer)).start()
                code, answer = 202, {"status": "accepted"}
            out = json.dumps(answer if ok else {"error": "bad signature"}).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *args):
            pass

    def callback(call: dict, answer: dict) -> None:
        body = json.dumps({**answer, "idempotency_key": call["idempotency_key"]}).encode()
        request = urllib.request.Request(call["callback_url"], data=body, method="POST")
        request.add_header("Content-Type", "application/json")
        request.add_header("Privacy-Portal-Signature", sign(key, body))
        urllib.request.urlopen(request, timeout=10).close()

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


if __name__ == "__main__":
    serve(int(sys.argv[1]), os.environ["PRIVACY_PORTAL_SECRET"].encode(), json.load(open(sys.argv[2])))
    threading.Event().wait()
