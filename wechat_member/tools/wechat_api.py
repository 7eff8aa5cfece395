"""The WeChat client layer: one client per ``wechat.account``.

Every call goes through :class:`WeChatApi`, built on wechatpy 1.8.18's
``WeChatClient`` with ``auto_retry=False`` (its own retry re-fetches the
token without bound and invalidates the stored one).  The access token comes
from the account's token manager (database, row lock); on 40001/40014/42001
the token is refreshed once and the call retried once.  Base URLs and the
timeout come from the account record, so tests and the sandbox point it at
the fake platform.
"""

import logging

import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from odoo.exceptions import UserError
from odoo.tools.translate import LazyTranslate

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

TOKEN_ERRORS = (40001, 40014, 42001)
NETWORK_ERROR = -2

ERROR_MESSAGES = {
    -1: _lt("WeChat is busy right now; please try again in a moment."),
    NETWORK_ERROR: _lt("WeChat could not be reached (network error or timeout)."),
    40001: _lt("The WeChat access token is invalid; check the AppID and AppSecret."),
    40003: _lt("This openid does not belong to the WeChat account."),
    40013: _lt("The AppID is invalid."),
    40014: _lt("The WeChat access token is invalid."),
    40032: _lt("Too many openids in one call (at most 50 for tags, 100 for user info)."),
    40125: _lt("The AppSecret is invalid."),
    40130: _lt("A mass send needs between 2 and 10 000 openids."),
    42001: _lt("The WeChat access token has expired."),
    43004: _lt("The member does not follow the WeChat account."),
    45009: _lt("The daily WeChat API limit is reached; try again tomorrow."),
    45011: _lt("Too many WeChat API calls per minute; try again shortly."),
    45015: _lt("The member has not interacted in the last 48 hours: customer-service messages are closed."),
    45028: _lt("The WeChat mass-send quota is used up."),
    45047: _lt("Customer-service message limit reached for this member."),
    45056: _lt("A WeChat account can have at most 100 tags."),
    45058: _lt("WeChat's reserved tags (ids 0, 1 and 2) cannot be changed."),
    45059: _lt("A member can have at most 20 WeChat tags."),
    45065: _lt("This mass send was already sent (same clientmsgid)."),
    45066: _lt("The same mass send was retried too fast."),
    45067: _lt("The clientmsgid is over 64 bytes."),
    45157: _lt("The WeChat tag name is empty or already used."),
    45158: _lt("A WeChat tag name can have at most 30 bytes."),
    45159: _lt("Unknown WeChat tag."),
    48001: _lt("This WeChat account is not authorised for this API (certification needed)."),
}


GENERIC_MESSAGE = _lt("WeChat error %(code)s: %(message)s")


class WeChatError(UserError):
    """A WeChat API error with its code (``errcode``) and a message in the user's language."""

    def __init__(self, errcode, errmsg="", env=None, data=None):
        self.errcode = errcode
        self.errmsg = errmsg or ""
        self.data = data or {}  # the whole answer (45065 carries the existing msg_id)
        lang = (env.lang if env is not None else None) or "en_US"
        known = ERROR_MESSAGES.get(errcode)
        if known:
            text = known._translate(lang)
        else:
            text = GENERIC_MESSAGE._translate(lang) % {"code": errcode, "message": self.errmsg}
        super().__init__(text)


class MediaTooLarge(Exception):
    """A media file over the size allowed (``media_get``); ``size`` is what WeChat announced or sent."""

    def __init__(self, size):
        super().__init__(size)
        self.size = size


