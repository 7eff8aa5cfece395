"""Per-account state of the fake platform: followers, tokens, tags, QR tickets,
templates, menu, mass-send jobs, quotas.

Real-platform rules mimicked (enforced by the api_* modules on this data):
- openids are 28 chars of [A-Za-z0-9_-] starting with 'o', one per (user, appid);
- ``user/info`` no longer returns nickname, sex, city or avatar (2021-12);
- tag ids 0/1/2 are system tags, user tags start at 100; 100 tags per account,
  20 tags per user;
- a follower receives at most 4 mass messages per calendar month;
- customer-service (CS) quota, per member and per trigger (``CS_GRANTS``): the
  user's own message opens 5 messages within 48 h; a follow, a QR scan, a menu
  CLICK or scancode event opens 3 within 60 s; a VIEW event and a WeChat Pay
  payment open nothing (the 2023 rules; the API reference of sendCustomMessage
  lists these four scenes only — an older guide page still lists 支付成功 |
  无限制 | 48小时, which the product must not rely on).
  Open grants do not add up: a send needs one open grant with room, and counts
  against every open grant; a new trigger of a kind replaces that kind's grant.
All mutation happens under the owning FakeWeChat's single lock.
"""

import collections
import string

from .keywords import template_record

# kind -> (window seconds, messages; None = no count limit)
CS_GRANTS = {
    "message": (48 * 3600, 5),
    "follow": (60, 3),
    "scan": (60, 3),
    "click": (60, 3),
}
CS_NO_GRANT = ("view", "payment")  # accepted by open_cs_window, open nothing

OPENID_ALPHABET = string.ascii_letters + string.digits + "-_"
SYSTEM_TAGS = {0: "未分组", 1: "黑名单", 2: "星标组"}
VISIBLE_SYSTEM_TAGS = (2,)


class User:
    """One WeChat user as seen by one Official Account."""

    __slots__ = (
        "openid",
        "unionid",
        "subscribe",
        "subscribe_time",
        "subscribe_scene",
        "qr_scene",
        "qr_scene_str",
        "remark",
        "language",
        "tagids",
        "mass_month",
        "mass_month_count",
        "cs_grants",
        "block_notices",
    )

    def __init__(
        self,
        openid,
        unionid=None,
        subscribe=True,
        subscribe_time=0,
        subscribe_scene="ADD_SCENE_QR_CODE",
        qr_scene=0,
        qr_scene_str="",
    ):
        self.openid = openid
        self.unionid = unionid
        self.subscribe = subscribe
        self.subscribe_time = int(subscribe_time)
        self.subscribe_scene = subscribe_scene
        self.qr_scene = qr_scene
        self.qr_scene_str = qr_scene_str
        self.remark = ""
        self.language = "zh_CN"
        self.tagids = []
        self.mass_month = 0  # Beijing month key of the counter below
        self.mass_month_count = 0  # mass messages received in that month
        # CS grants: [{"kind", "opened_at", "window", "limit", "used"}], one per kind (see CS_GRANTS)
        self.cs_grants = []
        self.block_notices = False  # the user refused this account's template notices (43101)

    def info(self):
        """The ``user/info`` answer (real 2021+ shape: no nickname/sex/city/avatar)."""
        if not self.subscribe:
            return {"subscribe": 0, "openid": self.openid}
        data = {
            "subscribe": 1,
            "openid": self.openid,
            "language": self.language,
            "subscribe_time": self.subscribe_time,
            "remark": self.remark,
            "groupid": 0,
            "tagid_list": list(self.tagids),
            "subscribe_scene": self.subscribe_scene,
            "qr_scene": self.qr_scene,
            "qr_scene_str": self.qr_scene_str,
        }
        if self.unionid:
            data["unionid"] = self.unionid
        return data

    def open_cs_window(self, now, kind):
        """The user did something that opens a CS grant of ``kind`` (see ``CS_GRANTS``;
        "view" is accepted and opens nothing).  Replaces the open grant of that kind."""
        if kind in CS_NO_GRANT:
            return None
        if kind not in CS_GRANTS:
            raise ValueError(f"unknown CS trigger {kind!r}")
        window, limit = CS_GRANTS[kind]
        grant = {"kind": kind, "opened_at": float(now), "window": window, "limit": limit, "used": 0}
        self.cs_grants = [g for g in self.cs_grants if g["kind"] != kind] + [grant]
        return grant

    def open_grants(self, now):
        """The grants still open at ``now`` (dropping the closed ones)."""
        self.cs_grants = [g for g in self.cs_grants if now - g["opened_at"] <= g["window"]]
        return list(self.cs_grants)

    def cs_quota(self, now):
        """(remaining, seconds_left): the CS messages that can still be sent now (the largest
        room among open grants; None = no count limit) and how long the grant giving that room
        stays open (0 when nothing can be sent)."""
        best = None
        for g in self.open_grants(now) if self.subscribe else ():
            room = None if g["limit"] is None else g["limit"] - g["used"]
            if room is not None and room <= 0:
                continue
            left = g["opened_at"] + g["window"] - now
            key = (float("inf") if room is None else room, left)
            if best is None or key > best[0]:
                best = (key, room, left)
        if best is None:
            return 0, 0
        return best[1], best[2]

    def close_cs_grants(self):
        self.cs_grants = []

    def to_dict(self):
        return {
            k: getattr(self, k)
            for k in (
                "openid",
                "unionid",
                "subscribe",
                "subscribe_time",
                "subscribe_scene",
                "qr_scene",
                "qr_scene_str",
                "remark",
                "language",
                "tagids",
                "mass_month",
                "mass_month_count",
                "cs_grants",
                "block_notices",
            )
        }

    @classmethod
    def from_dict(cls, d):
        user = cls(d["openid"])
        for key, value in d.items():
            if key in cls.__slots__:  # older state files carried other CS fields
                setattr(user, key, value)
        user.cs_grants = [dict(g) for g in user.cs_grants]
        return user


