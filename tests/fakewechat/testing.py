"""Helpers for tests: raw HTTP calls to the fake, signed WeChat Pay requests, and
wechatpy 1.8.18 clients pointed at the fake the way the design prescribes
(``auto_retry=False``, explicit token, ``API_BASE_URL`` + redirect adapter)."""

import json
import string

import requests
from wechatpy import WeChatClient
from wechatpy.pay import WeChatPay
from wechatpy.pay.utils import dict_to_xml

from .crypto import pay_sign
from .wechatpy_support import redirect_to_fake
from .xmlutil import parse_xml


def session():
    s = requests.Session()
    s.trust_env = False
    return s


def fetch_token(fake, acc):
    data = api_get(fake, "/cgi-bin/token", grant_type="client_credential", appid=acc.appid, secret=acc.secret)
    if "access_token" not in data:
        raise AssertionError(f"token request failed: {data!r}")
    return data["access_token"]


def api_get(fake, path, token=None, **params):
    if token is not None:
        params["access_token"] = token
    with session() as s:
        return s.get(fake.url + path, params=params, timeout=10).json()


def api_post(fake, path, body, token=None, **params):
    if token is not None:
        params["access_token"] = token
    data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode("utf-8")
    with session() as s:
        return s.post(fake.url + path, params=params, data=data, timeout=10).json()


def make_client(fake, acc, token=None, timeout=5):
    client = WeChatClient(
        acc.appid, acc.secret, access_token=token or fetch_token(fake, acc), auto_retry=False, timeout=timeout
    )
    client.API_BASE_URL = fake.url + "/cgi-bin/"
    redirect_to_fake(client, fake.url)
    return client


def make_pay(fake, acc, timeout=5):
    pay = WeChatPay(acc.appid, acc.mch_key, acc.mch_id, timeout=timeout)
    pay.API_BASE_URL = fake.url + "/"
    redirect_to_fake(pay, fake.url)
    return pay


def pay_post(fake, acc, path, fields, key=None, sign_type=None):
    """POST a signed WeChat Pay v2 request; return the parsed answer dict."""
    data = {
        "appid": acc.appid,
        "mch_id": acc.mch_id,
        "nonce_str": "".join(fake.rng.choices(string.ascii_letters, k=16)),
    }
    if sign_type:
        data["sign_type"] = sign_type
    data.update({k: str(v) for k, v in fields.items() if v is not None})
    body = dict_to_xml(data, pay_sign(data, key or acc.mch_key, sign_type or "MD5"))
    with session() as s:
        resp = s.post(fake.url + path, data=body.encode("utf-8"), timeout=10)
    return parse_xml(resp.content)
