"""A small web app for AWS Lambda behind lambda-adapter, standard library only.

It knows nothing about Lambda: it serves HTTP on 127.0.0.1:$AWS_LWA_PORT (or $PORT, default
8080), and lambda-adapter turns Lambda events into requests to it.

Routes:
  GET  /          200 text/plain "ok"
  GET  /stream    server-sent events: ?chunks=N (default 5, at most 1000) events
                  ?interval_ms=M (default 100, at most 60000) apart, each flushed at once
  GET  /context   the request id and path from the x-amzn-request-context header that
                  lambda-adapter sets (400 if it is missing: not behind the adapter)
  GET  /cookies   two set-cookie headers
  POST /events    the pass-through route for non-HTTP events (SQS, ...): {"ok":true}, or
                  500 {"ok":false} when the event contains the text "fail" (the invocation
                  fails, so Lambda retries the batch)
"""

import json
import os
import signal
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

MAX_CHUNKS = 1000
MAX_INTERVAL_MS = 60_000
MAX_EVENT_BYTES = 6 * 1024 * 1024


def listen_port():
    """The port lambda-adapter forwards to: AWS_LWA_PORT, then PORT, then 8080."""
    raw = os.environ.get("AWS_LWA_PORT") or os.environ.get("PORT") or "8080"
    try:
        port = int(raw)
    except ValueError:
        port = -1
    if not 0 < port < 65536:
        sys.exit(f"app.py: invalid port {raw!r} in AWS_LWA_PORT/PORT (expected 1-65535)")
    return port


class BadRequest(Exception):
    """A request the app refuses with 400 and a message."""


def int_param(query, name, default, limit):
    values = query.get(name)
    if not values:
        return default
    raw = values[-1]
    if not raw.isdigit():
        raise BadRequest(f"{name} must be a whole number, got {raw!r}")
    value = int(raw)
    if value > limit:
        raise BadRequest(f"{name} must be at most {limit}, got {value}")
    return value


class Handler(BaseHTTPRequestHandler):
    # HTTP/1.1: keep-alive connections, which lambda-adapter pools.
    protocol_version = "HTTP/1.1"
    server_version = "deploy-example-python"
    # Small event-stream writes leave at once instead of waiting for an ACK.
    disable_nagle_algorithm = True

    def send_text(self, status, body, content_type="text/plain; charset=utf-8", headers=()):
        data = body.encode()
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def send_json(self, status, value, headers=()):
        self.send_text(status, json.dumps(value, separators=(",", ":")), "application/json", headers)

    def read_body(self):
        length = self.headers.get("content-length")
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            return self.read_chunked()
        if length is None:
            return b""
        if not length.isdigit() or int(length) > MAX_EVENT_BYTES:
            raise BadRequest(f"bad content-length {length!r}")
        return self.rfile.read(int(length))

    def read_chunked(self):
        body = bytearray()
        while True:
            line = self.rfile.readline(1024).split(b";")[0].strip()
            try:
                size = int(line, 16)
            except ValueError:
                raise BadRequest(f"bad chunk size {line!r}") from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(body)
            if len(body) + size > MAX_EVENT_BYTES:
                raise BadRequest("request body too large")
            body += self.rfile.read(size)
            self.rfile.readline(1024)

    def do_GET(self):
        url = urlsplit(self.path)
        try:
            if url.path == "/":
                self.send_text(200, "ok")
            elif url.path == "/stream":
                self.stream(parse_qs(url.query))
            elif url.path == "/context":
                self.context()
            elif url.path == "/cookies":
                self.send_text(
                    200,
                    "two cookies set",
                    headers=[("set-cookie", "a=1; Path=/"), ("set-cookie", "b=2; Path=/")],
                )
            elif url.path == "/events":
                self.send_text(405, "POST an event to /events", headers=[("allow", "POST")])
            else:
                self.send_text(404, f"no route for GET {url.path}")
        except BadRequest as error:
            self.send_text(400, f"{error}\n")


    def do_POST(self):
        url = urlsplit(self.path)
        try:
            body = self.read_body()
        except BadRequest as error:
            self.close_connection = True
            self.send_text(400, f"{error}\n")
            return
        if url.path != "/events":
            self.send_text(404, f"no route for POST {url.path}")
            return
        try:
            json.loads(body or b"null")
        except ValueError:
            self.send_json(400, {"ok": False, "error": "the event is not JSON"})
            return
        if b"fail" in body:
            self.send_json(500, {"ok": False})
        else:
            self.send_json(200, {"ok": True})

    def stream(self, query):
        chunks = int_param(query, "chunks", 5, MAX_CHUNKS)
        interval = int_param(query, "interval_ms", 100, MAX_INTERVAL_MS) / 1000
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        for i in range(chunks):
            if i:
                time.sleep(interval)
            event = f"data: {i}\n\n".encode()
            # One HTTP chunk per event, written and flushed at once.
            self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def context(self):
        raw = self.headers.get("x-amzn-request-context")
        if raw is None:
            raise BadRequest("no x-amzn-request-context header: call this app through lambda-adapter")
        try:
            context = json.loads(raw)
        except ValueError:
            raise BadRequest("x-amzn-request-context is not JSON") from None
        if not isinstance(context, dict):
            raise BadRequest("x-amzn-request-context is not a JSON object")
        http = context.get("http") if isinstance(context.get("http"), dict) else {}
        lambda_context = {}
        try:
            lambda_context = json.loads(self.headers.get("x-amzn-lambda-context") or "{}")
        except ValueError:
            pass
        self.send_json(
            200,
            {
                # Function URL / HTTP API events carry http.path; REST API events carry path.
                "requestId": context.get("requestId"),
                "path": http.get("path", context.get("path")),
                "lambdaRequestId": lambda_context.get("request_id"),
            },
        )


def main():
    port = listen_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True

    def stop(signum, _frame):
        print(f"app.py: signal {signum}, stopping", file=sys.stderr, flush=True)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"app.py: listening on 127.0.0.1:{port}", file=sys.stderr, flush=True)
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
