"""Template messages (keyword types, 43101, 40037, client_msg_id, job-finish
statuses), the customer-service quota per trigger (message 5/48 h; follow, scan,
click, scancode 3/60 s; VIEW nothing; payment), menu; via requests and wechatpy 1.8.18."""

import pytest
from fakewechat.keywords import sample_data
from fakewechat.testing import api_get, api_post, fetch_token, make_client, pay_post
from wechatpy.exceptions import WeChatClientException

KEYWORDS = ("thing1", "amount2", "time3")
GOOD = {"thing1": {"value": "积分到账"}, "amount2": {"value": "¥12.50"}, "time3": {"value": "2023-05-30 12:00"}}


def cs(fake, token, openid, content="hi"):
    return api_post(
        fake, "/cgi-bin/message/custom/send", {"touser": openid, "msgtype": "text", "text": {"content": content}}, token
    )


def template(fake, token, openid, template_id="TPL1", data=None, **extra):
    body = dict(
        {"touser": openid, "template_id": template_id, "url": "http://example.com", "data": data or GOOD}, **extra
    )
    return api_post(fake, "/cgi-bin/message/template/send", body, token)


def job_statuses(receiver):
    return {int(e["MsgID"]): e["Status"] for e in receiver.unique if e.get("Event") == "TEMPLATESENDJOBFINISH"}


# -- template messages ----------------------------------------------------------
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
    assert acc.template_messages[0]["status"] == "success" and acc.template_messages[0]["data"] == GOOD
    acc.certified = False
    assert template(fake, token, openid)["errcode"] == 48001
    assert fake.violations == []


def test_template_list_shows_keywords(fake, acc, token):
    acc.add_template("TPL1", title="积分变动提醒", keywords=(("变动原因", "thing1"), "number2", "time3"))
    (tpl,) = api_get(fake, "/cgi-bin/template/get_all_private_template", token)["template_list"]
    assert tpl["template_id"] == "TPL1" and tpl["title"] == "积分变动提醒"
    assert tpl["content"] == "变动原因:{{thing1.DATA}}\n数量:{{number2.DATA}}\n时间:{{time3.DATA}}"
    assert set(tpl) == {"template_id", "title", "content", "primary_industry", "deputy_industry", "example"}
    assert tpl["primary_industry"] and tpl["example"].count("\n") == 2


def test_template_client_msg_id_is_idempotent_for_10_minutes(fake, acc, token, clock):
    openid = acc.add_follower()
    acc.add_template("TPL1")
    first = template(fake, token, openid, client_msg_id="order-1")
    assert template(fake, token, openid, client_msg_id="order-1")["msgid"] == first["msgid"]
    assert len(acc.template_messages) == 1
    clock.advance(599)
    assert template(fake, token, openid, client_msg_id="order-1")["msgid"] == first["msgid"]
    clock.advance(2)
    assert template(fake, token, openid, client_msg_id="order-1")["msgid"] != first["msgid"]
    assert len(acc.template_messages) == 2


@pytest.mark.parametrize(
    "key, good, bad",
    [
        ("thing1", ["积分到账", "x" * 20, "Order #12 已付款"], ["x" * 21, ""]),
        ("character_string1", ["NO20230530-001", "a" * 32, "A/B_c.d"], ["a" * 33, "单号123", "has space"]),
        ("phrase1", ["配送中", "已完成啦啦"], ["已完成啦啦啦", "done", "配送1"]),
        ("number1", ["120", "-3", "12.5", "1" * 32], ["1" * 33, "12a", "1.2.3", "¥12"]),
        ("amount1", ["¥12.50", "12.50元", "￥3", "$1234567890.99", "¥8元"], ["12.50", "¥12345678901", "¥1.234", "元"]),
        (
            "time1",
            ["15:01", "2023-05-30 12:00", "2023年5月30日 12:00", "2023-05-30", "2023-05-30 12:00~2023-05-30 13:00"],
            ["soon", "25:00", "2023-05-30 12", "明天"],
        ),
        ("date1", ["2023年10月1日", "2019-10-01 15:01", "2023/5/1~2023/5/7"], ["15:01", "tomorrow"]),
        ("letter1", ["VIP", "a" * 32], ["a" * 33, "V1P", "é"]),
        ("symbol1", ["*", "#-+", "!!!!!"], ["!!!!!!", "a", "1"]),
        ("name1", ["张三", "张" * 10, "John Smith", "a" * 20, "张Li"], ["张" * 11, "a" * 21, "R2D2"]),
        ("phone_number1", ["+86-0766-66888866", "13800138000"], ["1" * 18, "call me", "(0766)1234"]),
        ("car_number1", ["粤A8Z888挂", "粤B12345"], ["粤A8Z888挂X", "粤-A123", "粤"]),
        ("const1", ["积分到账", "", "x" * 20], ["x" * 21]),
    ],
)
@pytest.mark.fake_violations_expected
def test_keyword_type_limits(fake, acc, token, key, good, bad):
    openid = acc.add_follower()
    acc.add_template("TPL1", keywords=(key,))
    for value in good:
        res = template(fake, token, openid, data={key: {"value": value}})
        assert res["errcode"] == 0, (key, value, res)
    assert fake.violations == []
    for value in bad:
        res = template(fake, token, openid, data={key: {"value": value}})
        assert res["errcode"] == 47003, (key, value, res)
        assert res["errmsg"].startswith(f"argument invalid! data.{key}.value invalid")
    assert fake.violation_rules() == ["template_data_invalid"] * len(bad)


