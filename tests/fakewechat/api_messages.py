"""One-to-one messages and the menu: ``message/template/send``,
``message/custom/send``, ``menu/create|get|delete``,
``template/get_all_private_template``.

Real-platform rules mimicked:
- template messages need a certified service account (48001), a template the
  account has (40037; ``acc.delete_template`` simulates one deleted on WeChat)
  and a following user (43004); ``data`` must hold exactly the template's
  keywords within their type limits, no ``first``/``remark`` (47003, violation
  ``template_data_invalid``; rules in keywords.py); a user who refused the
  account's notices (``user.block_notices``) -> 43101 (the user's choice, not a
  client fault: recorded in ``acc.template_refused``, no violation);
  ``client_msg_id`` makes the send idempotent for the same openid for 10 minutes;
  the result arrives as a signed ``TEMPLATESENDJOBFINISH`` event with Status
  ``success``, ``failed:user block`` (the user blocked notices between send and
  delivery) or ``failed: system failed`` (``fake.template_fail_next``);
- customer-service messages need an open CS grant (state.py ``CS_GRANTS``: the
  user's message -> 5 in 48 h; follow / scan / CLICK / scancode -> 3 in 60 s;
  VIEW and a WeChat Pay payment -> nothing); grants do not add up: the
  quota is the largest open one and a send counts against every open grant.
  No open grant (or the user unfollowed) -> 45015, violation
  ``cs_outside_window``; open grants all used up -> 45047, violation
  ``cs_over_limit``; an image or voice message needs a temporary media of
  that type the account uploaded in the last 3 days (40007 otherwise);
  (https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Customer_Service_Messages.html);
- a menu has 1-3 buttons with at most 5 sub-buttons each (40016/40017);
  ``menu/get`` without a menu answers 46003.
"""

import copy

from .api_media import temporary_media
from .api_token import authenticate
from .errors import WeChatError
from .keywords import PUBLIC_FIELDS, check_data

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
LEGACY_TEMPLATE_KEYS = ("first", "remark")


def _follower(acc, openid):
    user = acc.users.get(openid) if isinstance(openid, str) else None
    if user is None:
        raise WeChatError(40003)
    return user


def checked_data(fake, acc, template, data, what="template message"):
    """The template ``data`` after the keyword rules (47003 + violation ``template_data_invalid``)."""
    legacy = [k for k in LEGACY_TEMPLATE_KEYS if isinstance(data, dict) and k in data]
    try:
        if legacy:
            raise WeChatError(47003, f"argument invalid! data.{legacy[0]} invalid (retired since 2023-05)")
        return check_data(data, template["keywords"])
    except WeChatError as exc:
        fake.violation("template_data_invalid", f"{what} {template['template_id']}: {exc.errmsg}", acc.appid)
        raise


def template_send(fake, req):
    acc = authenticate(fake, req)
    body = req.json()
    if not acc.certified:
        raise WeChatError(48001)
    template_id = body.get("template_id")
    template = acc.templates.get(template_id)
    if template is None:
        raise WeChatError(40037)
    touser = body.get("touser")
    user = _follower(acc, touser)
    if not user.subscribe:
        raise WeChatError(43004)
    data = checked_data(fake, acc, template, body.get("data"))
    now = fake.now()
    cmid = body.get("client_msg_id")
    if cmid:
        previous = acc.template_dedupe.get((touser, cmid))
        if previous is not None and now - previous[1] < TEMPLATE_DEDUPE_SECONDS:
            return {"errcode": 0, "errmsg": "ok", "msgid": previous[0]}
    if user.block_notices:
        acc.template_refused.append({"touser": touser, "template_id": template_id, "t": now})
        raise WeChatError(43101)
    msgid = fake.next_id("template")
    fail = acc.template_fail_next > 0
    if fail:
        acc.template_fail_next -= 1
    message = {
        "msgid": msgid,
        "touser": touser,
        "template_id": template_id,
        "url": body.get("url"),
        "data": data,
        "miniprogram": body.get("miniprogram"),
        "client_msg_id": cmid,
        "t": now,
        "status": None,  # set on delivery: success | failed:user block | failed: system failed
    }
    acc.template_messages.append(message)
    if cmid:
        acc.template_dedupe[(touser, cmid)] = (msgid, now)
    fake.schedule(fake.async_delay, _template_finished, fake, acc, user, message, fail)
    return {"errcode": 0, "errmsg": "ok", "msgid": msgid}


