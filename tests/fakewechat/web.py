"""Minimal request/response objects shared by the endpoint modules.

Real-platform rule mimicked: the Official Account API answers HTTP 200 with a
JSON body (errors included); WeChat Pay answers HTTP 200 with XML.
"""

import json
from http.cookies import SimpleCookie

from .errors import WeChatError
from .xmlutil import parse_xml


class Request:
    def __init__(self, method, path, query, body, headers):
        self.method = method
        self.path = path
        self.query = query
        self.body = body
        self.headers = headers
        self.appid = None
        self._json = None

    @property
    def cookies(self):
        jar = SimpleCookie()
        try:
            jar.load(self.headers.get("Cookie") or "")
        except Exception:  # malformed cookie header: ignore like a browser would
            return {}
        return {k: m.value for k, m in jar.items()}

    def json(self):
        """The JSON object body; 44002 when empty, 47001 when not a JSON object."""
        if self._json is None:
            if not self.body or not self.body.strip():
                raise WeChatError(44002)
            try:
                data = json.loads(self.body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                raise WeChatError(47001) from None
            if not isinstance(data, dict):
                raise WeChatError(47001)
            self._json = data
        return self._json

    def logged_body(self):
        """Best-effort parsed body for the call log."""
        if not self.body:
            return None
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            pass
        try:
            return parse_xml(self.body)
        except ValueError:
            return self.body.decode("utf-8", "replace")[:2000]


class Reply:
    def __init__(self, body=b"", status=200, content_type="application/json; encoding=utf-8", headers=None, errcode=0):
        self.body = body if isinstance(body, bytes) else body.encode("utf-8")
        self.status = status
        self.content_type = content_type
        self.headers = headers or {}
        self.errcode = errcode


def json_reply(data, status=200):
    body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return Reply(body, status, errcode=data.get("errcode", 0) if isinstance(data, dict) else 0)


def html_reply(text, status=200):
    return Reply(text, status, "text/html; charset=utf-8", errcode=0 if status < 400 else status)


def redirect_reply(location):
    return Reply(b"", 302, "text/html; charset=utf-8", headers={"Location": location})
