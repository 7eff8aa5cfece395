"""Parametric QR codes: ``POST /cgi-bin/qrcode/create`` and ``GET /cgi-bin/showqrcode``.

Real-platform rules mimicked:
- ``QR_SCENE`` (32-bit scene_id) / ``QR_STR_SCENE`` are temporary: ``expire_seconds``
  defaults to 60 and cannot exceed 2 592 000 (30 days; a longer value is clamped
  and logged as violation ``qr_expire_too_long``);
- ``QR_LIMIT_SCENE`` (scene_id 1-100 000) / ``QR_LIMIT_STR_SCENE`` are permanent,
  limited in number (``acc.permanent_qr_limit``, 45027 beyond); asking again for
  the same permanent scene returns the same ticket;
- ``scene_str`` is 1-64 characters; bad action name 40052, bad scene 40053;
- the answer is ``{ticket, expire_seconds, url}`` (no expire_seconds for
  permanent codes), ``url`` looks like ``http://weixin.qq.com/q/...`` and is the
  QR content; ``showqrcode?ticket=`` serves the PNG (unknown/expired: 404).
The fake remembers ticket -> scene so the simulator can follow "via a ticket".
"""

import io
import string

import qrcode

from .api_token import authenticate
from .errors import WeChatError
from .state import QrTicket
from .web import Reply

TEMPORARY = ("QR_SCENE", "QR_STR_SCENE")
PERMANENT = ("QR_LIMIT_SCENE", "QR_LIMIT_STR_SCENE")
MAX_EXPIRE = 2592000
_ALNUM = string.ascii_letters + string.digits


def new_ticket(fake, acc, action_name, scene, expire_seconds, synthetic=False):
    """Create and register a ticket (caller holds the lock)."""
    rng = fake.rng
    code = "".join(rng.choices(_ALNUM, k=22))
    ticket = "gQ" + "".join(rng.choices(_ALNUM, k=70)) + "=="
    url = "http://weixin.qq.com/q/" + code
    qr = QrTicket(ticket, acc.appid, action_name, scene, expire_seconds, fake.now(), url, synthetic)
    acc.qrcodes[ticket] = qr
    fake.qr_tickets[ticket] = qr
    return qr


def find_ticket(fake, acc, scene):
    """Latest live ticket of ``acc`` whose scene equals ``scene`` (or None)."""
    now = fake.now()
    for qr in reversed(list(acc.qrcodes.values())):
        if qr.scene == scene and not qr.expired(now):
            return qr
    return None


def _scene(action_name, info):
    scene = (info or {}).get("scene") if isinstance(info, dict) else None
    if not isinstance(scene, dict):
        raise WeChatError(40053)
    if action_name in ("QR_SCENE", "QR_LIMIT_SCENE"):
        value = scene.get("scene_id")
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
            raise WeChatError(40053)
        value = int(value)
        upper = 100000 if action_name == "QR_LIMIT_SCENE" else 2**32 - 1
        if not 1 <= value <= upper:
            raise WeChatError(40053)
        return value
    value = scene.get("scene_str")
    if not isinstance(value, str) or not 1 <= len(value) <= 64:
        raise WeChatError(40053)
    return value


def create(fake, req):
    acc = authenticate(fake, req)
    body = req.json()
    action_name = body.get("action_name")
    if action_name not in TEMPORARY + PERMANENT:
        raise WeChatError(40052)
    scene = _scene(action_name, body.get("action_info"))
    if action_name in PERMANENT:
        for qr in acc.qrcodes.values():
            if qr.action_name == action_name and qr.scene == scene and not qr.synthetic:
                return {"ticket": qr.ticket, "url": qr.url}
        count = sum(1 for qr in acc.qrcodes.values() if qr.permanent and not qr.synthetic)
        if count >= acc.permanent_qr_limit:
            fake.violation("permanent_qr_limit", "permanent QR codes exhausted (%d)" % count, acc.appid)
            raise WeChatError(45027)
        qr = new_ticket(fake, acc, action_name, scene, None)
        return {"ticket": qr.ticket, "url": qr.url}
    expire = body.get("expire_seconds", 60)
    try:
        expire = int(expire)
    except (TypeError, ValueError):
        raise WeChatError(47001) from None
    if expire <= 0:
        expire = 60
    if expire > MAX_EXPIRE:
        fake.violation("qr_expire_too_long", "expire_seconds %d clamped to %d" % (expire, MAX_EXPIRE), acc.appid)
        expire = MAX_EXPIRE
    qr = new_ticket(fake, acc, action_name, scene, expire)
    return {"ticket": qr.ticket, "expire_seconds": expire, "url": qr.url}


def png_for(url):
    buf = io.BytesIO()
    qrcode.make(url).save(buf)
    return buf.getvalue()


def show(fake, req):
    qr = fake.qr_tickets.get(req.query.get("ticket") or "")
    if qr is None or qr.expired(fake.now()):
        return Reply(b"not found", 404, "text/plain", errcode=404)
    req.appid = qr.appid
    return Reply(png_for(qr.url), 200, "image/png")


ROUTES = [
    ("POST", "/cgi-bin/qrcode/create", create),
    ("GET", "/cgi-bin/showqrcode", show),
]
