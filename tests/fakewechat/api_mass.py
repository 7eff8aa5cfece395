"""Mass sends: ``message/mass/sendall``, ``mass/send``, ``mass/preview``,
``mass/get``, ``mass/delete`` and the ``MASSSENDJOBFINISH`` callback.

Real-platform rules mimicked:
- ``sendall`` targets ``filter.is_to_all`` or ``filter.tag_id``; the old
  ``group_id`` field (what wechatpy 1.8.18 sends) is refused here with 40050 and
  logged as violation ``mass_group_id``;
- ``send`` takes a ``touser`` list of 2..10 000 openids (40130 otherwise:
  violation ``mass_openid_list_size``);
- each follower receives at most 4 mass messages per calendar month (Beijing);
  extra recipients and non-followers are filtered by WeChat itself (no violation);
  in the job result ``TotalCount`` = followers in the audience, ``FilterCount`` =
  those left after filtering (ready to send, real WeChat semantics:
  FilterCount ~= SentCount + ErrorCount);
- ``clientmsgid`` is remembered for 24 h: the same id again -> 45065 with the
  existing ``msg_id``; again within ``acc.clientmsgid_retry_seconds`` (1 s) of the
  previous attempt -> 45066; longer than 64 bytes -> 45067; 24 h after the first
  send the id is forgotten (a new send);
- ``mpnews`` takes the media_id of a draft (``draft/add``, api_media.py); any
  other media_id -> 40007, violation ``mass_mpnews_not_draft``; images go as
  ``msgtype image`` with ``{"images": {"media_ids": [...]}}`` (missing or empty
  list 44004, a media_id never uploaded 40007);
- without clientmsgid, identical content to the same audience within 24 h is
  deduplicated (success with the old msg_id, nobody counted twice);
- 45028 when the account has no quota left (``acc.mass_quota_remaining``,
  violation ``mass_quota``); about 60 calls a minute (``acc.mass_rate_per_minute``,
  45011 beyond, violation ``rate_limit``);
- the result is pushed asynchronously as a signed ``MASSSENDJOBFINISH`` event
  (Status ``send success``, or ``send fail`` when every recipient failed);
  ``mass/get`` answers ``msg_status`` SENDING, SEND_SUCCESS, SEND_FAIL or DELETE.
"""

import hashlib
import json

from .api_token import authenticate
from .clock import month_key
from .errors import WeChatError
from .state import VISIBLE_SYSTEM_TAGS, MassJob

MONTHLY_LIMIT = 4
MSGTYPES = ("text", "mpnews", "image", "voice", "mpvideo", "wxcard", "music")
PAYLOAD_KEYS = {"image": "images"}  # mass image messages carry {"images": {"media_ids": [...]}}
DEDUPE_SECONDS = 86400
CLIENTMSGID_SECONDS = 86400


def _message(fake, acc, body, preview=False):
    msgtype = body.get("msgtype")
    if msgtype not in MSGTYPES:
        raise WeChatError(40008)
    key = PAYLOAD_KEYS.get(msgtype, msgtype)
    content = body.get(key)
    if preview and msgtype == "image" and content is None and isinstance(body.get("image"), dict):
        content = {"media_ids": [body["image"].get("media_id")]}  # preview also takes image.media_id
    if not isinstance(content, dict) or not content:
        raise WeChatError(44004 if msgtype in ("text", "image") else 44003)
    if msgtype == "text" and not content.get("content"):
        raise WeChatError(44004)
    if msgtype == "image":
        media_ids = content.get("media_ids")
        if not isinstance(media_ids, list) or not media_ids:
            raise WeChatError(44004)
        if any(m not in acc.media for m in media_ids):
            raise WeChatError(40007)
    if msgtype == "mpnews" and content.get("media_id") not in acc.drafts:
        fake.violation(
            "mass_mpnews_not_draft",
            f"mpnews media_id {content.get('media_id')!r} is not a draft (use draft/add)",
            acc.appid,
        )
        raise WeChatError(40007)
    return msgtype, content


