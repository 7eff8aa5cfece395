"""Web OAuth: authorize redirect, browser user, single-use 5-minute codes,
sns/userinfo; via requests, wechatpy's WeChatOAuth and the simulator's browser."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
from fakewechat.testing import api_get, session
from fakewechat.wechatpy_support import redirect_to_fake
from wechatpy.exceptions import WeChatOAuthException
from wechatpy.oauth import WeChatOAuth

REDIRECT = "http://127.0.0.1:9/member/page"


def authorize(fake, appid, scope="snsapi_base", state="st", cookies=None, **extra):
    params = dict(
        {"appid": appid, "redirect_uri": REDIRECT, "response_type": "code", "scope": scope, "state": state}, **extra
    )
    with session() as s:
        return s.get(
            fake.url + "/connect/oauth2/authorize", params=params, allow_redirects=False, cookies=cookies, timeout=10
        )


def code_of(resp):
    assert resp.status_code == 302, resp.text
    return dict(parse_qsl(urlsplit(resp.headers["Location"]).query))


def exchange(fake, acc, code, secret=None):
    return api_get(
        fake,
        "/sns/oauth2/access_token",
        appid=acc.appid,
        secret=secret or acc.secret,
        code=code,
        grant_type="authorization_code",
    )


def test_authorize_redirects_with_code_and_state(fake, acc):
    openid = acc.add_follower(unionid="oUNION")
    fake.set_browser_user(acc.appid, openid)
    resp = authorize(fake, acc.appid, state="xyz")
    params = code_of(resp)
    assert resp.headers["Location"].startswith(REDIRECT + "?code=")
    assert params["state"] == "xyz" and len(params["code"]) == 32
    token = exchange(fake, acc, params["code"])
    assert token["openid"] == openid and token["scope"] == "snsapi_base" and token["unionid"] == "oUNION"
    assert token["expires_in"] == 7200 and token["refresh_token"] and token["access_token"]


def test_browser_user_overrides(fake, acc):
    a, b, c = acc.add_follower(), acc.add_follower(), acc.add_follower()
    fake.set_browser_user(acc.appid, a)
    assert exchange(fake, acc, code_of(authorize(fake, acc.appid))["code"])["openid"] == a
    cookie = {"fakewechat_openid": b}
    assert exchange(fake, acc, code_of(authorize(fake, acc.appid, cookies=cookie))["code"])["openid"] == b
    param = code_of(authorize(fake, acc.appid, cookies=cookie, fake_openid=c))["code"]
    assert exchange(fake, acc, param)["openid"] == c


def test_unknown_visitor_becomes_a_known_non_follower(fake, acc):
    openid = exchange(fake, acc, code_of(authorize(fake, acc.appid))["code"])["openid"]
    assert len(openid) == 28 and not acc.user(openid).subscribe


def test_authorize_errors_are_pages(fake, acc):
    assert authorize(fake, "wxbad").status_code == 400
    assert authorize(fake, acc.appid, scope="snsapi_login").status_code == 400
    assert authorize(fake, acc.appid, response_type="token").status_code == 400


def test_code_single_use_and_expiry(fake, acc, clock):
    code = code_of(authorize(fake, acc.appid))["code"]
    assert exchange(fake, acc, code, secret="bad")["errcode"] == 40125
    assert "openid" in exchange(fake, acc, code)
    assert exchange(fake, acc, code)["errcode"] == 40163
    late = code_of(authorize(fake, acc.appid))["code"]
    clock.advance(301)
    assert exchange(fake, acc, late)["errcode"] == 40029
    assert exchange(fake, acc, "nonsense")["errcode"] == 40029


def test_userinfo_needs_userinfo_scope(fake, acc):
    token = exchange(fake, acc, code_of(authorize(fake, acc.appid, scope="snsapi_userinfo"))["code"])
    info = api_get(fake, "/sns/userinfo", access_token=token["access_token"], openid=token["openid"])
    assert info["nickname"] == "微信用户" and info["sex"] == 0 and info["openid"] == token["openid"]
    base = exchange(fake, acc, code_of(authorize(fake, acc.appid))["code"])
    assert api_get(fake, "/sns/userinfo", access_token=base["access_token"], openid=base["openid"])["errcode"] == 48001


def test_wechatpy_oauth_through_adapter(fake, acc):
    openid = acc.add_follower()
    fake.set_browser_user(acc.appid, openid)
    oauth = WeChatOAuth(acc.appid, acc.secret, REDIRECT, scope="snsapi_userinfo", state="s1")
    redirect_to_fake(oauth, fake.url)
    parts = urlsplit(oauth.authorize_url)
    assert parts.netloc == "open.weixin.qq.com" and parts.fragment == "wechat_redirect"
    with session() as s:
        resp = s.get(fake.url + parts.path + "?" + parts.query, allow_redirects=False, timeout=10)
    code = code_of(resp)["code"]
    assert oauth.fetch_access_token(code)["openid"] == openid
    assert oauth.get_user_info()["openid"] == openid
    with pytest.raises(WeChatOAuthException) as err:
        oauth.fetch_access_token(code)
    assert err.value.errcode == 40163


class ProductPage:
    """A product page that sends visitors through WeChat OAuth (real WeChat host)."""

    def __init__(self, fake, acc):
        page = self
        self.seen = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                query = parse_qs(urlsplit(self.path).query)
                if "code" not in query:
                    oauth = WeChatOAuth(acc.appid, acc.secret, page.url, state="member")
                    self.send_response(302)
                    self.send_header("Location", oauth.authorize_url)
                    self.end_headers()
                    return
                oauth = WeChatOAuth(acc.appid, acc.secret, page.url)
                redirect_to_fake(oauth, fake.url)
                openid = oauth.fetch_access_token(query["code"][0])["openid"]
                page.seen.append((openid, query["state"][0], self.headers.get("User-Agent")))
                body = (f"member:{openid}").encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d/member" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def test_simulator_oauth_dance(fake, acc):
    page = ProductPage(fake, acc)
    try:
        openid = acc.add_follower()
        resp = fake.simulator(acc.appid).oauth(openid, page.url)
        assert resp.status_code == 200 and resp.text == f"member:{openid}"
        assert [status for _, status in resp.hops] == [302, 302, 200]
        assert resp.hops[1][0].startswith(fake.url + "/connect/oauth2/authorize")
        assert page.seen[0][1] == "member" and "MicroMessenger" in page.seen[0][2]
    finally:
        page.stop()