class WeChatApi:
    """Client of one ``wechat.account`` (use ``account._api()``)."""

    def __init__(self, account, token=None):
        account.ensure_one()
        self.account = account
        self.timeout = account.timeout or 10
        # A token given by the caller (the token manager's own callers) is used as is: never refreshed here.
        self._fixed_token = token
        self._client = None

    # ------------------------------------------------------------------ plumbing
    def _build_client(self, token):
        client = WeChatClient(
            self.account.appid,
            self.account.sudo().appsecret,
            access_token=token,
            auto_retry=False,
            timeout=self.timeout,
        )
        client.API_BASE_URL = self.account._api_base_url() + "/cgi-bin/"
        return client

    def _raw(self, method, path, **kwargs):
        """One HTTP call with the current token; WeChat errors as :class:`WeChatError`."""
        if self._client is None:
            self._client = self._build_client(self._fixed_token or self.account._get_access_token())
        try:
            return self._client._request(method, path, **kwargs)
        except WeChatClientException as exc:
            if exc.errcode is None:
                status = getattr(exc.response, "status_code", "?")
                raise WeChatError(NETWORK_ERROR, f"HTTP {status}", self.account.env, {"http_status": status}) from exc
            try:
                data = exc.response.json()
            except (AttributeError, ValueError):
                data = {}
            raise WeChatError(int(exc.errcode), exc.errmsg, self.account.env, data) from exc
        except requests.RequestException as exc:
            raise WeChatError(NETWORK_ERROR, type(exc).__name__, self.account.env) from exc

    def call(self, method, path, **kwargs):
        """Call ``/cgi-bin/<path>``; refresh the token once and retry once on 40001/40014/42001."""
        try:
            return self._raw(method, path, **kwargs)
        except WeChatError as exc:
            if exc.errcode not in TOKEN_ERRORS or self._fixed_token:
                raise
            stale = self._client.session.get(self._client.access_token_key)
            _logger.info("WeChat account %s: token rejected (%s), refreshing once", self.account.id, exc.errcode)
            self._client = self._build_client(self.account._get_access_token(stale=stale))
            if "params" in kwargs:
                kwargs["params"].pop("access_token", None)
            return self._raw(method, path, **kwargs)

    def get(self, path, **params):
        return self.call("get", path, params=params)

    def post(self, path, data, **params):
        return self.call("post", path, data=data, params=params)

    # ------------------------------------------------------------------ users
    def user_info(self, openid, lang="zh_CN"):
        return self.get("user/info", openid=openid, lang=lang)

    def user_info_batch(self, openids, lang="zh_CN"):
        """``user/info/batchget`` in chunks of 100 (WeChat refuses more)."""
        result = []
        for start in range(0, len(openids), 100):
            chunk = openids[start : start + 100]
            res = self.post("user/info/batchget", {"user_list": [{"openid": o, "lang": lang} for o in chunk]})
            result += res.get("user_info_list", [])
        return result

    def followers(self):
        """All follower openids, paging ``user/get`` by ``next_openid`` (10 000 a page)."""
        openids, next_openid = [], ""
        while True:
            res = self.get("user/get", next_openid=next_openid)
            page = (res.get("data") or {}).get("openid", [])
            openids += page
            next_openid = res.get("next_openid") or ""
            if not page or not next_openid or len(openids) >= res.get("total", 0):
                return openids

    # ------------------------------------------------------------------ QR codes and menu
    def qrcode_create(self, scene, permanent=False, expire_seconds=2592000):
        is_str = isinstance(scene, str)
        if permanent:
            action = "QR_LIMIT_STR_SCENE" if is_str else "QR_LIMIT_SCENE"
            data = {"action_name": action}
        else:
            action = "QR_STR_SCENE" if is_str else "QR_SCENE"
            data = {"action_name": action, "expire_seconds": expire_seconds}
        data["action_info"] = {"scene": {"scene_str": scene} if is_str else {"scene_id": scene}}
        return self.post("qrcode/create", data)

    def menu_create(self, buttons):
        return self.post("menu/create", {"button": buttons})

    # ------------------------------------------------------------------ messages
    def send_template(self, openid, template_id, data, url=None, client_msg_id=None):
        """Template (service) notice; ``client_msg_id`` makes a retry harmless (wechatpy lacks it)."""
        payload = {"touser": openid, "template_id": template_id, "data": data}
        if url:
            payload["url"] = url
        if client_msg_id:
            payload["client_msg_id"] = client_msg_id[:64]
        return self.post("message/template/send", payload)

    def send_text(self, openid, content):
        """Customer-service text message (48 h window rules apply)."""
        return self.post("message/custom/send", {"touser": openid, "msgtype": "text", "text": {"content": content}})

    def send_image(self, openid, media_id):
        """Customer-service image message (a temporary media's ``media_id``)."""
        return self.post("message/custom/send", {"touser": openid, "msgtype": "image", "image": {"media_id": media_id}})

    # ------------------------------------------------------------------ media
    def media_get(self, media_id, max_size):
        """``(content, content type)`` of a temporary media, or ``(None, the JSON answer)`` (a video's
        ``video_url``).  Reads at most ``max_size`` bytes: :class:`MediaTooLarge` beyond."""

        def bounded(res, *args, **kwargs):
            if res.status_code != 200:
                return res
            length = res.headers.get("Content-Length") or ""
            if length.isdigit() and int(length) > max_size:
                res.close()
                raise MediaTooLarge(int(length))
            data = res.raw.read(max_size + 1, decode_content=True)
            if len(data) > max_size:
                res.close()
                raise MediaTooLarge(len(data))
            res._content, res._content_consumed = data, True
            return res

        result = self.call("get", "media/get", params={"media_id": media_id}, stream=True, hooks={"response": bounded})
        if isinstance(result, dict):
            return None, result
        content_type = (result.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        return result.content, content_type

    def media_upload(self, media_type, filename, content, mimetype):
        """Upload a temporary media (kept 3 days by WeChat); WeChat's answer (``media_id``)."""
        return self.call(
            "post", "media/upload", params={"type": media_type}, files={"media": (filename, content, mimetype)}
        )