class Token:
    """One access token.  ``series`` is 'token' (cgi-bin/token) or 'stable'."""

    __slots__ = ("token", "appid", "series", "generation", "issued_at", "expires_at", "superseded_at")

    def __init__(self, token, appid, series, generation, issued_at, expires_at):
        self.token = token
        self.appid = appid
        self.series = series
        self.generation = generation
        self.issued_at = issued_at
        self.expires_at = expires_at
        self.superseded_at = None

    def to_dict(self):
        return {k: getattr(self, k) for k in self.__slots__}

    @classmethod
    def from_dict(cls, d):
        tok = cls(d["token"], d["appid"], d["series"], d["generation"], d["issued_at"], d["expires_at"])
        tok.superseded_at = d.get("superseded_at")
        return tok


class QrTicket:
    """A parametric QR code: ticket -> scene (scene_id int or scene_str)."""

    __slots__ = ("ticket", "appid", "action_name", "scene", "expire_seconds", "created_at", "url", "synthetic")

    def __init__(self, ticket, appid, action_name, scene, expire_seconds, created_at, url, synthetic=False):
        self.ticket = ticket
        self.appid = appid
        self.action_name = action_name
        self.scene = scene
        self.expire_seconds = expire_seconds
        self.created_at = created_at
        self.url = url
        self.synthetic = synthetic

    @property
    def permanent(self):
        return self.action_name.startswith("QR_LIMIT")

    def expired(self, now):
        return not self.permanent and now >= self.created_at + self.expire_seconds

    def to_dict(self):
        return {k: getattr(self, k) for k in self.__slots__}

    @classmethod
    def from_dict(cls, d):
        return cls(**d)


class MassJob:
    """One mass send (``mass/sendall`` or ``mass/send``)."""

    def __init__(self, msg_id, msg_data_id, kind, msgtype, content, created_at, clientmsgid=None):
        self.msg_id = msg_id
        self.msg_data_id = msg_data_id
        self.kind = kind
        self.msgtype = msgtype
        self.content = content
        self.created_at = created_at
        self.clientmsgid = clientmsgid
        self.status = "SENDING"
        self.recipients = []
        self.total_count = 0  # followers in the audience
        self.filter_count = 0  # after filtering (quota): ready to send
        self.sent_count = 0
        self.error_count = 0
        self.filtered_quota = 0  # dropped: already 4 mass messages this month
        self.filtered_not_follower = 0  # dropped: not (or no longer) following

    def summary(self):
        return {
            "msg_id": self.msg_id,
            "kind": self.kind,
            "msgtype": self.msgtype,
            "status": self.status,
            "clientmsgid": self.clientmsgid,
            "total_count": self.total_count,
            "filter_count": self.filter_count,
            "sent_count": self.sent_count,
            "error_count": self.error_count,
            "filtered_quota": self.filtered_quota,
            "filtered_not_follower": self.filtered_not_follower,
            "created_at": self.created_at,
        }


