"""Web-page OAuth: ``GET /connect/oauth2/authorize``, ``GET /sns/oauth2/access_token``,
``GET /sns/oauth2/refresh_token``, ``GET /sns/userinfo``.

Real-platform rules mimicked:
- ``authorize`` (opened in the WeChat in-app browser) answers 302 to
  ``redirect_uri`` with ``code`` and ``state``; ``scope`` is ``snsapi_base``
  (silent) or ``snsapi_userinfo``; a bad appid/scope shows an error page (400);
- the user is whoever is logged in to WeChat: here ``fake_openid`` query param,
  else cookie ``fakewechat_openid``, else ``fake.set_browser_user(appid, openid)``,
  else a new (non-following) visitor;
- a code is single-use (40163 ``code been used``) and expires after 5 minutes
  (40029 ``invalid code``); bad secret 40125, bad appid 40013;
- ``sns/userinfo`` needs ``snsapi_userinfo`` (48001) and, since 2021-12, returns
  nickname "微信用户" and a default avatar instead of real profile data.
"""

import string
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .errors import WeChatError
from .web import html_reply, redirect_reply

CODE_TTL = 300
TOKEN_TTL = 7200
_ALNUM = string.ascii_letters + string.digits
DEFAULT_AVATAR = "https://thirdwx.qlogo.cn/mmopen/vi_32/POgEwh4mIHO4nibH0KlMECNjjGxQUq24ZEaGT4poC6icRiccVGKSyXwibcPq4BWmiaIGuG1icwxaQX6grC9VemZoJ8rg/132"


def _with_params(url, params):
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def browser_openid(fake, req, acc):
    openid = req.query.get("fake_openid") or req.cookies.get("fakewechat_openid") or fake.browser_users.get(acc.appid)
    if not openid:
        openid = acc.new_openid()
        fake.browser_users[acc.appid] = openid
    acc.ensure_user(openid)
    return openid


def authorize(fake, req):
    q = req.query
    acc = fake.accounts.get(q.get("appid") or "")
    req.appid = q.get("appid")
    if acc is None:
        return html_reply("<h1>appid 参数错误</h1><p>invalid appid</p>", 400)
    redirect_uri = q.get("redirect_uri") or ""
    if not redirect_uri.startswith(("http://", "https://")):
        return html_reply("<h1>redirect_uri 参数错误</h1>", 400)
    if q.get("response_type") != "code":
        return html_reply("<h1>response_type 参数错误</h1>", 400)
    scope = q.get("scope")
    if scope not in ("snsapi_base", "snsapi_userinfo"):
        return html_reply("<h1>scope 参数错误或没有 scope 权限</h1>", 400)
    openid = browser_openid(fake, req, acc)
    code = "".join(fake.rng.choices(_ALNUM, k=32))
    fake.oauth_codes[code] = {
        "appid": acc.appid,
        "openid": openid,
        "scope": scope,
        "created": fake.now(),
        "used": False,
    }
    params = {"code": code, "state": q.get("state", "")}
    return redirect_reply(_with_params(redirect_uri, params))


def _app(fake, q):
    if not q.get("appid"):
        raise WeChatError(41002)
    acc = fake.accounts.get(q["appid"])
    if acc is None:
        raise WeChatError(40013)
    return acc


def access_token(fake, req):
    q = req.query
    req.appid = q.get("appid")
    acc = _app(fake, q)
    if q.get("secret") != acc.secret:
        raise WeChatError(40125)
    if q.get("grant_type") != "authorization_code":
        raise WeChatError(40002)
    if not q.get("code"):
        raise WeChatError(41008)
    grant = fake.oauth_codes.get(q["code"])
    if grant is None or grant["appid"] != acc.appid or fake.now() - grant["created"] > CODE_TTL:
        raise WeChatError(40029)
    if grant["used"]:
        raise WeChatError(40163)
    grant["used"] = True
    return _new_tokens(fake, acc, grant["openid"], grant["scope"])


def _new_tokens(fake, acc, openid, scope):
    token = "".join(fake.rng.choices(_ALNUM, k=96))
    refresh = "".join(fake.rng.choices(_ALNUM, k=96))
    record = {"appid": acc.appid, "openid": openid, "scope": scope, "expires_at": fake.now() + TOKEN_TTL}
    fake.oauth_tokens[token] = record
    fake.oauth_refresh[refresh] = dict(record)
    out = {
        "access_token": token,
        "expires_in": TOKEN_TTL,
        "refresh_token": refresh,
        "openid": openid,
        "scope": scope,
        "is_snapshotuser": 0,
    }
    user = acc.users.get(openid)
    if user is not None and user.unionid:
        out["unionid"] = user.unionid
    return out


def refresh_token(fake, req):
    q = req.query
    req.appid = q.get("appid")
    acc = _app(fake, q)
    record = fake.oauth_refresh.get(q.get("refresh_token") or "")
    if record is None or record["appid"] != acc.appid:
        raise WeChatError(40030, "invalid refresh_token")
    return _new_tokens(fake, acc, record["openid"], record["scope"])


def userinfo(fake, req):
    q = req.query
    record = fake.oauth_tokens.get(q.get("access_token") or "")
    if record is None or record["openid"] != q.get("openid"):
        raise WeChatError(40001)
    req.appid = record["appid"]
    if fake.now() >= record["expires_at"]:
        raise WeChatError(42001)
    if record["scope"] != "snsapi_userinfo":
        raise WeChatError(48001)
    out = {
        "openid": record["openid"],
        "nickname": "微信用户",
        "sex": 0,
        "province": "",
        "city": "",
        "country": "",
        "headimgurl": DEFAULT_AVATAR,
        "privilege": [],
    }
    user = fake.accounts[record["appid"]].users.get(record["openid"])
    if user is not None and user.unionid:
        out["unionid"] = user.unionid
    return out


ROUTES = [
    ("GET", "/connect/oauth2/authorize", authorize),
    ("GET", "/sns/oauth2/access_token", access_token),
    ("GET", "/sns/oauth2/refresh_token", refresh_token),
    ("GET", "/sns/userinfo", userinfo),
]
