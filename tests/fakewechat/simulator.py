"""Follower simulator: plays WeChat users and pushes their signed events to the
product's webhook (see webhook.py for the signing and retry rules).

Real-platform rules mimicked:
- follow via a parametric QR: ``subscribe`` with ``EventKey qrscene_<scene>`` and
  ``Ticket``; the user's ``subscribe_scene`` becomes ADD_SCENE_QR_CODE and
  ``qr_scene``/``qr_scene_str`` the scene; a follower scanning again sends
  ``SCAN`` with ``EventKey <scene>``; a non-follower scanning is shown the follow
  page, so it becomes a ``subscribe``;
- ``unsubscribe``, menu ``CLICK``/``VIEW``/``scancode_push``/``scancode_waitmsg``/``location_select``
  (the picked location in ``SendLocationInfo``, no CS grant), the ``LOCATION`` report,
  user messages (text, image, voice, video, location, link) with a ``MsgId``;
- customer-service grants (state.py ``CS_GRANTS``): a user message opens 5 in
  48 h; a follow, a scan, a CLICK or a scancode event opens 3 in 60 s; VIEW
  opens nothing; unfollowing closes them all;
- a subscribe-notice popup answered on an H5 page (``subscribe``) pushes
  ``subscribe_msg_popup_event`` (see api_subscribe.py);
- OAuth: the in-app browser follows the product's redirect to
  ``open.weixin.qq.com/connect/oauth2/authorize`` (served by the fake) and back.
"""

import threading
import time
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests

from .api_qrcode import find_ticket, new_ticket
from .crypto import callback_signature
from .webhook import deliver
from .xmlutil import parse_xml

WECHAT_HOSTS = ("open.weixin.qq.com", "api.weixin.qq.com", "mp.weixin.qq.com")
USER_MSGTYPES = {
    "text": {"Content": "hello"},
    "image": {"PicUrl": "http://mmbiz.qpic.cn/fake.jpg"},
    "voice": {"Format": "amr"},
    "video": {"ThumbMediaId": "fake-thumb-media"},
    "location": {"Location_X": "23.134521", "Location_Y": "113.358803", "Scale": "20", "Label": "广州市"},
    "link": {"Title": "A link", "Description": "shared by the user", "Url": "http://example.com/"},
}
BROWSER_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.40(0x18002831) NetType/WIFI Language/zh_CN"
)