@pytest.mark.fake_violations_expected
def test_template_data_shape(fake, acc, token):
    openid = acc.add_follower()
    acc.add_template("TPL1")
    bad = [
        dict(GOOD, first={"value": "您好"}),  # retired in 2023
        dict(GOOD, remark={"value": "谢谢"}),
        {k: v for k, v in GOOD.items() if k != "time3"},  # missing keyword
        dict(GOOD, thing4={"value": "extra"}),  # not a keyword of this template
        dict(GOOD, amount2={"value": 12.5}),  # not a string
        dict(GOOD, amount2="¥12.50"),  # not {"value": ...}
    ]
    assert [template(fake, token, openid, data=d)["errcode"] for d in bad] == [47003] * len(bad)
    assert fake.violation_rules() == ["template_data_invalid"] * len(bad)
    assert acc.template_messages == []
    fake.clear_logs()
    coloured = {k: dict(v, color="#173177") for k, v in GOOD.items()}
    assert template(fake, token, openid, data=coloured)["errcode"] == 0  # colours are ignored
    assert acc.template_messages[0]["data"] == GOOD


def test_template_refused_by_user_is_43101_without_violation(fake, acc, token):
    openid = acc.add_follower()
    acc.add_template("TPL1")
    acc.user(openid).block_notices = True
    assert template(fake, token, openid)["errcode"] == 43101
    assert acc.template_refused[0]["touser"] == openid and acc.template_messages == []
    assert fake.violations == []


def test_template_deleted_on_wechat_is_40037(fake, acc, token):
    openid = acc.add_follower()
    acc.add_template("TPL1")
    assert template(fake, token, openid)["errcode"] == 0
    acc.delete_template("TPL1")
    assert template(fake, token, openid)["errcode"] == 40037
    assert api_get(fake, "/cgi-bin/template/get_all_private_template", token) == {"template_list": []}


def test_template_job_finish_statuses(fake, acc, token, receiver):
    openid, blocker = acc.add_follower(), acc.add_follower()
    acc.add_template("TPL1")
    fake.async_delay = 0.3
    fake.template_fail_next(acc.appid)
    failed = template(fake, token, openid)["msgid"]
    ok = template(fake, token, openid)["msgid"]
    blocked = template(fake, token, blocker)["msgid"]
    acc.user(blocker).block_notices = True  # the user blocks notices before delivery
    assert fake.wait_idle(5)
    assert job_statuses(receiver) == {failed: "failed: system failed", ok: "success", blocked: "failed:user block"}
    assert [m["status"] for m in acc.template_messages] == ["failed: system failed", "success", "failed:user block"]
    assert fake.violations == []


# -- customer-service quota -------------------------------------------------------
@pytest.mark.fake_violations_expected
def test_cs_needs_an_open_grant(fake, acc, token, sim, clock):
    openid = acc.add_follower()
    assert cs(fake, token, openid)["errcode"] == 45015
    assert fake.violation_rules() == ["cs_outside_window"]
    fake.clear_logs()
    sim.text(openid, "hello")
    assert cs(fake, token, openid)["errcode"] == 0
    clock.advance(48 * 3600 + 1)
    assert cs(fake, fetch_token(fake, acc), openid)["errcode"] == 45015
    assert fake.violation_rules() == ["cs_outside_window"]


@pytest.mark.fake_violations_expected
def test_cs_five_in_48_hours_after_a_user_message(fake, acc, token, sim, clock):
    openid = acc.add_follower()
    sim.text(openid, "question")
    assert acc.user(openid).cs_quota(fake.now()) == (5, 48 * 3600)
    codes = []
    for i in range(6):
        codes.append(cs(fake, fetch_token(fake, acc), openid, "a%d" % i)["errcode"])
        clock.advance(3600)
    assert codes == [0, 0, 0, 0, 0, 45047]
    assert fake.violation_rules() == ["cs_over_limit"]
    assert acc.user(openid).cs_quota(fake.now()) == (0, 0)
    sim.image(openid)  # a new message replaces the message grant
    assert [cs(fake, fetch_token(fake, acc), openid)["errcode"] for _ in range(5)] == [0] * 5
    assert len(acc.cs_messages) == 10


@pytest.mark.fake_violations_expected
def test_cs_three_in_a_minute_after_follow_then_out_of_time(fake, acc, token, sim, clock):
    openid = sim.follow().openid
    assert [cs(fake, token, openid)["errcode"] for _ in range(4)] == [0, 0, 0, 45047]
    assert fake.violation_rules() == ["cs_over_limit"]
    clock.advance(61)
    assert cs(fake, token, openid)["errcode"] == 45015  # no new allowance after the minute
    assert fake.violation_rules() == ["cs_over_limit", "cs_outside_window"]


