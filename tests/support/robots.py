"""Local stand-ins for the DingTalk and WeCom group-robot webhooks (the outside world), on a
local port in a thread. Each checks what the real service documents and answers like it:

- DingTalk: {"msgtype": "markdown", "markdown": {"title": str, "text": str}}; with a secret the URL
  carries `timestamp` (ms, within an hour of now) and `sign` = base64(HMAC-SHA256(secret,
  f"{timestamp}\\n{secret}")), URL-encoded; with a keyword the message must contain it.
  Bad signature: errcode 310000, as DingTalk answers.
- WeCom: {"msgtype": "markdown", "markdown": {"content": str}} to ...?key=<key>; wrong key: 93000.

`fail_next` answers HTTP 500 that many times first (an outage); `stop()`/`start()` take it down
and bring it back on the same port.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Robot:
    kind: str  # "dingtalk" | "wecom"
    token: str
    secret: str = ""
    keyword: str = ""
    fail_next: int = 0
    received: list[dict] = field(default_factory=list)  # accepted payloads
    refused: list[str] = field(default_factory=list)  # why a request was refused
    requests: int = 0
    port: int = 0
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        if self.kind == "dingtalk":
            return f"http://127.0.0.1:{self.port}/robot/send?access_token={self.token}"
        return f"http://127.0.0.1:{self.port}/cgi-bin/webhook/send?key={self.token}"

    def check(self, path: str, body: bytes) -> tuple[int, str]:
        """(errcode, why) for one request, as the real service would judge it."""
        parts = urllib.parse.urlsplit(path)
        query = urllib.parse.parse_qs(parts.query)
        try:
            payload = json.loads(body.decode("utf-8"))
        except ValueError:
            return 400, "not JSON"
        if self.kind == "dingtalk":
            if parts.path != "/robot/send" or query.get("access_token") != [self.token]:
                return 300001, "wrong token"
            if self.secret:
                ts, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
                if not ts.isdigit() or abs(int(ts) - time.time() * 1000) > 3600 * 1000:
                    return 310000, "timestamp missing or too old"
                want = base64.b64encode(hmac.new(self.secret.encode(), f"{ts}\n{self.secret}".encode(),
                                                 hashlib.sha256).digest()).decode()
                # parse_qs already URL-decoded `sign` once, as DingTalk does.
                if not hmac.compare_digest(sign, want):
                    return 310000, "bad signature"
            md = payload.get("markdown")
            if payload.get("msgtype") != "markdown" or not isinstance(md, dict) or set(md) != {"title", "text"} \
                    or not all(isinstance(v, str) and v for v in md.values()):
                return 40035, "bad payload shape"
            text = md["title"] + md["text"]
        else:
            if parts.path != "/cgi-bin/webhook/send" or query.get("key") != [self.token]:
                return 93000, "wrong key"
            md = payload.get("markdown")
            if payload.get("msgtype") != "markdown" or not isinstance(md, dict) or set(md) != {"content"} \
                    or not isinstance(md["content"], str) or not md["content"]:
                return 40008, "bad payload shape"
            text = md["content"]
        if self.keyword and self.keyword not in text:
            return 310000, "keyword missing"
        self.received.append(payload)
        return 0, ""

    def start(self) -> Robot:
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                robot.requests += 1
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if robot.fail_next > 0:
                    robot.fail_next -= 1
                    self.send_response(500)
                    self.end_headers()
                    return
                errcode, why = robot.check(self.path, body)
                if errcode:
                    robot.refused.append(why)
                out = json.dumps({"errcode": errcode, "errmsg": why or "ok"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