def _rate(fake, acc):
    now = fake.now()
    times = acc.mass_call_times
    while times and times[0] <= now - 60:
        times.popleft()
    if len(times) >= acc.mass_rate_per_minute:
        fake.violation(
            "rate_limit", "mass API called more than %d times a minute" % acc.mass_rate_per_minute, acc.appid
        )
        raise WeChatError(45011)
    times.append(now)


def _clientmsgid(fake, acc, body):
    if "clientmsgid" not in body or body["clientmsgid"] in (None, ""):
        return None
    cid = str(body["clientmsgid"])
    if len(cid.encode("utf-8")) > 64:
        raise WeChatError(45067)
    record = acc.clientmsgids.get(cid)
    now = fake.now()
    if record is not None and now - record["created"] >= CLIENTMSGID_SECONDS:
        del acc.clientmsgids[cid]  # remembered for 24 h only
        record = None
    if record is not None:
        last, record["last_attempt"] = record["last_attempt"], now
        if now - last < acc.clientmsgid_retry_seconds:
            raise WeChatError(45066)
        raise WeChatError(45065, msg_id=record["msg_id"])
    return cid


def _answer(job):
    out = {"errcode": 0, "errmsg": "send job submission success", "msg_id": job.msg_id}
    if job.msgtype == "mpnews":
        out["msg_data_id"] = job.msg_data_id
    return out


def _submit(fake, acc, kind, body, audience, audience_key):
    msgtype, content = _message(fake, acc, body)
    cid = _clientmsgid(fake, acc, body)
    if acc.mass_quota_remaining is not None and acc.mass_quota_remaining <= 0:
        fake.violation("mass_quota", "mass send with no quota left", acc.appid)
        raise WeChatError(45028)
    now = fake.now()
    dedupe_key = None
    if cid is None:
        dedupe_key = hashlib.sha1(
            json.dumps([audience_key, msgtype, content], sort_keys=True, ensure_ascii=False).encode("utf-8")
        ).hexdigest()
        previous = acc.content_dedupe.get(dedupe_key)
        if previous is not None and now - previous[1] < DEDUPE_SECONDS:
            return _answer(acc.mass_jobs[previous[0]])
    job = MassJob(fake.next_id("mass"), fake.next_id("msg_data"), kind, msgtype, content, now, cid)
    _distribute(acc, job, audience, month_key(now))
    if acc.mass_quota_remaining is not None:
        acc.mass_quota_remaining -= 1
    if cid is not None:
        acc.clientmsgids[cid] = {"msg_id": job.msg_id, "last_attempt": now, "created": now}
    else:
        acc.content_dedupe[dedupe_key] = (job.msg_id, now)
    acc.mass_jobs[job.msg_id] = job
    fake.schedule(fake.async_delay, finish_job, fake, acc, job)
    return _answer(job)


def _distribute(acc, job, audience, month):
    seen = set()
    for openid in audience:
        if openid in seen:
            continue
        seen.add(openid)
        user = acc.users.get(openid)
        if user is None or not user.subscribe:
            job.filtered_not_follower += 1
            continue
        job.total_count += 1
        if user.mass_month != month:
            user.mass_month, user.mass_month_count = month, 0
        if user.mass_month_count >= MONTHLY_LIMIT:
            job.filtered_quota += 1
            continue
        if openid in acc.mass_fail_openids:
            job.error_count += 1
            continue
        user.mass_month_count += 1
        acc.received[openid].append(job.msg_id)
        job.recipients.append(openid)
    job.filter_count = job.total_count - job.filtered_quota
    job.sent_count = len(job.recipients)


