"""Template messages, customer-service window (48 h, 5 per window, 3/min after
follow/scan), menu; via requests and wechatpy 1.8.18."""

import pytest
from fakewechat import FakeClock
from fakewechat.pytest_plugin import DEFAULT_ACCOUNT
from fakewechat.testing import api_get, api_post, fetch_token, make_client, pay_post
from wechatpy.exceptions import WeChatClientException


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def fake(make_fake_wechat, clock):
    return make_fake_wechat(clock=clock, async_delay=0.01)


@pytest.fixture
def receiver(make_webhook_receiver):
    return make_webhook_receiver()


@pytest.fixture
def acc(fake, receiver):
    return fake.add_account(**dict(DEFAULT_ACCOUNT, webhook_url=receiver.url))


@pytest.fixture
def token(fake, acc):
    return fetch_token(fake, acc)


@pytest.fixture
def sim(fake, acc):
    return fake.simulator(acc.appid)


def cs(fake, token, openid, content="hi"):
    return api_post(
        fake, "/cgi-bin/message/custom/send", {"touser": openid, "msgtype": "text", "text": {"content": content}}, token
    )


def template(fake, token, openid, template_id="TPL1", **extra):
    body = dict(
        {
            "touser": openid,
            "template_id": template_id,
            "url": "http://example.com",
            "data": {"first": {"value": "Order paid"}},
        },
        **extra,
    )
    return api_post(fake, "/cgi-bin/message/template/send", body, token)


def test_template_send_rules_and_job_finish(fake, acc, token, receiver):
    openid = acc.add_follower()
    acc.add_template("TPL1")
    assert template(fake, token, openid, "NOPE")["errcode"] == 40037
    assert template(fake, token, acc.add_nonfollower())["errcode"] == 43004
    assert template(fake, token, "o" + "n" * 27)["errcode"] == 40003
    res = template(fake, token, openid)
    assert res["errcode"] == 0 and res["msgid"]
    assert fake.wait_idle(5)
    (event,) = receiver.unique
    assert event["Event"] == "TEMPLATESENDJOBFINISH" and event["Status"] == "success"
    assert int(event["MsgID"]) == res["msgid"] and event["FromUserName"] == openid
    acc.certified = False
    assert template(fake, token, openid)["errcode"] == 48001


def test_template_client_msg_id_is_idempotent_for_10_minutes(fake, acc, token, clock):
    openid = acc.add_follower()
    acc.add_template("TPL1")
    first = template(fake, token, openid, client_msg_id="order-1")
    assert template(fake, token, openid, client_msg_id="order-1")["msgid"] == first["msgid"]
    assert len(acc.template_messages) == 1
    clock.advance(601)
    assert template(fake, token, openid, client_msg_id="order-1")["msgid"] != first["msgid"]


def test_cs_needs_an_open_window(fake, acc, token, sim, clock):
    openid = acc.add_follower()
    assert cs(fake, token, openid)["errcode"] == 45015
    assert fake.violation_rules() == ["cs_outside_window"]
    fake.clear_logs()
    sim.text(openid, "hello")
    assert cs(fake, token, openid)["errcode"] == 0
    clock.advance(48 * 3600 + 1)
    assert cs(fake, fetch_token(fake, acc), openid)["errcode"] == 45015
    assert fake.violation_rules() == ["cs_outside_window"]


def test_cs_five_per_user_message(fake, acc, token, sim):
    openid = acc.add_follower()
    sim.text(openid, "question")
    assert [cs(fake, token, openid, "a%d" % i)["errcode"] for i in range(6)] == [0, 0, 0, 0, 0, 45047]
    assert fake.violation_rules() == ["cs_over_limit"]
    sim.click(openid, "MY_POINTS")  # a new interaction opens a new window
    assert cs(fake, token, openid)["errcode"] == 0
    assert len(acc.cs_messages) == 6


def test_cs_three_per_minute_after_follow(fake, acc, token, sim, clock):
    openid = sim.follow().openid
    assert [cs(fake, token, openid)["errcode"] for _ in range(4)] == [0, 0, 0, 45047]
    clock.advance(61)
    assert [cs(fake, token, openid)["errcode"] for _ in range(3)] == [0, 0, 45047]  # 5 per window
    assert fake.violation_rules() == ["cs_over_limit", "cs_over_limit"]


def test_cs_after_payment_and_after_unfollow(fake, acc, token, sim):
    openid = acc.add_follower()
    code = fake.pay_script(fake.auth_code(), "SUCCESS", openid=openid)
    paid = pay_post(
        fake,
        acc,
        "/pay/micropay",
        {"body": "coffee", "out_trade_no": "T1", "total_fee": 100, "spbill_create_ip": "127.0.0.1", "auth_code": code},
    )
    assert paid["result_code"] == "SUCCESS" and paid["is_subscribe"] == "Y"
    assert cs(fake, token, openid)["errcode"] == 0
    sim.unfollow(openid)
    assert cs(fake, token, openid)["errcode"] == 45015


def test_messages_through_wechatpy(fake, acc, token, sim):
    client = make_client(fake, acc, token)
    openid = acc.add_follower()
    acc.add_template("TPL1")
    with pytest.raises(WeChatClientException) as err:
        client.message.send_text(openid, "too early")
    assert err.value.errcode == 45015
    sim.text(openid, "hi")
    assert client.message.send_text(openid, "welcome") == {"errcode": 0, "errmsg": "ok"}
    res = client.message.send_template(openid, "TPL1", {"first": {"value": "x"}}, url="http://example.com")
    assert res["msgid"] == acc.template_messages[0]["msgid"]


def test_menu(fake, acc, token):
    assert api_get(fake, "/cgi-bin/menu/get", token)["errcode"] == 46003
    too_many = {"button": [{"type": "click", "name": str(i), "key": str(i)} for i in range(4)]}
    assert api_post(fake, "/cgi-bin/menu/create", too_many, token)["errcode"] == 40016
    menu = {
        "button": [
            {"type": "click", "name": "我的积分", "key": "MY_POINTS"},
            {"name": "会员", "sub_button": [{"type": "view", "name": "卡券", "url": "http://x/w"}]},
        ]
    }
    assert api_post(fake, "/cgi-bin/menu/create", menu, token) == {"errcode": 0, "errmsg": "ok"}
    assert api_get(fake, "/cgi-bin/menu/get", token) == {"menu": menu}
    assert api_get(fake, "/cgi-bin/menu/delete", token)["errcode"] == 0
    assert api_get(fake, "/cgi-bin/menu/get", token)["errcode"] == 46003


def test_menu_through_wechatpy(fake, acc, token):
    client = make_client(fake, acc, token)
    menu = {"button": [{"type": "click", "name": "Offers", "key": "OFFERS"}]}
    client.menu.create(menu)
    assert client.menu.get() == {"menu": menu}
    client.menu.delete()
    assert client.menu.get() is None  # wechatpy maps 46003 to None
