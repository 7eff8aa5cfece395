"""Follower APIs: user/get paging, user/info shape (no nickname since 2021),
batchget limit, remarks; through requests and wechatpy 1.8.18."""

import pytest
from fakewechat.testing import api_get, api_post, fetch_token, make_client
from wechatpy.exceptions import WeChatClientException

INFO_KEYS = {
    "subscribe",
    "openid",
    "language",
    "subscribe_time",
    "remark",
    "groupid",
    "tagid_list",
    "subscribe_scene",
    "qr_scene",
    "qr_scene_str",
}


@pytest.fixture
def token(fake_wechat, fake_account):
    return fetch_token(fake_wechat, fake_account)


def test_add_followers_openids_look_real(fake_account):
    openids = fake_account.add_followers(25000)
    assert len(set(openids)) == 25000
    assert all(len(o) == 28 and o.startswith("o") for o in openids[:100])
    assert all(set(o) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") for o in openids)


def test_user_get_pages_of_10000(fake_wechat, fake_account, token):
    openids = fake_account.add_followers(25000)
    page1 = api_get(fake_wechat, "/cgi-bin/user/get", token)
    assert (page1["total"], page1["count"]) == (25000, 10000)
    assert page1["data"]["openid"] == openids[:10000] and page1["next_openid"] == openids[9999]
    page2 = api_get(fake_wechat, "/cgi-bin/user/get", token, next_openid=page1["next_openid"])
    assert page2["data"]["openid"] == openids[10000:20000]
    page3 = api_get(fake_wechat, "/cgi-bin/user/get", token, next_openid=page2["next_openid"])
    assert page3["count"] == 5000 and page3["next_openid"] == openids[-1]
    page4 = api_get(fake_wechat, "/cgi-bin/user/get", token, next_openid=page3["next_openid"])
    assert page4 == {"total": 25000, "count": 0, "next_openid": ""}


def test_user_get_skips_unfollowed_users(fake_wechat, fake_account, token):
    openids = fake_account.add_followers(5)
    fake_wechat.simulator(fake_account.appid).unfollow(openids[1])
    page = api_get(fake_wechat, "/cgi-bin/user/get", token)
    assert page["total"] == 4 and openids[1] not in page["data"]["openid"]


def test_wechatpy_iter_followers(fake_wechat, fake_account, token):
    openids = fake_account.add_followers(12345)
    client = make_client(fake_wechat, fake_account, token)
    assert list(client.user.iter_followers()) == openids
    assert len(fake_wechat.calls_to("/cgi-bin/user/get")) == 3


def test_user_info_has_no_profile_fields(fake_wechat, fake_account, token):
    openid = fake_account.add_follower(unionid="oUnion123", qr_scene=7, subscribe_time=1700000000)
    info = api_get(fake_wechat, "/cgi-bin/user/info", token, openid=openid, lang="zh_CN")
    assert set(info) == INFO_KEYS | {"unionid"}
    assert info["subscribe"] == 1 and info["unionid"] == "oUnion123" and info["qr_scene"] == 7
    assert info["subscribe_time"] == 1700000000 and info["subscribe_scene"] == "ADD_SCENE_QR_CODE"
    for absent in ("nickname", "sex", "city", "province", "country", "headimgurl"):
        assert absent not in info


def test_unsubscribed_user_returns_openid_only(fake_wechat, fake_account, token):
    payer = fake_account.add_nonfollower()
    assert api_get(fake_wechat, "/cgi-bin/user/info", token, openid=payer) == {"subscribe": 0, "openid": payer}
    follower = fake_account.add_follower()
    fake_wechat.simulator(fake_account.appid).unfollow(follower)
    assert api_get(fake_wechat, "/cgi-bin/user/info", token, openid=follower) == {"subscribe": 0, "openid": follower}


def test_unknown_openid_40003(fake_wechat, fake_account, token):
    assert api_get(fake_wechat, "/cgi-bin/user/info", token, openid="o" + "x" * 27)["errcode"] == 40003
    client = make_client(fake_wechat, fake_account, token)
    with pytest.raises(WeChatClientException) as err:
        client.user.get("o" + "x" * 27)
    assert err.value.errcode == 40003


@pytest.mark.fake_violations_expected
def test_batchget_at_most_100(fake_wechat, fake_account, token):
    openids = fake_account.add_followers(101)
    ok = api_post(
        fake_wechat,
        "/cgi-bin/user/info/batchget",
        {"user_list": [{"openid": o, "lang": "zh_CN"} for o in openids[:100]]},
        token,
    )
    assert [u["openid"] for u in ok["user_info_list"]] == openids[:100]
    assert fake_wechat.violations == []
    over = api_post(fake_wechat, "/cgi-bin/user/info/batchget", {"user_list": [{"openid": o} for o in openids]}, token)
    assert over["errcode"] == 40032
    assert fake_wechat.violation_rules() == ["batchget_over_100"]


def test_wechatpy_get_batch_and_remark(fake_wechat, fake_account, token):
    openids = fake_account.add_followers(3)
    client = make_client(fake_wechat, fake_account, token)
    users = client.user.get_batch(openids)
    assert [u["openid"] for u in users] == openids
    client.user.update_remark(openids[0], "VIP")
    assert client.user.get(openids[0])["remark"] == "VIP"
    assert fake_wechat.violations == []


def test_control_followers_with_their_last_message(fake, acc):
    """The demo registers its members as followers, each with the customer-service grant of their last message
    (``POST /_fake/followers`` with ``cs_message_at``); a known follower is kept, not refused."""
    import requests

    three_hours_ago = fake.now() - 3 * 3600
    body = {"appid": acc.appid, "openid": "oDemoControl000000000000001", "cs_message_at": three_hours_ago}
    first = requests.post(fake.url + "/_fake/followers", json=body, timeout=10).json()
    assert first["openids"] == ["oDemoControl000000000000001"]
    user = acc.user("oDemoControl000000000000001")
    assert user.subscribe
    left, seconds = user.cs_quota(fake.now())
    assert left == 5 and 44 * 3600 < seconds <= 45 * 3600
    again = requests.post(fake.url + "/_fake/followers", json=dict(body, cs_message_at=None), timeout=10).json()
    assert again["openids"] == first["openids"]
    assert acc.user("oDemoControl000000000000001") is user
    assert fake.violations == []
