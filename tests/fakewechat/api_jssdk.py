"""JS-SDK: ``GET /cgi-bin/ticket/getticket`` and a browser stand-in for the JS-SDK
(``GET /open/js/jweixin-1.6.0.js`` plus ``/_fake/jssdk/config|subscribe``), enough
for an H5 page to sign ``wx.config`` and offer ``<wx-open-subscribe>``.

Real-platform rules mimicked:
- ``ticket/getticket?access_token=…&type=jsapi`` answers ``{"errcode":0,"errmsg":"ok",
  "ticket":…,"expires_in":7200}``; every call issues a new ticket and the previous
  ones stay valid until their own expiry (calls are counted in
  ``acc.jsapi_ticket_calls``: the product must cache the ticket); other types 40097;
- the page signature is ``sha1("jsapi_ticket=T&noncestr=N&timestamp=TS&url=URL")``
  with URL the page address without its ``#fragment``, T a ticket of that appid
  not expired; otherwise ``wx.config`` fails with ``config:invalid signature``
  (violation ``jssdk_bad_signature``) and the page's ``wx.error`` callbacks fire;
- the open tag ``wx-open-subscribe`` works only after a good ``wx.config`` whose
  ``openTagList`` names it (violation ``jssdk_open_tag_not_declared`` otherwise);
  ``template`` is a comma-separated list of subscribe-notice template ids (an
  unknown one -> error event ``errCode 20001``); the choice is recorded per
  template (see api_subscribe.py) and pushed as ``subscribe_msg_popup_event``
  (PopupScene 1); the element then dispatches ``success`` with ``detail =
  {errMsg: "subscribe:ok", subscribeDetails: JSON.stringify({<id>:
  JSON.stringify({status: "accept"})})}``.

What a page must do (sandbox mode, or a tour):
1. load ``<fake url>/open/js/jweixin-1.6.0.js`` (instead of
   ``https://res.wx.qq.com/open/js/jweixin-1.6.0.js``) with a classic
   ``<script src>`` (the script finds the fake from its own ``src``, or from
   ``window.FAKEWECHAT_URL`` set before it);
2. call ``wx.config({appId, timestamp, nonceStr, signature, jsApiList,
   openTagList: ["wx-open-subscribe"]})`` with a signature made server-side from a
   ticket fetched from the fake's ``ticket/getticket`` and the exact page URL;
   ``wx.ready(fn)`` / ``wx.error(fn)`` fire when the fake has answered
   (``wx.__fake.status`` is idle | pending | ready | error; a ``fakewechat:config``
   event is dispatched on ``document``);
3. render ``<wx-open-subscribe template="id1,id2">`` with its
   ``<script type="text/wxtag-template">`` content (the stand-in copies that
   content into a ``span.fakewechat-open-subscribe`` inside the element, so a tour
   can click it) and listen for ``success`` / ``error``;
4. the browser user is, in order: ``window.FAKEWECHAT_OPENID``, the page's
   ``fake_openid`` query parameter, the page's ``fakewechat_openid`` cookie, a
   ``fakewechat_openid`` cookie sent to the fake, ``fake.set_browser_user(appid,
   openid)``, else a new visitor (as oauth.py does);
5. the user's answer is "accept" unless the element has ``data-fake-choice="reject"``
   or the page sets ``window.FAKEWECHAT_SUBSCRIBE_CHOICE = "reject"``.

- the JS-SDK interfaces ``getLocation`` and ``openLocation`` work only after a good
  ``wx.config`` whose ``jsApiList`` names them (violation ``jssdk_api_not_declared``
  otherwise, and the call fails); ``getLocation`` gives the browser user's location
  (``fake.set_browser_location`` / ``POST /_fake/browser_location``), or fails with
  ``getLocation:fail auth deny`` when none was set (the user refused); ``openLocation``
  needs numeric ``latitude`` (-90..90) and ``longitude`` (-180..180) and is recorded in
  ``fake.jssdk_calls`` (the page's ``wx.__fake.openedLocation`` too);
- ``chooseWXPay`` (WeChat Pay JSAPI, declared in ``jsApiList`` like the others) pays the
  order of ``package`` ``prepay_id=…`` as the session's user: the rules (paySign, payer,
  expiry, 支付授权目录) are in pay_jsapi.py; the answer is ``chooseWXPay:ok``,
  ``chooseWXPay:cancel`` (the user's choice ``window.FAKEWECHAT_PAY_CHOICE = "cancel"``,
  sent as ``args.choice``; ``"fail"`` fails) or ``chooseWXPay:fail …``; the page's
  ``wx.__fake.lastPay`` holds the arguments it passed.

Wire protocol (JSON bodies sent as ``text/plain``, answers carry
``Access-Control-Allow-Origin: *``; OPTIONS preflights are answered too):
- ``POST /_fake/jssdk/config`` {appId, timestamp, nonceStr, signature, jsApiList,
  openTagList, url, fake_openid} -> {errMsg: "config:ok", session, openid} or
  {errMsg: "config:invalid signature" | "config:invalid appId" | …};
- ``POST /_fake/jssdk/subscribe`` {session, appId, templates: [ids] or "id1,id2",
  url, choice} -> {errMsg: "subscribe:ok", subscribeDetails} or {errMsg:
  "subscribe:fail …", errCode};
- ``POST /_fake/jssdk/call`` {session, appId, api, args} -> {errMsg: "<api>:ok", …} or
  {errMsg: "<api>:fail …"}.
"""