def sendall(fake, req):
    acc = authenticate(fake, req)
    body = req.json()
    _rate(fake, acc)
    flt = body.get("filter")
    if not isinstance(flt, dict):
        raise WeChatError(47001)
    if flt.get("is_to_all") in (True, "true", 1):
        audience = [o for o, u in acc.users.items() if u.subscribe]
        return _submit(fake, acc, "sendall", body, audience, ["all"])
    if flt.get("tag_id") in (None, ""):
        if "group_id" in flt:
            fake.violation("mass_group_id", "mass/sendall filter uses the retired group_id; use tag_id", acc.appid)
            raise WeChatError(40050)
        raise WeChatError(47001)
    try:
        tag_id = int(flt["tag_id"])
    except (TypeError, ValueError):
        raise WeChatError(45159) from None
    if tag_id not in acc.tags and tag_id not in VISIBLE_SYSTEM_TAGS:
        raise WeChatError(45159)
    audience = [o for o, u in acc.users.items() if u.subscribe and tag_id in u.tagids]
    return _submit(fake, acc, "sendall", body, audience, ["tag", tag_id])


def send(fake, req):
    acc = authenticate(fake, req)
    body = req.json()
    _rate(fake, acc)
    touser = body.get("touser")
    if not isinstance(touser, list) or not all(isinstance(o, str) for o in touser):
        raise WeChatError(40130)
    if not 2 <= len(touser) <= 10000:
        fake.violation("mass_openid_list_size", "mass/send with %d openids (2..10000)" % len(touser), acc.appid)
        raise WeChatError(40130)
    key = ["openids", hashlib.sha1("\n".join(sorted(set(touser))).encode("utf-8")).hexdigest()]
    return _submit(fake, acc, "send", body, touser, key)


def preview(fake, req):
    acc = authenticate(fake, req)
    body = req.json()
    _rate(fake, acc)
    msgtype, content = _message(fake, acc, body, preview=True)
    touser, towxname = body.get("touser"), body.get("towxname")
    if touser:
        user = acc.users.get(touser) if isinstance(touser, str) else None
        if user is None:
            raise WeChatError(40003)
        if not user.subscribe:
            raise WeChatError(43004)
    elif not towxname:
        raise WeChatError(40003)
    msg_id = fake.next_id("mass")
    acc.previews.append(
        {
            "msg_id": msg_id,
            "touser": touser,
            "towxname": towxname,
            "msgtype": msgtype,
            "content": content,
            "t": fake.now(),
        }
    )
    return {"errcode": 0, "errmsg": "preview success", "msg_id": msg_id}


def _job(acc, body):
    try:
        job = acc.mass_jobs.get(int(body.get("msg_id")))
    except (TypeError, ValueError):
        job = None
    if job is None:
        raise WeChatError(40007, "invalid msg_id")
    return job


def get(fake, req):
    acc = authenticate(fake, req)
    job = _job(acc, req.json())
    return {"msg_id": job.msg_id, "msg_status": job.status}


def delete(fake, req):
    acc = authenticate(fake, req)
    job = _job(acc, req.json())
    job.status = "DELETE"
    return {"errcode": 0, "errmsg": "ok"}


def finish_job(fake, acc, job):
    """Background: mark the job done and push MASSSENDJOBFINISH to the webhook."""
    with fake.lock:
        if job.status == "SENDING":
            job.status = "SEND_FAIL" if job.error_count and not job.sent_count else "SEND_SUCCESS"
        event = {
            "ToUserName": acc.original_id,
            "FromUserName": "mphelper",
            "CreateTime": int(fake.now()),
            "MsgType": "event",
            "Event": "MASSSENDJOBFINISH",
            "MsgID": job.msg_id,
            "Status": "send fail" if job.status == "SEND_FAIL" else "send success",
            "TotalCount": job.total_count,
            "FilterCount": job.filter_count,
            "SentCount": job.sent_count,
            "ErrorCount": job.error_count,
            "CopyrightCheckResult": {"Count": 0, "ResultList": {}, "CheckState": 1},
        }
        url = acc.webhook_url
    if url:
        fake.deliver(acc, event, retries=True)


ROUTES = [
    ("POST", "/cgi-bin/message/mass/sendall", sendall),
    ("POST", "/cgi-bin/message/mass/send", send),
    ("POST", "/cgi-bin/message/mass/preview", preview),
    ("POST", "/cgi-bin/message/mass/get", get),
    ("POST", "/cgi-bin/message/mass/delete", delete),
]
