"""One-to-one messages and the menu: ``message/template/send``,
``message/custom/send``, ``menu/create|get|delete``,
``template/get_all_private_template``.

Real-platform rules mimicked:
- template messages need a certified service account (48001), a template the
  account added (40037) and a following user (43004); ``client_msg_id`` makes
  the send idempotent for the same openid for 10 minutes; the result arrives as a
  signed ``TEMPLATESENDJOBFINISH`` event (Status ``success``);
- customer-service messages only within 48 h after the user's last message,
  menu click, follow, scan or payment (45015 otherwise: violation
  ``cs_outside_window``), at most 5 per window (45047: violation
  ``cs_over_limit``), and after a follow/scan at most 3 a minute (45047);
- a menu has 1-3 buttons with at most 5 sub-buttons each (40016/40017);
  ``menu/get`` without a menu answers 46003.
"""

import copy

from .api_token import authenticate
from .errors import WeChatError

CS_WINDOW = 48 * 3600
CS_PER_WINDOW = 5
CS_PER_MINUTE_AFTER_FOLLOW = 3
CS_MSGTYPES = (
    "text",
    "image",
    "voice",
    "video",
    "music",
    "news",
    "mpnews",
    "mpnewsarticle",
    "msgmenu",
    "wxcard",
    "miniprogrampage",
)
TEMPLATE_DEDUPE_SECONDS = 600


def _follower(acc, openid):
    user = acc.users.get(openid) if isinstance(openid, str) else None
    if user is None:
        raise WeChatError(40003)
    return user


def template_send(fake, req):
    acc = authenticate(fake, req)
    body = req.json()
    if not acc.certified:
        raise WeChatError(48001)
    template_id = body.get("template_id")
    if template_id not in acc.templates:
        raise WeChatError(40037)
    touser = body.get("touser")
    user = _follower(acc, touser)
    if not user.subscribe:
        raise WeChatError(43004)
    now = fake.now()
    cmid = body.get("client_msg_id")
    if cmid:
        previous = acc.template_dedupe.get((touser, cmid))
        if previous is not None and now - previous[1] < TEMPLATE_DEDUPE_SECONDS:
            return {"errcode": 0, "errmsg": "ok", "msgid": previous[0]}
    msgid = fake.next_id("template")
    acc.template_messages.append(
        {
            "msgid": msgid,
            "touser": touser,
            "template_id": template_id,
            "url": body.get("url"),
            "data": body.get("data"),
            "miniprogram": body.get("miniprogram"),
            "client_msg_id": cmid,
            "t": now,
        }
    )
    if cmid:
        acc.template_dedupe[(touser, cmid)] = (msgid, now)
    fake.schedule(fake.async_delay, _template_finished, fake, acc, touser, msgid)
    return {"errcode": 0, "errmsg": "ok", "msgid": msgid}


def _template_finished(fake, acc, openid, msgid):
    with fake.lock:
        event = {
            "ToUserName": acc.original_id,
            "FromUserName": openid,
            "CreateTime": int(fake.now()),
            "MsgType": "event",
            "Event": "TEMPLATESENDJOBFINISH",
            "MsgID": msgid,
            "Status": "success",
        }
        url = acc.webhook_url
    if url:
        fake.deliver(acc, event, retries=True)


def custom_send(fake, req):
    acc = authenticate(fake, req)
    body = req.json()
    msgtype = body.get("msgtype")
    if msgtype not in CS_MSGTYPES:
        raise WeChatError(40008)
    if not isinstance(body.get(msgtype), dict):
        raise WeChatError(44004)
    if msgtype == "text" and not body["text"].get("content"):
        raise WeChatError(44004)
    touser = body.get("touser")
    user = _follower(acc, touser)
    now = fake.now()
    if not user.subscribe or user.cs_open_t is None or now - user.cs_open_t > CS_WINDOW:
        fake.violation("cs_outside_window", f"custom message to {touser} outside the 48 h window", acc.appid)
        raise WeChatError(45015)
    if user.cs_count >= CS_PER_WINDOW:
        fake.violation(
            "cs_over_limit", "more than %d custom messages to %s in one window" % (CS_PER_WINDOW, touser), acc.appid
        )
        raise WeChatError(45047)
    if user.cs_kind in ("follow", "scan"):
        recent = [t for t in user.cs_times if now - t < 60]
        if len(recent) >= CS_PER_MINUTE_AFTER_FOLLOW:
            fake.violation(
                "cs_over_limit",
                "more than %d custom messages a minute to %s after %s"
                % (CS_PER_MINUTE_AFTER_FOLLOW, touser, user.cs_kind),
                acc.appid,
            )
            raise WeChatError(45047)
    user.cs_count += 1
    user.cs_times.append(now)
    acc.cs_messages.append({"touser": touser, "msgtype": msgtype, msgtype: body[msgtype], "t": now})
    return {"errcode": 0, "errmsg": "ok"}


def menu_create(fake, req):
    acc = authenticate(fake, req)
    body = req.json()
    buttons = body.get("button")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        raise WeChatError(40016)
    for button in buttons:
        if not isinstance(button, dict) or len(button.get("sub_button") or []) > 5:
            raise WeChatError(40017, "invalid sub button size")
    acc.menu = copy.deepcopy(body)
    return {"errcode": 0, "errmsg": "ok"}


def menu_get(fake, req):
    acc = authenticate(fake, req)
    if acc.menu is None:
        raise WeChatError(46003)
    return {"menu": copy.deepcopy(acc.menu)}


def menu_delete(fake, req):
    acc = authenticate(fake, req)
    acc.menu = None
    return {"errcode": 0, "errmsg": "ok"}


def template_list(fake, req):
    acc = authenticate(fake, req)
    return {"template_list": [dict(t) for t in acc.templates.values()]}


ROUTES = [
    ("POST", "/cgi-bin/message/template/send", template_send),
    ("POST", "/cgi-bin/message/custom/send", custom_send),
    ("POST", "/cgi-bin/menu/create", menu_create),
    ("GET", "/cgi-bin/menu/get", menu_get),
    ("GET", "/cgi-bin/menu/delete", menu_delete),
    ("GET", "/cgi-bin/template/get_all_private_template", template_list),
]