class FakeAccount:
    """A WeChat Official Account (service account) registered on the fake.

    Tunable attributes (change them directly in tests):
    ``mass_quota_remaining`` (None = unlimited), ``mass_rate_per_minute`` (60),
    ``clientmsgid_retry_seconds`` (1.0), ``token_daily_limit`` (2000),
    ``stable_force_daily_limit`` (20), ``permanent_qr_limit`` (100000),
    ``mass_fail_openids`` (set of openids counted in ErrorCount),
    ``certified`` (template messages and subscribe notices need it),
    ``template_fail_next`` (the next n template messages end ``failed: system failed``;
    see ``fake.template_fail_next``).

    Stores: ``templates`` / ``subscribe_templates`` (id -> record), ``template_messages``,
    ``cs_messages``, ``subscribe_messages`` (sent notices), ``subscribe_optins``
    (one dict per user choice: openid, template_id, status, scene, t, used_by),
    ``drafts`` and ``media`` (media_id -> record), ``jsapi_ticket_calls``.
    """

    def __init__(
        self,
        fake,
        appid,
        secret,
        token="",
        aes_key=None,
        encrypt_mode="plain",
        webhook_url=None,
        mch_id=None,
        mch_key=None,
        certified=True,
        original_id=None,
    ):
        if encrypt_mode not in ("plain", "compatible", "safe"):
            raise ValueError("encrypt_mode must be plain, compatible or safe")
        if encrypt_mode != "plain" and (not aes_key or len(aes_key) != 43):
            raise ValueError(f"encrypt_mode {encrypt_mode} needs a 43-char EncodingAESKey")
        self._fake = fake
        self.appid = appid
        self.secret = secret
        self.token = token
        self.aes_key = aes_key
        self.encrypt_mode = encrypt_mode
        self.webhook_url = webhook_url
        self.mch_id = mch_id
        self.mch_key = mch_key
        self.certified = certified
        self.original_id = original_id or "gh_" + "".join(fake.rng.choices("0123456789abcdef", k=12))
        self._openid_prefix = "".join(fake.rng.choices(OPENID_ALPHABET, k=5))
        # followers and tags
        self.users = {}
        self.tags = {}
        self.next_tag_id = 100
        # tokens
        self.current_tokens = {"token": None, "stable": None}
        self.token_generation = {"token": 0, "stable": 0}
        self.token_calls = collections.Counter()
        self.stable_force_calls = collections.Counter()
        self.token_daily_limit = 2000
        self.stable_force_daily_limit = 20
        # QR codes
        self.qrcodes = {}
        self.permanent_qr_limit = 100000
        # menu, templates
        self.menu = None
        self.templates = {}
        # mass sends
        self.mass_jobs = {}
        self.clientmsgids = {}
        self.content_dedupe = {}
        self.mass_quota_remaining = None
        self.mass_rate_per_minute = 60
        self.clientmsgid_retry_seconds = 1.0
        self.mass_call_times = collections.deque()
        self.mass_fail_openids = set()
        self.received = collections.defaultdict(list)
        self.previews = []
        # other messages
        self.template_messages = []
        self.template_dedupe = {}
        self.template_fail_next = 0
        self.template_refused = []  # 43101 answers (user.block_notices): {touser, template_id, t}
        self.cs_messages = []
        # subscribe notices (订阅通知)
        self.subscribe_templates = {}
        self.subscribe_optins = []
        self.subscribe_messages = []
        # drafts and media (mass mpnews / images)
        self.drafts = {}
        self.media = {}
        # JS-SDK
        self.jsapi_ticket_calls = 0

    # -- followers -----------------------------------------------------
    def new_openid(self):
        rng = self._fake.rng
        while True:
            openid = "o" + self._openid_prefix + "".join(rng.choices(OPENID_ALPHABET, k=22))
            if openid not in self.users:
                return openid

    def _add_user(
        self,
        openid=None,
        unionid=None,
        subscribe=True,
        subscribe_scene="ADD_SCENE_QR_CODE",
        qr_scene=0,
        qr_scene_str="",
        subscribe_time=None,
    ):
        openid = openid or self.new_openid()
        if openid in self.users:
            raise ValueError(f"openid {openid} already exists on {self.appid}")
        if subscribe_time is None:
            subscribe_time = int(self._fake.now())
        user = User(
            openid,
            unionid,
            subscribe,
            subscribe_time if subscribe else 0,
            subscribe_scene if subscribe else "",
            qr_scene,
            qr_scene_str,
        )
        self.users[openid] = user
        return user

    def add_follower(
        self,
        openid=None,
        unionid=None,
        subscribe_scene="ADD_SCENE_QR_CODE",
        qr_scene=0,
        qr_scene_str="",
        subscribe_time=None,
    ):
        """Register a follower silently (no event is pushed).  Returns the openid."""
        with self._fake.lock:
            return self._add_user(openid, unionid, True, subscribe_scene, qr_scene, qr_scene_str, subscribe_time).openid

    def add_followers(self, n, subscribe_scene="ADD_SCENE_SEARCH"):
        """Register ``n`` followers quickly; returns their openids in follow order."""
        with self._fake.lock:
            rng = self._fake.rng
            users = self.users
            now = int(self._fake.now())
            prefix = "o" + self._openid_prefix
            out = []
            while len(out) < n:
                openid = prefix + "".join(rng.choices(OPENID_ALPHABET, k=22))
                if openid in users:
                    continue
                users[openid] = User(openid, None, True, now, subscribe_scene)
                out.append(openid)
            return out

    def add_nonfollower(self, openid=None, unionid=None):
        """A user known to this appid (payer, web visitor) who does not follow."""
        with self._fake.lock:
            return self._add_user(openid, unionid, subscribe=False).openid

    def user(self, openid):
        return self.users.get(openid)

    def ensure_user(self, openid):
        """Return the user, creating an unsubscribed one if unknown (caller holds the lock)."""
        user = self.users.get(openid)
        if user is None:
            user = self._add_user(openid, subscribe=False)
        return user

    def follower_openids(self):
        with self._fake.lock:
            return [o for o, u in self.users.items() if u.subscribe]

    def is_follower(self, openid):
        user = self.users.get(openid)
        return bool(user and user.subscribe)

    # -- templates -----------------------------------------------------
    def add_template(
        self, template_id, title="Service notice", keywords=("thing1", "amount2", "time3"), category="retail"
    ):
        """A template message template from the public library of ``category``; ``keywords`` are
        its data keys (``"thing1"`` or ``("label", "thing1")``), checked by type on send."""
        record = template_record(template_id, title, keywords, category)
        with self._fake.lock:
            self.templates[template_id] = record
        return template_id

    def delete_template(self, template_id):
        """The template was deleted on WeChat (sends answer 40037 from now on)."""
        with self._fake.lock:
            self.templates.pop(template_id, None)

    def add_subscribe_template(self, template_id, title="Service notice", keywords=("thing1", "amount2", "time3")):
        """A one-time subscribe-notice (订阅通知) template; separate from template messages."""
        record = template_record(template_id, title, keywords)
        with self._fake.lock:
            self.subscribe_templates[template_id] = record
        return template_id

    def unused_optins(self, openid, template_id):
        """The accepts of ``openid`` for ``template_id`` not yet consumed by a bizsend."""
        with self._fake.lock:
            return [
                o
                for o in self.subscribe_optins
                if o["openid"] == openid
                and o["template_id"] == template_id
                and o["status"] == "accept"
                and o["used_by"] is None
            ]

    # -- media and drafts ------------------------------------------------
    def add_media(self, media_type="image", media_id=None, permanent=True, content=None, content_type=None):
        """Media as if uploaded (``media/upload`` or ``material/add_material``); returns the media_id.
        ``content``/``content_type``: what ``media/get`` serves (a small file of the type by default)."""
        with self._fake.lock:
            media_id = media_id or self._media_id()
            self.media[media_id] = {"type": media_type, "permanent": permanent, "t": self._fake.now()}
            if content is not None:
                self.media[media_id].update(content=content, content_type=content_type or "application/octet-stream")
        return media_id

    def add_draft(self, articles=None, media_id=None):
        """A draft as if made with ``draft/add``; returns its media_id (for mpnews mass sends)."""
        with self._fake.lock:
            media_id = media_id or self._media_id()
            self.drafts[media_id] = {
                "articles": articles or [{"title": "Draft", "content": "<p>draft</p>"}],
                "t": self._fake.now(),
            }
        return media_id

    def _media_id(self):
        alphabet = string.ascii_letters + string.digits + "-_"
        return "".join(self._fake.rng.choices(alphabet, k=64))

    # -- introspection -------------------------------------------------
    def tag_count(self, tag_id):
        return sum(1 for u in self.users.values() if tag_id in u.tagids)

    def summary(self):
        with self._fake.lock:
            followers = [o for o, u in self.users.items() if u.subscribe]
            counts = collections.Counter(t for u in self.users.values() for t in u.tagids)
            return {
                "appid": self.appid,
                "original_id": self.original_id,
                "encrypt_mode": self.encrypt_mode,
                "webhook_url": self.webhook_url,
                "mch_id": self.mch_id,
                "certified": self.certified,
                "followers": len(followers),
                "users": len(self.users),
                "follower_openids_sample": followers[:20],
                "tags": [
                    {"id": tid, "name": t["name"], "count": counts.get(tid, 0)} for tid, t in sorted(self.tags.items())
                ],
                "mass": [job.summary() for job in self.mass_jobs.values()],
                "mass_quota_remaining": self.mass_quota_remaining,
                "template_messages": len(self.template_messages),
                "cs_messages": len(self.cs_messages),
                "subscribe_messages": len(self.subscribe_messages),
                "subscribe_optins": len(self.subscribe_optins),
                "qrcodes": len(self.qrcodes),
                "menu": self.menu,
            }

    def __repr__(self):
        return f"<FakeAccount {self.appid}>"
