"""User tags: ``tags/create|get|update|delete``, ``tags/members/batchtagging``,
``tags/members/batchuntagging``, ``tags/getidlist``, ``user/tag/get``.

Real-platform rules mimicked:
- system tags 0/1/2 cannot be changed or deleted (45058); only 2 (星标组) is
  listed by ``tags/get``; tags created by the account get ids from 100;
- at most 100 tags per account (45056); a name must be non-empty and unique
  (45157) and at most 30 bytes of UTF-8 (45158); unknown tag id 45159;
- ``batchtagging``/``batchuntagging`` take at most 50 openids (40032 beyond:
  violation ``batch_tagging_over_50``); a user carries at most 20 tags (45059);
  the call is all-or-nothing;
- a tag with more than 100 000 fans cannot be deleted (45057);
- ``user/tag/get`` pages 10 000 followers of a tag.
"""

import collections

from .api_token import authenticate
from .api_users import page_after
from .errors import WeChatError
from .state import SYSTEM_TAGS, VISIBLE_SYSTEM_TAGS

MAX_TAGS = 100
MAX_TAGS_PER_USER = 20
MAX_BATCH = 50


def _tag_id(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise WeChatError(45159) from None


def _check_name(acc, name, exclude_id=None):
    if not isinstance(name, str) or not name.strip():
        raise WeChatError(45157)
    if len(name.encode("utf-8")) > 30:
        raise WeChatError(45158)
    names = dict(SYSTEM_TAGS)
    names.update({tid: t["name"] for tid, t in acc.tags.items()})
    for tid, existing in names.items():
        if existing == name and tid != exclude_id:
            raise WeChatError(45157)


def _known_tag(acc, tag_id):
    tag_id = _tag_id(tag_id)
    if tag_id not in acc.tags and tag_id not in VISIBLE_SYSTEM_TAGS:
        raise WeChatError(45159)
    return tag_id


def create(fake, req):
    acc = authenticate(fake, req)
    tag = req.json().get("tag") or {}
    name = tag.get("name") if isinstance(tag, dict) else None
    _check_name(acc, name)
    if len(acc.tags) >= MAX_TAGS:
        raise WeChatError(45056)
    tag_id = acc.next_tag_id
    acc.next_tag_id += 1
    acc.tags[tag_id] = {"id": tag_id, "name": name}
    return {"tag": {"id": tag_id, "name": name}}


def get(fake, req):
    acc = authenticate(fake, req)
    counts = collections.Counter(t for u in acc.users.values() if u.subscribe for t in u.tagids)
    tags = [{"id": tid, "name": SYSTEM_TAGS[tid], "count": counts.get(tid, 0)} for tid in VISIBLE_SYSTEM_TAGS]
    tags += [{"id": tid, "name": t["name"], "count": counts.get(tid, 0)} for tid, t in sorted(acc.tags.items())]
    return {"tags": tags}


def update(fake, req):
    acc = authenticate(fake, req)
    tag = req.json().get("tag") or {}
    tag_id = _tag_id(tag.get("id"))
    if tag_id in SYSTEM_TAGS:
        raise WeChatError(45058)
    if tag_id not in acc.tags:
        raise WeChatError(45159)
    _check_name(acc, tag.get("name"), exclude_id=tag_id)
    acc.tags[tag_id]["name"] = tag["name"]
    return {"errcode": 0, "errmsg": "ok"}


def delete(fake, req):
    acc = authenticate(fake, req)
    tag = req.json().get("tag") or {}
    tag_id = _tag_id(tag.get("id"))
    if tag_id in SYSTEM_TAGS:
        raise WeChatError(45058)
    if tag_id not in acc.tags:
        raise WeChatError(45159)
    if acc.tag_count(tag_id) > 100000:
        raise WeChatError(45057)
    del acc.tags[tag_id]
    for user in acc.users.values():
        if tag_id in user.tagids:
            user.tagids.remove(tag_id)
    return {"errcode": 0, "errmsg": "ok"}


def _batch(fake, req, tagging):
    acc = authenticate(fake, req)
    body = req.json()
    openids = body.get("openid_list")
    if not isinstance(openids, list) or not openids:
        raise WeChatError(40032)
    if len(openids) > MAX_BATCH:
        fake.violation(
            "batch_tagging_over_50",
            "tags/members/%s with %d openids (max %d)"
            % ("batchtagging" if tagging else "batchuntagging", len(openids), MAX_BATCH),
            acc.appid,
        )
        raise WeChatError(40032)
    tag_id = _known_tag(acc, body.get("tagid"))
    users = []
    for openid in openids:
        user = acc.users.get(openid) if isinstance(openid, str) else None
        if user is None:
            raise WeChatError(40003)
        users.append(user)
    if tagging:
        for user in users:
            if tag_id not in user.tagids and len(user.tagids) >= MAX_TAGS_PER_USER:
                raise WeChatError(45059)
        for user in users:
            if tag_id not in user.tagids:
                user.tagids.append(tag_id)
    else:
        for user in users:
            if tag_id in user.tagids:
                user.tagids.remove(tag_id)
    return {"errcode": 0, "errmsg": "ok"}


def batchtagging(fake, req):
    return _batch(fake, req, True)


def batchuntagging(fake, req):
    return _batch(fake, req, False)


def getidlist(fake, req):
    acc = authenticate(fake, req)
    openid = req.json().get("openid")
    user = acc.users.get(openid) if isinstance(openid, str) else None
    if user is None:
        raise WeChatError(40003)
    return {"tagid_list": list(user.tagids)}


def tag_users(fake, req):
    acc = authenticate(fake, req)
    body = req.json()
    tag_id = _known_tag(acc, body.get("tagid"))
    openids = [o for o, u in acc.users.items() if u.subscribe and tag_id in u.tagids]
    return page_after(openids, body.get("next_openid") or "")


ROUTES = [
    ("POST", "/cgi-bin/tags/create", create),
    ("GET", "/cgi-bin/tags/get", get),
    ("POST", "/cgi-bin/tags/update", update),
    ("POST", "/cgi-bin/tags/delete", delete),
    ("POST", "/cgi-bin/tags/members/batchtagging", batchtagging),
    ("POST", "/cgi-bin/tags/members/batchuntagging", batchuntagging),
    ("POST", "/cgi-bin/tags/getidlist", getidlist),
    ("POST", "/cgi-bin/user/tag/get", tag_users),
]
