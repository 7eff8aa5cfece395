"""A minimal product-like webhook receiver, for tests of the fake and for demos.

It behaves as the design asks the product's controller to: verify
``signature`` (and ``msg_signature`` in safe mode, decrypting with wechatpy's
``WeChatCrypto``), parse with defused XML, dedupe on ``MsgId`` or
``FromUserName + CreateTime + Event (+ EventKey)``, and answer "success" or a
passive reply (encrypted in safe/compatible mode when the request was).
``delay`` (seconds, or ``callable(event, attempt) -> seconds``) makes it slow
to trigger WeChat's retries.
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from wechatpy.crypto import WeChatCrypto
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from .xmlutil import parse_xml


def event_key(event):
    if event.get("MsgId"):
        return ("msg", event["MsgId"])
    return (
        event.get("FromUserName"),
        event.get("CreateTime"),
        event.get("Event"),
        event.get("EventKey"),
        event.get("MsgID"),
    )


class WebhookReceiver:
    def __init__(self, token, aes_key=None, appid=None, delay=0.0, reply=None):
        self.token = token
        self.crypto = WeChatCrypto(token, aes_key, appid) if aes_key else None
        self.delay = delay
        self.reply = reply
        self.lock = threading.Lock()
        self.events = []  # every accepted request (decrypted), arrival order
        self.unique = []  # after dedupe
        self.rejected = []  # (reason, query)
        self.raw = []  # (query, body bytes)
        self._seen = {}
        self._stop = threading.Event()
        self._server = None

    # lifecycle
    def start(self, port=0):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                receiver._handle(self)

            do_POST = do_GET

        self._stop.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def stop(self):
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self):
        return "http://127.0.0.1:%d/wechat/callback" % self._server.server_address[1]

    @staticmethod
    def text_reply(event, content):
        return TextReply(source=event["ToUserName"], target=event["FromUserName"], content=content).render()

    # request handling
    def _answer(self, handler, status, text):
        body = text.encode("utf-8")
        handler.send_response(status)
        handler.send_header("Content-Type", "text/xml; charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def _handle(self, handler):
        q = dict(parse_qsl(urlsplit(handler.path).query))
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        with self.lock:
            self.raw.append((q, body))
        try:
            check_signature(self.token, q.get("signature", ""), q.get("timestamp", ""), q.get("nonce", ""))
        except Exception:
            with self.lock:
                self.rejected.append(("bad signature", q))
            return self._answer(handler, 403, "bad signature")
        if handler.command == "GET":
            return self._answer(handler, 200, q.get("echostr", ""))
        encrypted = q.get("encrypt_type") == "aes"
        try:
            xml = body
            if encrypted:
                xml = self.crypto.decrypt_message(
                    parse_xml(body), q.get("msg_signature", ""), q["timestamp"], q["nonce"]
                )
            event = parse_xml(xml)
        except Exception as exc:  # bad XML, DTD, bad msg_signature
            with self.lock:
                self.rejected.append((f"bad body: {exc!r}", q))
            return self._answer(handler, 400, "bad request")
        key = event_key(event)
        with self.lock:
            attempt = self._seen.get(key, 0)
            self._seen[key] = attempt + 1
            self.events.append(event)
            if attempt == 0:
                self.unique.append(event)
        delay = self.delay(event, attempt) if callable(self.delay) else self.delay
        if delay:
            self._stop.wait(delay)
        reply = self.reply(event) if (self.reply and attempt == 0) else None
        if reply and encrypted:
            reply = self.crypto.encrypt_message(reply, q["nonce"], q["timestamp"])
        try:
            self._answer(handler, 200, reply or "success")
        except OSError:
            pass  # the caller gave up (timeout): WeChat will retry