import json
import os
import string

from .api_subscribe import record_choice
from .api_token import authenticate
from .crypto import jssdk_signature
from .errors import WeChatError
from .pay_jsapi import choose_wx_pay
from .web import Reply, json_reply

TICKET_TTL = 7200
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "600",
}
JS_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "jweixin.js")
_ALPHABET = string.ascii_letters + string.digits + "-_"


def getticket(fake, req):
    acc = authenticate(fake, req)
    if req.query.get("type") != "jsapi":
        raise WeChatError(40097)
    acc.jsapi_ticket_calls += 1
    now = fake.now()
    ticket = "".join(fake.rng.choices(_ALPHABET, k=86))
    fake.jsapi_tickets[ticket] = {"appid": acc.appid, "issued_at": now, "expires_at": now + TICKET_TTL}
    return {"errcode": 0, "errmsg": "ok", "ticket": ticket, "expires_in": TICKET_TTL}


def script(fake, req):
    with open(JS_PATH, encoding="utf-8") as fh:
        body = fh.read()
    return Reply(body, 200, "application/javascript; charset=utf-8", headers=dict(CORS))


def _cors(data, status=200):
    reply = json_reply(data, status)
    reply.headers.update(CORS)
    return reply


def preflight(fake, req):
    return Reply(b"", 204, "text/plain", headers=dict(CORS))


