"""Pushing signed callbacks to an account's webhook, the way WeChat's servers do.

Real-platform rules mimicked:
- POST to the configured URL with query ``signature`` (sha1 of sorted token,
  timestamp, nonce), ``timestamp``, ``nonce`` and ``openid``;
- safe mode adds ``encrypt_type=aes`` and ``msg_signature`` and the body is
  ``<xml><ToUserName/><Encrypt/></xml>``; compatible mode sends the plain fields
  plus ``<Encrypt>``;
- no answer within 5 s (``callback_timeout``) -> the same event is sent again,
  up to 3 retries (``callback_retries``);
- the answer is "success"/empty or a passive reply XML; in safe mode the reply
  must be encrypted (``<Encrypt>``, ``<MsgSignature>``, ``<TimeStamp>``,
  ``<Nonce>``) and its ``ToUserName``/``FromUserName`` must mirror the event
  (violation ``bad_passive_reply`` otherwise);
- a ``LOCATION`` report (sent when a user who allowed it enters the chat) may
  only be answered "success" (violation ``bad_passive_reply`` otherwise).
"""

import string
import time

import requests

from .crypto import MessageCrypto, callback_signature, msg_signature
from .xmlutil import build_xml, parse_xml


class WebhookResult:
    """Outcome of pushing one event (all retries included)."""

    def __init__(self, event):
        self.event = event
        self.openid = event.get("FromUserName")
        self.status_code = None
        self.text = ""
        self.reply = None
        self.reply_problem = None
        self.attempts = 0
        self.error = None
        self.elapsed = 0.0

    @property
    def ok(self):
        return self.error is None and self.status_code == 200

    def as_dict(self):
        return {
            "status": self.status_code,
            "body": self.text,
            "reply": self.reply,
            "attempts": self.attempts,
            "error": self.error,
            "reply_problem": self.reply_problem,
            "openid": self.openid,
            "event": self.event,
        }

    def __repr__(self):
        return "<WebhookResult %s status=%s attempts=%d error=%s>" % (
            self.event.get("Event") or self.event.get("MsgType"),
            self.status_code,
            self.attempts,
            self.error,
        )


def signed_request(acc, xml, event, timestamp, nonce):
    """Return (query params, body text) for one callback POST."""
    params = {"signature": callback_signature(acc.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
    sender = event.get("FromUserName")
    if sender and sender != "mphelper":
        params["openid"] = sender
    if acc.encrypt_mode == "plain":
        return params, xml
    encrypt = MessageCrypto(acc.token, acc.aes_key, acc.appid).encrypt(xml)
    params["encrypt_type"] = "aes"
    params["msg_signature"] = msg_signature(acc.token, timestamp, nonce, encrypt)
    if acc.encrypt_mode == "safe":
        return params, build_xml({"ToUserName": event.get("ToUserName", acc.original_id), "Encrypt": encrypt})
    plain = xml.rstrip()
    end = plain.rfind("</xml>")
    return params, plain[:end] + f"<Encrypt><![CDATA[{encrypt}]]></Encrypt>" + plain[end:]


def parse_reply(acc, event, text):
    """Return (reply dict or None, problem or None) for a webhook answer."""
    text = (text or "").strip()
    if not text or text == "success":
        return None, None
    if event.get("MsgType") == "event" and event.get("Event") == "LOCATION":
        # 获取用户地理位置: the report is acknowledged with "success"; no message may answer it.
        return None, 'a LOCATION report answered with a message (only "success" is allowed)'
    try:
        data = parse_xml(text)
    except ValueError:
        return None, 'reply is neither "success" nor XML'
    problem = None
    if "Encrypt" in data and acc.encrypt_mode != "plain":
        expected = msg_signature(acc.token, data.get("TimeStamp", ""), data.get("Nonce", ""), data["Encrypt"])
        if expected != data.get("MsgSignature"):
            problem = "encrypted reply has a bad MsgSignature"
        try:
            data = parse_xml(MessageCrypto(acc.token, acc.aes_key, acc.appid).decrypt(data["Encrypt"]))
        except ValueError as exc:
            return None, f"cannot decrypt reply: {exc}"
    elif acc.encrypt_mode == "safe":
        problem = "plain passive reply in safe mode"
    if data.get("ToUserName") != event.get("FromUserName") or data.get("FromUserName") != acc.original_id:
        problem = problem or "reply ToUserName/FromUserName do not mirror the event"
    if not data.get("MsgType"):
        problem = problem or "reply without MsgType"
    return data, problem


def deliver(fake, acc, event, xml=None, retries=True):
    """POST ``event`` (dict; ``xml`` overrides the rendered body) to ``acc.webhook_url``."""
    result = WebhookResult(event)
    url = acc.webhook_url
    if not url:
        result.error = "account has no webhook_url"
        return result
    xml = xml if xml is not None else build_xml(event)
    with fake.lock:
        nonce = "".join(fake.rng.choices(string.digits, k=10))
    # the transport timestamp is wall-clock time: the product checks it against its own clock
    # (events carry the fake's business time in CreateTime)
    timestamp = str(int(time.time()))
    params, body = signed_request(acc, xml, event, timestamp, nonce)
    attempts = 1 + (fake.callback_retries if retries else 0)
    session = requests.Session()
    session.trust_env = False
    started = time.monotonic()
    try:
        for attempt in range(attempts):
            if attempt and fake._stop_event.is_set():
                break
            result.attempts += 1
            try:
                resp = session.post(
                    url,
                    params=params,
                    data=body.encode("utf-8"),
                    headers={"Content-Type": "text/xml", "User-Agent": "Mozilla/4.0"},
                    timeout=fake.callback_timeout,
                )
            except requests.Timeout:
                result.error = "timeout"
                fake.record_delivery(event, None, "timeout")
                continue
            except requests.RequestException as exc:
                result.error = f"connection error: {exc.__class__.__name__}"
                fake.record_delivery(event, None, result.error)
                continue
            result.error = None
            result.status_code = resp.status_code
            result.text = resp.text
            fake.record_delivery(event, resp.status_code, resp.text)
            if resp.status_code == 200:
                result.reply, result.reply_problem = parse_reply(acc, event, resp.text)
                if result.reply_problem:
                    fake.violation("bad_passive_reply", result.reply_problem, acc.appid)
            break
    finally:
        session.close()
    result.elapsed = time.monotonic() - started
    return result
