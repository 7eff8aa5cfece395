"""One-time subscribe notices (订阅通知): ``POST /cgi-bin/message/subscribe/bizsend``,
the user's choice (recorded by the JS-SDK stand-in, see api_jssdk.py, or by
``fake.subscribe_accept``) and the three signed events.

Real-platform rules mimicked
(https://developers.weixin.qq.com/doc/service/guide/product/subscription_messages/push.html):
- the member opts in on an H5 page through the open tag ``wx-open-subscribe``;
  each "accept" of a template allows exactly one ``bizsend`` of that template to
  that user; accepts accumulate (3 clicks -> 3 sends); a send consumes one;
- the choice is pushed as ``subscribe_msg_popup_event``::

      <SubscribeMsgPopupEvent><List><TemplateId/><SubscribeStatusString>accept|reject
      </SubscribeStatusString><PopupScene>1</PopupScene></List>...</SubscribeMsgPopupEvent>

  (one ``List`` per template; PopupScene 1 = H5 page, 2 = article);
- the user turning notices off in the 服务通知 settings is pushed as
  ``subscribe_msg_change_event`` (``<SubscribeMsgChangeEvent><List><TemplateId/>
  <SubscribeStatusString>reject</SubscribeStatusString></List>``; only rejects are
  pushed) and voids the unused accepts (``fake.subscribe_change``);
- ``bizsend`` {touser, template_id, page, miniprogram, data}: certified account
  (48001), a subscribe template of the account (40037), a known openid (40003;
  following is not needed: non-followers get it in 服务通知), ``data`` under the
  keyword rules of keywords.py (47003, violation ``template_data_invalid``), one
  unused accept for (openid, template_id) (43101 ``user refuse to accept the msg``,
  violation ``subscribe_without_optin``); the answer carries no msgid (as the real
  one); the result comes as ``subscribe_msg_sent_event``::

      <SubscribeMsgSentEvent><List><TemplateId/><MsgID/><ErrorCode>0</ErrorCode>
      <ErrorStatus>success</ErrorStatus></List></SubscribeMsgSentEvent>
"""

from .api_messages import checked_data
from .api_token import authenticate
from .errors import WeChatError
from .xmlutil import Repeated


def _event(fake, acc, openid, name, **fields):
    event = {
        "ToUserName": acc.original_id,
        "FromUserName": openid,
        "CreateTime": int(fake.now()),
        "MsgType": "event",
        "Event": name,
    }
    event.update(fields)
    return event


def record_choice(fake, acc, openid, template_ids, status="accept", scene=1):
    """Record the user's popup choice for each template; return the popup event (caller holds the lock).
    Raises ValueError for an unknown template or status."""
    if status not in ("accept", "reject"):
        raise ValueError("status must be accept or reject")
    template_ids = [t for t in template_ids if t]
    if not template_ids:
        raise ValueError("no template id")
    unknown = [t for t in template_ids if t not in acc.subscribe_templates]
    if unknown:
        raise ValueError(f"not subscribe templates of {acc.appid}: {', '.join(unknown)}")
    acc.ensure_user(openid)
    now = fake.now()
    items = []
    for tid in template_ids:
        acc.subscribe_optins.append(
            {"openid": openid, "template_id": tid, "status": status, "scene": scene, "t": now, "used_by": None}
        )
        items.append({"TemplateId": tid, "SubscribeStatusString": status, "PopupScene": scene})
    return _event(fake, acc, openid, "subscribe_msg_popup_event", SubscribeMsgPopupEvent={"List": Repeated(items)})


def record_change(fake, acc, openid, template_ids):
    """The user turned the templates off in the notice settings: unused accepts are void;
    return the ``subscribe_msg_change_event`` (caller holds the lock)."""
    for optin in acc.subscribe_optins:
        if optin["openid"] == openid and optin["template_id"] in template_ids and optin["used_by"] is None:
            optin["used_by"] = "rejected"
    items = [{"TemplateId": tid, "SubscribeStatusString": "reject"} for tid in template_ids]
    return _event(fake, acc, openid, "subscribe_msg_change_event", SubscribeMsgChangeEvent={"List": Repeated(items)})


def bizsend(fake, req):
    acc = authenticate(fake, req)
    body = req.json()
    if not acc.certified:
        raise WeChatError(48001)
    template_id = body.get("template_id")
    template = acc.subscribe_templates.get(template_id)
    if template is None:
        raise WeChatError(40037)
    touser = body.get("touser")
    if not isinstance(touser, str) or touser not in acc.users:
        raise WeChatError(40003)
    data = checked_data(fake, acc, template, body.get("data"), what="subscribe notice")
    optins = [
        o
        for o in acc.subscribe_optins
        if o["openid"] == touser
        and o["template_id"] == template_id
        and o["status"] == "accept"
        and o["used_by"] is None
    ]
    if not optins:
        fake.violation(
            "subscribe_without_optin", f"bizsend {template_id} to {touser} without an unused accept", acc.appid
        )
        raise WeChatError(43101)
    msgid = fake.next_id("subscribe")
    optins[0]["used_by"] = msgid
    message = {
        "msgid": msgid,
        "touser": touser,
        "template_id": template_id,
        "page": body.get("page"),
        "miniprogram": body.get("miniprogram"),
        "data": data,
        "t": fake.now(),
    }
    acc.subscribe_messages.append(message)
    fake.schedule(fake.async_delay, _sent, fake, acc, message)
    return {"errcode": 0, "errmsg": "ok"}


def _sent(fake, acc, message):
    with fake.lock:
        item = {
            "TemplateId": message["template_id"],
            "MsgID": message["msgid"],
            "ErrorCode": 0,
            "ErrorStatus": "success",
        }
        event = _event(
            fake, acc, message["touser"], "subscribe_msg_sent_event", SubscribeMsgSentEvent={"List": Repeated([item])}
        )
        url = acc.webhook_url
    if url:
        fake.deliver(acc, event, retries=True)


ROUTES = [
    ("POST", "/cgi-bin/message/subscribe/bizsend", bizsend),
]
