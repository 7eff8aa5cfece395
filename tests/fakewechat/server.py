"""HTTP plumbing: a ThreadingHTTPServer on 127.0.0.1, routing to the endpoint
modules, fault injection and the call log.

Real-platform rules mimicked: unknown API paths are refused (logged as
violation ``unknown_endpoint``: the product calls something the fake -- and the
design -- does not cover); GET on a POST-only API answers 43002 and POST on a
GET-only API 43001, like the real servers.
"""

import socket
import struct
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from . import (
    api_jssdk,
    api_mass,
    api_media,
    api_messages,
    api_qrcode,
    api_subscribe,
    api_tags,
    api_token,
    api_users,
    control,
    oauth,
    pay,
    pay_bill,
    pay_jsapi,
    pay_v3,
)
from .errors import WeChatError
from .web import Reply, Request, json_reply

UNLOCKED_PREFIX = "/_fake/"
PAY_PREFIXES = ("/pay/", "/secapi/", "/tools/")
PAY_V3_PREFIX = "/v3/"


def _build_routes():
    routes = {}
    for module in (
        api_token,
        api_users,
        api_tags,
        api_qrcode,
        api_mass,
        api_media,
        api_messages,
        api_subscribe,
        api_jssdk,
        oauth,
        pay,
        pay_jsapi,
        pay_bill,
        pay_v3,
        control,
    ):
        for method, path, fn in module.ROUTES:
            routes.setdefault(path, {})[method] = fn
    return routes


ROUTES = _build_routes()


class Injection:
    """A fault armed with ``fake.inject`` for ``times`` matching calls, after ``skip`` of them went through."""

    def __init__(
        self,
        path_suffix,
        errcode=None,
        errmsg=None,
        latency=0.0,
        timeout=False,
        reset=False,
        http_status=None,
        times=1,
        skip=0,
    ):
        self.path_suffix = "/" + path_suffix.lstrip("/")
        self.errcode = errcode
        self.errmsg = errmsg
        self.latency = float(latency or 0)
        self.timeout = timeout
        self.reset = reset
        self.http_status = http_status
        self.remaining = times
        self.skip = skip
        self.hits = 0

    def matches(self, path):
        return self.remaining > 0 and path.endswith(self.path_suffix)

    def as_dict(self):
        return {k: v for k, v in vars(self).items()}


def dispatch(fake, req):
    """Handle one request; return a Reply, or None to drop the connection."""
    injection = fake._take_injection(req.path)
    if injection is not None:
        if injection.latency:
            fake._stop_event.wait(injection.latency)
        if injection.reset or injection.timeout:
            if injection.timeout:
                fake._stop_event.wait(fake.hang_seconds)
            fake._log_call(req, "reset" if injection.reset else "timeout", 0)
            return None
        if injection.errcode is not None:
            reply = _injected_error(fake, req, injection)
            fake._log_call(req, reply.errcode, reply.status)
            return reply
        if injection.http_status:
            reply = Reply(b"", injection.http_status, "text/plain", errcode=injection.http_status)
            fake._log_call(req, reply.errcode, reply.status)
            return reply
    reply = _route(fake, req)
    if not req.path.startswith(UNLOCKED_PREFIX):
        fake._log_call(req, reply.errcode, reply.status)
    return reply


def _injected_error(fake, req, injection):
    if req.path.startswith(PAY_PREFIXES):
        with fake.lock:
            return pay.injected_reply(fake, req, injection.errcode, injection.errmsg)
    if req.path.startswith(PAY_V3_PREFIX):
        with fake.lock:
            return pay_v3.injected_reply(fake, req, injection.errcode, injection.errmsg)
    return json_reply(WeChatError(injection.errcode, injection.errmsg or "injected error").body())


def _route(fake, req):
    methods, args = ROUTES.get(req.path), ()
    if methods is None:
        methods, args = pay_v3.match(req.path)
    if methods is None:
        if not req.path.startswith(UNLOCKED_PREFIX) and req.path != "/favicon.ico":
            fake.violation("unknown_endpoint", f"{req.method} {req.path} is not served by the fake")
        return json_reply({"errcode": -1, "errmsg": f"fake: unknown endpoint {req.path}"}, 404)
    fn = methods.get(req.method)
    if fn is None:
        return json_reply(WeChatError(43002 if "POST" in methods else 43001).body())
    try:
        if req.path.startswith(UNLOCKED_PREFIX):
            result = fn(fake, req)
        else:
            with fake.lock:
                result = fn(fake, req, *args)
    except WeChatError as exc:
        return json_reply(exc.body())
    except Exception:  # a bug in the fake: make it loud but keep serving
        fake.errors.append(traceback.format_exc())
        return json_reply({"errcode": -1, "errmsg": "fake internal error"}, 500)
    return result if isinstance(result, Reply) else json_reply(result)


class Handler(BaseHTTPRequestHandler):
    """One connection, one request (HTTP/1.0: nothing lingers after stop())."""

    fake = None
    server_version = "FakeWeChat/1.0"
    timeout = 60

    def do_GET(self):
        self._handle()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def log_message(self, fmt, *args):
        pass

    def _handle(self):
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        req = Request(self.command, parts.path, query, body, self.headers)
        req.target = self.path  # path and query as sent (what a WeChat Pay v3 signature covers)
        reply = dispatch(self.fake, req)
        if reply is None:
            self._drop()
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    def _drop(self):
        """Close the socket with a TCP reset and no answer."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.rfile.close()
            self.connection.close()
        except OSError:
            pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        pass  # dropped connections and client timeouts are expected here


def make_server(fake, host, port):
    handler = type("FakeWeChatHandler", (Handler,), {"fake": fake})
    return Server((host, port), handler)