@pytest.mark.fake_violations_expected
@pytest.mark.parametrize("action", ["scan", "click", "scancode_push", "scancode_waitmsg", "qr_follow"])
def test_cs_three_in_a_minute_after_scan_click_or_scancode(fake, acc, token, sim, clock, action):
    if action == "qr_follow":
        openid = sim.follow(scene=7).openid
    else:
        openid = sim.follow().openid
        clock.advance(61)
        if action == "scan":
            sim.scan(openid, scene=7)
        elif action == "click":
            sim.click(openid, "MY_POINTS")
        else:
            sim.scancode(openid, "SCAN_MENU", "https://example.com/x", waitmsg=action == "scancode_waitmsg")
    assert [cs(fake, token, openid)["errcode"] for _ in range(4)] == [0, 0, 0, 45047]
    clock.advance(61)
    assert cs(fake, token, openid)["errcode"] == 45015


@pytest.mark.fake_violations_expected
def test_cs_view_opens_nothing(fake, acc, token, sim, clock):
    openid = sim.follow().openid
    clock.advance(61)
    sim.view(openid, "http://example.com/member")
    assert acc.user(openid).open_grants(fake.now()) == []
    assert cs(fake, token, openid)["errcode"] == 45015
    acc.user(openid).open_cs_window(fake.now(), "view")  # accepted, opens nothing
    assert acc.user(openid).cs_quota(fake.now()) == (0, 0)
    assert fake.violation_rules() == ["cs_outside_window"]


@pytest.mark.fake_violations_expected
def test_cs_quota_is_the_larger_open_grant_not_the_sum(fake, acc, token, sim, clock):
    openid = acc.add_follower()
    sim.text(openid, "hello")  # 5 in 48 h
    sim.click(openid, "MY_POINTS")  # 3 in 60 s, open at the same time
    assert acc.user(openid).cs_quota(fake.now()) == (5, 48 * 3600)
    assert [cs(fake, token, openid)["errcode"] for _ in range(6)] == [0, 0, 0, 0, 0, 45047]  # 5, not 8
    assert fake.violation_rules() == ["cs_over_limit"]
    # the click grant counted the sends too: a fresh message grant is not topped up by it
    user = acc.user(openid)
    assert {g["kind"]: g["used"] for g in user.cs_grants} == {"message": 5, "click": 5}
    clock.advance(30)
    sim.click(openid, "MY_POINTS")  # replaces the click grant: 3 more within the minute
    assert user.cs_quota(fake.now()) == (3, 60)
    assert [cs(fake, token, openid)["errcode"] for _ in range(4)] == [0, 0, 0, 45047]


def test_cs_quota_helper(fake, acc, sim, clock):
    openid = sim.follow().openid
    user = acc.user(openid)
    assert user.cs_quota(fake.now()) == (3, 60)
    clock.advance(20)
    assert user.cs_quota(fake.now()) == (3, 40)
    user.open_cs_window(fake.now(), "message")
    assert user.cs_quota(fake.now()) == (5, 48 * 3600)
    with pytest.raises(ValueError):
        user.open_cs_window(fake.now(), "share")
    sim.unfollow(openid)
    assert user.cs_grants == [] and user.cs_quota(fake.now()) == (0, 0)


def _pay(fake, acc, openid, out_trade_no):
    code = fake.pay_script(fake.auth_code(), "SUCCESS", openid=openid)
    fields = {"body": "coffee", "out_trade_no": out_trade_no, "total_fee": 100, "spbill_create_ip": "127.0.0.1"}
    paid = pay_post(fake, acc, "/pay/micropay", dict(fields, auth_code=code))
    assert paid["result_code"] == "SUCCESS" and paid["is_subscribe"] == "Y"


@pytest.mark.fake_violations_expected
def test_cs_payment_opens_nothing(fake, acc, token):
    openid = acc.add_follower()
    _pay(fake, acc, openid, "T1")
    assert acc.user(openid).cs_grants == []
    assert cs(fake, token, openid)["errcode"] == 45015
    assert fake.violation_rules() == ["cs_outside_window"]


@pytest.mark.fake_violations_expected
def test_messages_through_wechatpy(fake, acc, token, sim):
    client = make_client(fake, acc, token)
    openid = acc.add_follower()
    acc.add_template("TPL1", keywords=KEYWORDS)
    with pytest.raises(WeChatClientException) as err:
        client.message.send_text(openid, "too early")
    assert err.value.errcode == 45015
    sim.text(openid, "hi")
    assert client.message.send_text(openid, "welcome") == {"errcode": 0, "errmsg": "ok"}
    res = client.message.send_template(openid, "TPL1", sample_data(KEYWORDS), url="http://example.com")
    assert res["msgid"] == acc.template_messages[0]["msgid"]
    with pytest.raises(WeChatClientException) as err:
        client.message.send_template(openid, "TPL1", {"first": {"value": "x"}})
    assert err.value.errcode == 47003
    assert fake.violation_rules() == ["cs_outside_window", "template_data_invalid"]


# -- menu ----------------------------------------------------------------------------
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
