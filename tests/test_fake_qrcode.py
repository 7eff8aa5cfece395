"""Parametric QR codes: temporary/permanent limits, ticket -> PNG, ticket ->
scene on follow; through requests and wechatpy 1.8.18."""

import io
from urllib.parse import urlsplit

import pytest
from fakewechat import FakeClock
from fakewechat.api_qrcode import png_for
from fakewechat.pytest_plugin import DEFAULT_ACCOUNT
from fakewechat.testing import api_post, fetch_token, make_client, session
from PIL import Image
from wechatpy.client.api.qrcode import WeChatQRCode
from wechatpy.exceptions import WeChatClientException


@pytest.fixture
def token(fake_wechat, fake_account):
    return fetch_token(fake_wechat, fake_account)


def qr(fake, token, action, scene, expire=None):
    key = "scene_str" if "STR" in action else "scene_id"
    body = {"action_name": action, "action_info": {"scene": {key: scene}}}
    if expire is not None:
        body["expire_seconds"] = expire
    return api_post(fake, "/cgi-bin/qrcode/create", body, token)


def show(fake, ticket):
    with session() as s:
        return s.get(fake.url + "/cgi-bin/showqrcode", params={"ticket": ticket}, timeout=10)


def test_temporary_qr_defaults_and_shape(fake_wechat, fake_account, token):
    data = qr(fake_wechat, token, "QR_SCENE", 123)
    assert set(data) == {"ticket", "expire_seconds", "url"}
    assert data["expire_seconds"] == 60
    assert data["url"].startswith("http://weixin.qq.com/q/")
    data = qr(fake_wechat, token, "QR_STR_SCENE", "store-7", expire=2592000)
    assert data["expire_seconds"] == 2592000
    assert fake_wechat.violations == []


@pytest.mark.fake_violations_expected
def test_temporary_expire_is_capped_at_30_days(fake_wechat, fake_account, token):
    data = qr(fake_wechat, token, "QR_SCENE", 1, expire=2592001)
    assert data["expire_seconds"] == 2592000
    assert fake_wechat.violation_rules() == ["qr_expire_too_long"]


def test_permanent_qr_rules(fake_wechat, fake_account, token):
    data = qr(fake_wechat, token, "QR_LIMIT_SCENE", 100000)
    assert set(data) == {"ticket", "url"}
    assert qr(fake_wechat, token, "QR_LIMIT_SCENE", 100000)["ticket"] == data["ticket"]
    assert qr(fake_wechat, token, "QR_LIMIT_SCENE", 100001)["errcode"] == 40053
    assert qr(fake_wechat, token, "QR_LIMIT_SCENE", 0)["errcode"] == 40053
    assert qr(fake_wechat, token, "QR_LIMIT_STR_SCENE", "x" * 64)["ticket"]
    assert qr(fake_wechat, token, "QR_LIMIT_STR_SCENE", "x" * 65)["errcode"] == 40053
    assert qr(fake_wechat, token, "QR_LIMIT_STR_SCENE", "")["errcode"] == 40053
    assert qr(fake_wechat, token, "QR_BOGUS", 1)["errcode"] == 40052


@pytest.mark.fake_violations_expected
def test_permanent_count_limit(fake_wechat, fake_account, token):
    fake_account.permanent_qr_limit = 2
    qr(fake_wechat, token, "QR_LIMIT_SCENE", 1)
    qr(fake_wechat, token, "QR_LIMIT_STR_SCENE", "a")
    assert qr(fake_wechat, token, "QR_LIMIT_SCENE", 1)["ticket"]  # same scene: same code, no new slot
    assert qr(fake_wechat, token, "QR_LIMIT_SCENE", 2)["errcode"] == 45027
    assert fake_wechat.violation_rules() == ["permanent_qr_limit"]


def test_showqrcode_serves_the_png_of_the_url(fake_wechat, fake_account, token):
    data = qr(fake_wechat, token, "QR_LIMIT_STR_SCENE", "poster-1")
    resp = show(fake_wechat, data["ticket"])
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(resp.content))
    assert image.format == "PNG" and image.size[0] > 100
    assert resp.content == png_for(data["url"])  # the QR encodes exactly the returned url
    assert show(fake_wechat, "unknown").status_code == 404


def test_temporary_ticket_expires(make_fake_wechat):
    clock = FakeClock()
    fake = make_fake_wechat(clock=clock)
    acc = fake.add_account(**DEFAULT_ACCOUNT)
    data = qr(fake, fetch_token(fake, acc), "QR_SCENE", 5, expire=120)
    assert show(fake, data["ticket"]).status_code == 200
    clock.advance(120)
    assert show(fake, data["ticket"]).status_code == 404
    with pytest.raises(ValueError):
        fake.simulator(acc.appid).follow(ticket=data["ticket"])


def test_follow_via_ticket_records_the_scene(fake_wechat, fake_account, token, make_webhook_receiver):
    receiver = make_webhook_receiver()
    fake_account.webhook_url = receiver.url
    data = qr(fake_wechat, token, "QR_LIMIT_STR_SCENE", "store-42")
    result = fake_wechat.simulator(fake_account.appid).follow(ticket=data["ticket"])
    assert result.ok
    event = receiver.unique[0]
    assert event["EventKey"] == "qrscene_store-42" and event["Ticket"] == data["ticket"]
    user = fake_account.user(result.openid)
    assert (user.subscribe_scene, user.qr_scene, user.qr_scene_str) == ("ADD_SCENE_QR_CODE", 0, "store-42")


def test_qrcode_through_wechatpy(fake_wechat, fake_account, token):
    client = make_client(fake_wechat, fake_account, token)
    data = client.qrcode.create(
        {"expire_seconds": 1800, "action_name": "QR_SCENE", "action_info": {"scene": {"scene_id": 77}}}
    )
    assert data["expire_seconds"] == 1800
    # qrcode.show() uses the module-level requests.get on mp.weixin.qq.com: build the url and fetch it ourselves
    real_url = WeChatQRCode.get_url(data)
    parts = urlsplit(real_url)
    with session() as s:
        resp = s.get(fake_wechat.url + parts.path + "?" + parts.query, timeout=10)
    assert resp.status_code == 200 and resp.content[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(WeChatClientException) as err:
        client.qrcode.create({"action_name": "QR_LIMIT_SCENE", "action_info": {"scene": {"scene_id": 0}}})
    assert err.value.errcode == 40053