def _template_finished(fake, acc, user, message, fail):
    with fake.lock:
        if fail:
            status = "failed: system failed"
        elif user.block_notices:
            status = "failed:user block"
        else:
            status = "success"
        message["status"] = status
        event = {
            "ToUserName": acc.original_id,
            "FromUserName": message["touser"],
            "CreateTime": int(fake.now()),
            "MsgType": "event",
            "Event": "TEMPLATESENDJOBFINISH",
            "MsgID": message["msgid"],
            "Status": status,
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
    if msgtype in ("image", "voice") and not body[msgtype].get("media_id"):
        raise WeChatError(44004)
    touser = body.get("touser")
    user = _follower(acc, touser)
    if msgtype in ("image", "voice"):
        temporary_media(fake, acc, body[msgtype]["media_id"], msgtype)
    now = fake.now()
    grants = user.open_grants(now) if user.subscribe else []
    if not grants:
        fake.violation("cs_outside_window", f"custom message to {touser} with no open CS grant", acc.appid)
        raise WeChatError(45015)
    if not any(g["limit"] is None or g["used"] < g["limit"] for g in grants):
        used = ", ".join("%s %d/%d" % (g["kind"], g["used"], g["limit"]) for g in grants)
        fake.violation("cs_over_limit", f"custom message to {touser} beyond its CS quota ({used})", acc.appid)
        raise WeChatError(45047)
    for grant in grants:
        grant["used"] += 1
    acc.cs_messages.append({"touser": touser, "msgtype": msgtype, msgtype: body[msgtype], "t": now})
    return {"errcode": 0, "errmsg": "ok"}


# The custom menu's button types (自定义菜单 ``menu/create``); those that send an event carry a key.
KEYED_MENU_TYPES = (
    "click",
    "scancode_push",
    "scancode_waitmsg",
    "pic_sysphoto",
    "pic_photo_or_album",
    "pic_weixin",
    "location_select",
)
MENU_TYPES = (*KEYED_MENU_TYPES, "view", "miniprogram", "media_id", "article_id", "article_view_limited")


def menu_create(fake, req):
    acc = authenticate(fake, req)
    body = req.json()
    buttons = body.get("button")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        raise WeChatError(40016)
    for button in buttons:
        if not isinstance(button, dict) or len(button.get("sub_button") or []) > 5:
            raise WeChatError(40017, "invalid sub button size")
        for leaf in button.get("sub_button") or [button]:
            kind = leaf.get("type")
            if kind not in MENU_TYPES:
                raise WeChatError(40017, f"invalid button type {kind!r}")
            if kind in KEYED_MENU_TYPES and not 1 <= len(str(leaf.get("key") or "").encode()) <= 128:
                raise WeChatError(40019, "invalid button key size")
            if kind == "view" and not leaf.get("url"):
                raise WeChatError(40055, "invalid button url")
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
    return {"template_list": [{k: t[k] for k in PUBLIC_FIELDS} for t in acc.templates.values()]}


ROUTES = [
    ("POST", "/cgi-bin/message/template/send", template_send),
    ("POST", "/cgi-bin/message/custom/send", custom_send),
    ("POST", "/cgi-bin/menu/create", menu_create),
    ("GET", "/cgi-bin/menu/get", menu_get),
    ("GET", "/cgi-bin/menu/delete", menu_delete),
    ("GET", "/cgi-bin/template/get_all_private_template", template_list),
]
