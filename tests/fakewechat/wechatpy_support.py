"""Pointing wechatpy 1.8.18 (or any ``requests`` session) at the fake.

wechatpy builds some URLs absolutely (``https://api.weixin.qq.com/cgi-bin/token``,
``sns/oauth2/...``, ``https://api.mch.weixin.qq.com/...``): setting
``API_BASE_URL`` is not enough.  ``redirect_to_fake(client, fake.url)`` mounts a
transport adapter on ``client._http`` (or a Session) that rewrites the real
WeChat hosts to the fake and applies a default timeout -- the workaround the
design prescribes for the product as well.
"""

from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter

WECHAT_HOSTS = ("api.weixin.qq.com", "api.mch.weixin.qq.com", "mp.weixin.qq.com", "open.weixin.qq.com")


class RedirectAdapter(HTTPAdapter):
    def __init__(self, fake_url, timeout=10, **kwargs):
        super().__init__(**kwargs)
        self.fake_url = fake_url.rstrip("/")
        self.default_timeout = timeout

    def send(self, request, timeout=None, **kwargs):
        parts = urlsplit(request.url)
        if parts.hostname in WECHAT_HOSTS:
            request.url = self.fake_url + parts.path + ("?" + parts.query if parts.query else "")
            kwargs["proxies"] = {}
        return super().send(request, timeout=timeout if timeout is not None else self.default_timeout, **kwargs)


def redirect_to_fake(client_or_session, fake_url, timeout=10):
    """Mount the redirecting adapter on a wechatpy client/pay/oauth object or a Session."""
    session = getattr(client_or_session, "_http", client_or_session)
    adapter = RedirectAdapter(fake_url, timeout)
    for host in WECHAT_HOSTS:
        session.mount(f"https://{host}/", adapter)
        session.mount(f"http://{host}/", adapter)
    return session