def _body(req):
    try:
        data = json.loads((req.body or b"{}").decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _browser_openid(fake, req, acc, body):
    openid = body.get("fake_openid") or req.cookies.get("fakewechat_openid") or fake.browser_users.get(acc.appid)
    if not openid:
        openid = acc.new_openid()
        fake.browser_users[acc.appid] = openid
    acc.ensure_user(openid)
    return openid


def valid_signature(fake, appid, nonce, timestamp, url, signature):
    """True when ``signature`` was made from an unexpired jsapi_ticket of ``appid`` (caller holds the lock)."""
    now = fake.now()
    return any(
        t["appid"] == appid and now < t["expires_at"] and jssdk_signature(ticket, nonce, timestamp, url) == signature
        for ticket, t in fake.jsapi_tickets.items()
    )


def config(fake, req):
    body = _body(req)
    if body is None:
        return _cors({"errMsg": "config:fail bad request body"}, 400)
    appid = body.get("appId")
    with fake.lock:
        acc = fake.accounts.get(appid or "")
        if acc is None:
            fake.violation("jssdk_bad_signature", f"wx.config with unknown appId {appid!r}")
            return _cors({"errMsg": "config:invalid appId"})
        url = body.get("url") or ""
        args = (str(body.get("nonceStr") or ""), str(body.get("timestamp") or ""), url, body.get("signature"))
        if not valid_signature(fake, appid, *args):
            has_ticket = any(t["appid"] == appid and fake.now() < t["expires_at"] for t in fake.jsapi_tickets.values())
            why = "signature does not match" if has_ticket else "no unexpired jsapi_ticket was issued to this appid"
            fake.violation("jssdk_bad_signature", f"wx.config for {url}: {why}", appid)
            return _cors({"errMsg": "config:invalid signature"})
        openid = _browser_openid(fake, req, acc, body)
        session = "".join(fake.rng.choices(_ALPHABET, k=32))
        fake.jssdk_sessions[session] = {
            "appid": appid,
            "openid": openid,
            "url": url,
            "jsApiList": list(body.get("jsApiList") or []),
            "openTagList": list(body.get("openTagList") or []),
            "t": fake.now(),
        }
    return _cors({"errMsg": "config:ok", "session": session, "openid": openid})


def subscribe(fake, req):
    body = _body(req)
    if body is None:
        return _cors({"errMsg": "subscribe:fail bad request body", "errCode": 10004}, 400)
    templates = body.get("templates") or []
    if isinstance(templates, str):
        templates = templates.split(",")
    templates = [t.strip() for t in templates if isinstance(t, str) and t.strip()]
    choice = body.get("choice") or "accept"
    with fake.lock:
        session = fake.jssdk_sessions.get(body.get("session") or "")
        if session is None or session["appid"] != body.get("appId", session["appid"]):
            return _cors({"errMsg": "subscribe:fail wx.config has not succeeded", "errCode": -1})
        acc = fake.accounts[session["appid"]]
        if "wx-open-subscribe" not in session["openTagList"]:
            fake.violation(
                "jssdk_open_tag_not_declared", "wx-open-subscribe used without it in wx.config openTagList", acc.appid
            )
            return _cors({"errMsg": "subscribe:fail open tag not in openTagList", "errCode": -1})
        if not templates:
            return _cors({"errMsg": "subscribe:fail template is empty", "errCode": 10001})
        if choice not in ("accept", "reject"):
            return _cors({"errMsg": "subscribe:fail bad choice", "errCode": 10004})
        try:
            event = record_choice(fake, acc, session["openid"], templates, choice, scene=1)
        except ValueError as exc:
            return _cors({"errMsg": f"subscribe:fail {exc}", "errCode": 20001})
        url = acc.webhook_url
    if url:
        fake.schedule(fake.async_delay, fake.deliver, acc, event)
    details = {tid: json.dumps({"status": choice}) for tid in templates}
    return _cors({"errMsg": "subscribe:ok", "subscribeDetails": json.dumps(details)})


JS_APIS = ("getLocation", "openLocation", "chooseWXPay")


def _number(value, low, high):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if low <= number <= high else None


def call(fake, req):
    body = _body(req)
    if body is None:
        return _cors({"errMsg": "call:fail bad request body"}, 400)
    api, args = body.get("api"), body.get("args") if isinstance(body.get("args"), dict) else {}
    if api not in JS_APIS:
        return _cors({"errMsg": f"{api}:fail not supported by the fake"})
    with fake.lock:
        session = fake.jssdk_sessions.get(body.get("session") or "")
        if session is None or session["appid"] != body.get("appId", session["appid"]):
            return _cors({"errMsg": f"{api}:fail wx.config has not succeeded"})
        if api not in session["jsApiList"]:
            fake.violation(
                "jssdk_api_not_declared", f"wx.{api} called without it in wx.config jsApiList", session["appid"]
            )
            return _cors({"errMsg": f"{api}:fail the permission value is offline verifying"})
        fake.jssdk_calls.append(
            {"api": api, "appid": session["appid"], "openid": session["openid"], "args": args, "t": fake.now()}
        )
        if api == "chooseWXPay":
            return _cors(choose_wx_pay(fake, session, args))
        if api == "getLocation":
            point = fake.browser_locations.get((session["appid"], session["openid"])) or fake.browser_locations.get(
                (session["appid"], None)
            )
            if point is None:
                return _cors({"errMsg": "getLocation:fail auth deny"})
            return _cors(
                {"errMsg": "getLocation:ok", "latitude": point[0], "longitude": point[1], "speed": 0, "accuracy": 65}
            )
    # openLocation
    if _number(args.get("latitude"), -90, 90) is None or _number(args.get("longitude"), -180, 180) is None:
        return _cors({"errMsg": "openLocation:fail invalid latitude or longitude"})
    return _cors({"errMsg": "openLocation:ok"})


ROUTES = [
    ("GET", "/cgi-bin/ticket/getticket", getticket),
    ("GET", "/open/js/jweixin-1.6.0.js", script),
    ("POST", "/_fake/jssdk/config", config),
    ("OPTIONS", "/_fake/jssdk/config", preflight),
    ("POST", "/_fake/jssdk/subscribe", subscribe),
    ("OPTIONS", "/_fake/jssdk/subscribe", preflight),
    ("POST", "/_fake/jssdk/call", call),
    ("OPTIONS", "/_fake/jssdk/call", preflight),
]
