"""Follower APIs: ``user/get``, ``user/info``, ``user/info/batchget``,
``user/info/updateremark``.

Real-platform rules mimicked:
- ``user/get`` pages 10 000 openids: ``total, count, data.openid, next_openid``;
  the last page still carries ``next_openid`` (its last openid) and the call
  after it answers ``count 0`` with no ``data`` and ``next_openid ""``;
- ``user/info`` returns subscribe, openid, language, subscribe_time, unionid
  (when bound), remark, groupid, tagid_list, subscribe_scene, qr_scene,
  qr_scene_str -- no nickname/sex/city/headimgurl since 2021-12; a user who
  unfollowed gets ``{"subscribe": 0, "openid": ...}``; unknown openid 40003;
- ``user/info/batchget`` takes at most 100 users (40032 beyond: violation).
"""

from .api_token import authenticate
from .errors import WeChatError

PAGE_SIZE = 10000


def page_after(openids, next_openid):
    """Return the real ``{count, data, next_openid}`` page after ``next_openid``."""
    start = 0
    if next_openid:
        try:
            start = openids.index(next_openid) + 1
        except ValueError:
            raise WeChatError(40003) from None
    page = openids[start : start + PAGE_SIZE]
    if not page:
        return {"count": 0, "next_openid": ""}
    return {"count": len(page), "data": {"openid": page}, "next_openid": page[-1]}


def _user(acc, openid):
    user = acc.users.get(openid) if isinstance(openid, str) else None
    if user is None:
        raise WeChatError(40003)
    return user


def user_get(fake, req):
    acc = authenticate(fake, req)
    order = list(acc.users)
    followers = [o for o in order if acc.users[o].subscribe]
    next_openid = req.query.get("next_openid") or ""
    start = 0
    if next_openid:
        if next_openid not in acc.users:
            raise WeChatError(40003)
        pos = order.index(next_openid)
        start = sum(1 for o in order[: pos + 1] if acc.users[o].subscribe)
    page = followers[start : start + PAGE_SIZE]
    out = {"total": len(followers), "count": len(page)}
    if page:
        out["data"] = {"openid": page}
        out["next_openid"] = page[-1]
    else:
        out["next_openid"] = ""
    return out


def user_info(fake, req):
    acc = authenticate(fake, req)
    return _user(acc, req.query.get("openid")).info()


def batchget(fake, req):
    acc = authenticate(fake, req)
    items = req.json().get("user_list")
    if not isinstance(items, list) or not items:
        raise WeChatError(40032)
    if len(items) > 100:
        fake.violation("batchget_over_100", "user/info/batchget with %d users (max 100)" % len(items), acc.appid)
        raise WeChatError(40032)
    users = [_user(acc, (item or {}).get("openid") if isinstance(item, dict) else None) for item in items]
    return {"user_info_list": [u.info() for u in users]}


def update_remark(fake, req):
    acc = authenticate(fake, req)
    body = req.json()
    user = _user(acc, body.get("openid"))
    remark = body.get("remark") or ""
    if len(remark) > 30:
        raise WeChatError(45001, "remark too long")
    user.remark = remark
    return {"errcode": 0, "errmsg": "ok"}


ROUTES = [
    ("GET", "/cgi-bin/user/get", user_get),
    ("GET", "/cgi-bin/user/info", user_info),
    ("POST", "/cgi-bin/user/info/batchget", batchget),
    ("POST", "/cgi-bin/user/info/updateremark", update_remark),
]