class FollowerSimulator:
    """``fake.simulator(appid)``: WeChat users of one account."""

    def __init__(self, fake, appid):
        self.fake = fake
        self.account = fake.account(appid)
        self.appid = appid

    # -- helpers -----------------------------------------------------------
    def _event(self, openid, msgtype, **fields):
        event = {
            "ToUserName": self.account.original_id,
            "FromUserName": openid,
            "CreateTime": int(self.fake.now()),
            "MsgType": msgtype,
        }
        event.update(fields)
        return event

    def _qr(self, scene, ticket):
        fake, acc = self.fake, self.account
        if ticket:
            qr = fake.qr_tickets.get(ticket)
            if qr is None or qr.appid != acc.appid:
                raise ValueError(f"unknown ticket for {acc.appid}")
            if qr.expired(fake.now()):
                raise ValueError("QR code expired")
            return qr
        if scene is None or scene == "":
            return None
        qr = find_ticket(fake, acc, scene)
        if qr is None:
            action = "QR_SCENE" if isinstance(scene, int) else "QR_STR_SCENE"
            qr = new_ticket(fake, acc, action, scene, 2592000, synthetic=True)
        return qr

    def _follower(self, openid):
        user = self.account.users.get(openid)
        if user is None or not user.subscribe:
            raise ValueError(f"{openid} does not follow {self.appid}")
        return user

    # -- user actions --------------------------------------------------------
    def follow(self, openid=None, scene=None, ticket=None, subscribe_scene=None, unionid=None, **post):
        """Follow (optionally via a QR scene or ticket) and push ``subscribe``."""
        fake, acc = self.fake, self.account
        with fake.lock:
            user = acc.users.get(openid) if openid else None
            if user is not None and user.subscribe:
                raise ValueError(f"{openid} already follows {self.appid}")
            qr = self._qr(scene, ticket)
            if user is None:
                user = acc._add_user(openid, unionid=unionid, subscribe=False)
            now = fake.now()
            user.subscribe = True
            user.subscribe_time = int(now)
            if unionid:
                user.unionid = unionid
            if qr is not None:
                user.subscribe_scene = "ADD_SCENE_QR_CODE"
                user.qr_scene = qr.scene if isinstance(qr.scene, int) else 0
                user.qr_scene_str = qr.scene if isinstance(qr.scene, str) else ""
                event = self._event(
                    user.openid, "event", Event="subscribe", EventKey=f"qrscene_{qr.scene}", Ticket=qr.ticket
                )
            else:
                user.subscribe_scene = subscribe_scene or "ADD_SCENE_SEARCH"
                user.qr_scene, user.qr_scene_str = 0, ""
                event = self._event(user.openid, "event", Event="subscribe")
            user.open_cs_window(now, "follow")
        return self.post_event(event, **post)

    def scan(self, openid, scene=None, ticket=None, **post):
        """Scan a parametric QR: ``SCAN`` for a follower, ``subscribe`` otherwise."""
        fake, acc = self.fake, self.account
        with fake.lock:
            user = acc.users.get(openid)
            following = user is not None and user.subscribe
            if following:
                qr = self._qr(scene, ticket)
                if qr is None:
                    raise ValueError("scan needs a scene or a ticket")
                user.open_cs_window(fake.now(), "scan")
                event = self._event(openid, "event", Event="SCAN", EventKey=str(qr.scene), Ticket=qr.ticket)
        if not following:
            return self.follow(openid, scene=scene, ticket=ticket, **post)
        return self.post_event(event, **post)

    def unfollow(self, openid, **post):
        with self.fake.lock:
            user = self._follower(openid)
            user.subscribe = False
            user.close_cs_grants()
            event = self._event(openid, "event", Event="unsubscribe")
        return self.post_event(event, **post)

    def click(self, openid, key, **post):
        with self.fake.lock:
            self._follower(openid).open_cs_window(self.fake.now(), "click")
            event = self._event(openid, "event", Event="CLICK", EventKey=key)
        return self.post_event(event, **post)

    def view(self, openid, url, **post):
        with self.fake.lock:
            self._follower(openid)
            event = self._event(openid, "event", Event="VIEW", EventKey=url)
        return self.post_event(event, **post)

    def scancode(self, openid, key, result, waitmsg=False, **post):
        """A ``scancode_push`` (or ``scancode_waitmsg``) menu event: opens 3 CS messages in 60 s."""
        with self.fake.lock:
            self._follower(openid).open_cs_window(self.fake.now(), "click")
            event = self._event(
                openid,
                "event",
                Event="scancode_waitmsg" if waitmsg else "scancode_push",
                EventKey=key,
                ScanCodeInfo={"ScanType": "qrcode", "ScanResult": result},
            )
        return self.post_event(event, **post)

    def _user_media(self, msgtype, media_id, content, content_type):
        """The temporary media a user's image, voice or video becomes (``media/get`` serves it)."""
        acc = self.account
        media_id = media_id or acc._media_id()
        if media_id not in acc.media or content is not None:
            acc.media[media_id] = {"type": msgtype, "permanent": False, "t": self.fake.now()}
            if content is not None:
                acc.media[media_id].update(content=content, content_type=content_type or "application/octet-stream")
        return media_id

    def message(self, openid, msgtype="text", msg_id=None, post=None, content=None, content_type=None, **fields):
        """The user sends a message (``text``, ``image``, ``voice``, ``video``, ``location``,
        ``link``; ``fields`` are its XML fields): opens 5 CS messages in 48 h.  An image, voice or
        video is a temporary media of the account (``content``/``content_type``: the file
        ``media/get`` serves, a small file of the type by default)."""
        if msgtype not in USER_MSGTYPES:
            raise ValueError(f"unknown user message type {msgtype!r}")
        with self.fake.lock:
            self._follower(openid).open_cs_window(self.fake.now(), "message")
            values = dict(USER_MSGTYPES[msgtype], **fields)
            if msgtype in ("image", "voice", "video"):
                values["MediaId"] = self._user_media(msgtype, fields.get("MediaId"), content, content_type)
            event = self._event(openid, msgtype, **values, MsgId=msg_id or self.fake.next_id("user_msg"))
        return self.post_event(event, **(post or {}))

    def text(self, openid, content, msg_id=None, **post):
        return self.message(openid, "text", msg_id=msg_id, post=post, Content=content)

    def image(self, openid, content=None, content_type=None, msg_id=None, **post):
        return self.message(openid, "image", msg_id=msg_id, post=post, content=content, content_type=content_type)

    def voice(self, openid, recognition=None, content=None, msg_id=None, **post):
        """A voice message in AMR, with WeChat's speech recognition text when given."""
        fields = {"Recognition": recognition} if recognition is not None else {}
        return self.message(
            openid, "voice", msg_id=msg_id, post=post, content=content, content_type="audio/amr", **fields
        )

    def video(self, openid, msg_id=None, **post):
        return self.message(openid, "video", msg_id=msg_id, post=post)

    def location(self, openid, x=23.134521, y=113.358803, label="广州市天河区", **post):
        return self.message(openid, "location", post=post, Location_X=str(x), Location_Y=str(y), Label=label)

    def report_location(self, openid, latitude=23.137466, longitude=113.352425, precision=119.385, **post):
        """The ``LOCATION`` event a follower who allowed it reports on entering the chat: no CS grant, and only
        "success" may answer it."""
        with self.fake.lock:
            self._follower(openid)
            event = self._event(
                openid,
                "event",
                Event="LOCATION",
                Latitude=f"{latitude:.6f}",
                Longitude=f"{longitude:.6f}",
                Precision=f"{precision:.6f}",
            )
        return self.post_event(event, **post)

    def location_select(self, openid, key, x=23.134521, y=113.358803, label="广州市天河区", echo=False, **post):
        """The menu's "send location" button (``location_select``): the location picked on the map, in
        ``SendLocationInfo``; no CS grant.  ``echo``: the picked location then arrives as the user's location
        message too; returns ``(event result, message result)``."""
        with self.fake.lock:
            self._follower(openid)
            event = self._event(
                openid,
                "event",
                Event="location_select",
                EventKey=key,
                SendLocationInfo={
                    "Location_X": str(x),
                    "Location_Y": str(y),
                    "Scale": "15",
                    "Label": label,
                    "Poiname": "",
                },
            )
        result = self.post_event(event, **post)
        if not echo:
            return result
        return result, self.location(openid, x=x, y=y, label=label, **post)

    def subscribe(self, openid, template_ids, status="accept"):
        """Answer a subscribe-notice popup on an H5 page (``fake.subscribe_accept``)."""
        return self.fake.subscribe_accept(self.appid, openid, template_ids, status)

    # -- raw events ------------------------------------------------------------
    def post_event(self, event, retries_on_slow=True, repeat=1, parallel=False):
        """Push an event (dict, or raw XML text sent verbatim).  ``repeat=k``
        sends it k times (in parallel threads with ``parallel=True``) and returns
        the list of results; otherwise one ``WebhookResult``."""
        xml = None
        if isinstance(event, str | bytes):
            xml = event.decode("utf-8") if isinstance(event, bytes) else event
            event = parse_xml(xml)

        def send():
            return deliver(self.fake, self.account, event, xml=xml, retries=retries_on_slow)

        if repeat == 1:
            return send()
        if not parallel:
            return [send() for _ in range(repeat)]
        results = [None] * repeat
        barrier = threading.Barrier(repeat)

        def worker(i):
            try:
                barrier.wait(timeout=5)
            except threading.BrokenBarrierError:
                pass
            results[i] = send()

        threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(repeat)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results

    def verify(self, echostr=None):
        """The GET URL check WeChat does when the webhook is configured."""
        fake, acc = self.fake, self.account
        with fake.lock:
            echostr = echostr or "".join(fake.rng.choices("0123456789", k=19))
            nonce = "".join(fake.rng.choices("0123456789", k=10))
        timestamp = str(int(time.time()))
        params = {
            "signature": callback_signature(acc.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "echostr": echostr,
        }
        session = requests.Session()
        session.trust_env = False
        with session:
            resp = session.get(acc.webhook_url, params=params, timeout=fake.callback_timeout)
        resp.verified = resp.status_code == 200 and resp.text == echostr
        return resp

    # -- OAuth in the in-app browser ---------------------------------------
    def _route(self, url, openid):
        parts = urlsplit(url)
        fake_parts = urlsplit(self.fake.url) if self.fake.running else None
        on_fake = fake_parts is not None and parts.netloc == fake_parts.netloc
        if parts.hostname in WECHAT_HOSTS or on_fake:
            if fake_parts is None:
                raise RuntimeError("the fake must be started to serve OAuth")
            query = parse_qsl(parts.query, keep_blank_values=True)
            if parts.path.endswith("/connect/oauth2/authorize"):
                query = [(k, v) for k, v in query if k != "fake_openid"] + [("fake_openid", openid)]
            return urlunsplit((fake_parts.scheme, fake_parts.netloc, parts.path, urlencode(query), ""))
        return url

    def oauth(self, openid, url, max_hops=10, timeout=10):
        """Open ``url`` in the WeChat browser as ``openid`` and follow redirects
        (WeChat hosts are served by the fake).  Returns the final response with
        ``resp.hops`` = [(url, status), ...]."""
        session = requests.Session()
        session.trust_env = False
        session.headers["User-Agent"] = BROWSER_UA
        hops = []
        current = url
        with session:
            for _ in range(max_hops):
                target = self._route(current, openid)
                resp = session.get(target, allow_redirects=False, timeout=timeout)
                hops.append((target, resp.status_code))
                location = resp.headers.get("Location")
                if resp.status_code in (301, 302, 303, 307, 308) and location:
                    current = urljoin(target, location)
                    continue
                break
        resp.hops = hops
        return resp
