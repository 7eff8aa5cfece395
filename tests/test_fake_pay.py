"""WeChat Pay v2 scan-to-pay: signatures, auth codes, scripted outcomes
(USERPAYING, SYSTEMERROR, ...), query, reverse, refund; via signed XML and
wechatpy 1.8.18's WeChatPay."""

import re
from types import SimpleNamespace

import pytest
from fakewechat.testing import make_pay, pay_post
from wechatpy.exceptions import WeChatPayException


@pytest.fixture
def pay(fake, acc):
    return make_pay(fake, acc)


def micropay(pay, code, out_trade_no="T1", total_fee=1000):
    return pay.micropay.create(
        body="Store 1 - coffee", total_fee=total_fee, auth_code=code, client_ip="127.0.0.1", out_trade_no=out_trade_no
    )


def error_of(fn, *args, **kwargs):
    with pytest.raises(WeChatPayException) as err:
        fn(*args, **kwargs)
    return err.value.errcode


def test_micropay_success_answer(fake, acc, pay):
    code = fake.auth_code()
    data = micropay(pay, code)
    assert pay.check_signature(data)
    assert data["result_code"] == "SUCCESS" and data["trade_type"] == "MICROPAY"
    assert data["total_fee"] == "1000" and data["out_trade_no"] == "T1"
    assert re.fullmatch(r"\d{28}", data["transaction_id"]) and re.fullmatch(r"\d{14}", data["time_end"])
    assert data["is_subscribe"] == "N" and len(data["openid"]) == 28  # new payer, not a follower
    assert not acc.user(data["openid"]).subscribe
    assert fake.order("T1").state == "SUCCESS"
    assert fake.violations == []


def test_is_subscribe_follows_the_account(fake, acc, pay):
    follower = acc.add_follower()
    data = micropay(pay, fake.pay_script(fake.auth_code(), "SUCCESS", openid=follower))
    assert (data["openid"], data["is_subscribe"]) == (follower, "Y")
    forced = micropay(pay, fake.pay_script(fake.auth_code(), "SUCCESS", is_subscribe="Y"), out_trade_no="T2")
    assert forced["is_subscribe"] == "Y"


def test_auth_code_format_and_single_use(fake, acc, pay):
    assert error_of(micropay, pay, "160000000000000000") == "AUTH_CODE_INVALID"
    assert error_of(micropay, pay, "13000000000000000") == "AUTH_CODE_INVALID"
    assert error_of(micropay, pay, "abc") == "AUTH_CODE_INVALID"
    code = fake.auth_code("10")
    micropay(pay, code, "T1")
    assert error_of(micropay, pay, code, "T2") == "AUTHCODEEXPIRE"
    expired = fake.pay_script(fake.auth_code("15"), "AUTHCODEEXPIRE")
    assert error_of(micropay, pay, expired, "T3") == "AUTHCODEEXPIRE"


def test_bad_signature_and_wrong_merchant(fake, acc):
    fields = {
        "body": "x",
        "out_trade_no": "T1",
        "total_fee": 1,
        "spbill_create_ip": "127.0.0.1",
        "auth_code": fake.auth_code(),
    }
    bad = pay_post(fake, acc, "/pay/micropay", fields, key="0" * 32)
    assert bad == {"return_code": "FAIL", "return_msg": "sign error"}
    hmac = pay_post(fake, acc, "/pay/micropay", fields, sign_type="HMAC-SHA256")
    assert hmac["result_code"] == "SUCCESS"
    wrong_mch = SimpleNamespace(appid=acc.appid, mch_id="1900000999", mch_key=acc.mch_key)
    answer = pay_post(fake, wrong_mch, "/pay/micropay", dict(fields, auth_code=fake.auth_code()))
    assert answer["return_code"] == "FAIL" and "mch_id" in answer["return_msg"]
    unknown = SimpleNamespace(appid="wxunknown", mch_id=acc.mch_id, mch_key=acc.mch_key)
    assert pay_post(fake, unknown, "/pay/micropay", fields)["return_code"] == "FAIL"


def test_userpaying_then_success_after_n_queries(fake, acc, pay):
    code = fake.pay_script(fake.auth_code(), ("USERPAYING", 2))
    assert error_of(micropay, pay, code) == "USERPAYING"
    states = [pay.micropay.query(out_trade_no="T1")["trade_state"] for _ in range(3)]
    assert states == ["USERPAYING", "USERPAYING", "SUCCESS"]
    paid = pay.micropay.query(out_trade_no="T1")
    assert pay.check_signature(paid) and paid["openid"] and paid["time_end"]


def test_unpaid_order_is_not_revoked_by_wechat_itself(fake, acc, pay, clock):
    """The domestic docs tell the merchant to reverse (after ~30 s): WeChat does not do it for him."""
    code = fake.pay_script(fake.auth_code(), "USERPAYING_FOREVER")
    assert error_of(micropay, pay, code) == "USERPAYING"
    clock.advance(600)
    assert pay.micropay.query(out_trade_no="T1")["trade_state"] == "USERPAYING"
    assert error_of(micropay, pay, code) == "USERPAYING"  # the same request again: still paying
    assert fake.refunds == [] and fake.violations == []


def test_queries_every_second_are_not_a_violation(fake, acc, pay, clock):
    """The docs advise an interval (5-10 s) but give no minimum: no violation for polling faster."""
    code = fake.pay_script(fake.auth_code(), ("USERPAYING", 5))
    error_of(micropay, pay, code)
    states = []
    for _i in range(6):
        clock.advance(1)
        states.append(pay.micropay.query(out_trade_no="T1")["trade_state"])
    assert states == ["USERPAYING"] * 5 + ["SUCCESS"]
    assert fake.violations == []


def test_reverse_while_the_payer_is_paying_answers_userpaying(fake, acc, pay, clock):
    code = fake.pay_script(fake.auth_code(), "USERPAYING_FOREVER", reverse_userpaying=2)
    error_of(micropay, pay, code)
    clock.advance(20)
    assert error_of(pay.order.reverse, out_trade_no="T1") == "USERPAYING"
    assert error_of(pay.order.reverse, out_trade_no="T1") == "USERPAYING"
    assert pay.micropay.query(out_trade_no="T1")["trade_state"] == "USERPAYING"  # not reversed
    assert pay.order.reverse(out_trade_no="T1")["recall"] == "N"  # the payer left the password screen
    assert pay.micropay.query(out_trade_no="T1")["trade_state"] == "REVOKED"
    assert fake.refunds == [] and fake.violations == []


def test_reverse_only_within_7_days(fake, acc, pay, clock):
    micropay(pay, fake.auth_code(), "T1")
    micropay(pay, fake.auth_code(), "T2")
    clock.advance(7 * 86400)
    assert pay.order.reverse(out_trade_no="T1")["recall"] == "N"  # 7 days: still allowed
    clock.advance(1)
    assert error_of(pay.order.reverse, out_trade_no="T2") == "REVERSE_EXPIRE"
    assert pay.micropay.query(out_trade_no="T2")["trade_state"] == "SUCCESS"  # kept: refund it instead
    assert [r["out_trade_no"] for r in fake.refunds] == ["T1"]
    assert fake.violations == []


def test_reverse_with_recall_and_refund_of_paid_order(fake, acc, pay, clock):
    code = fake.pay_script(fake.auth_code(), "USERPAYING_FOREVER", recall=1)
    error_of(micropay, pay, code)
    clock.advance(30)
    assert pay.order.reverse(out_trade_no="T1")["recall"] == "Y"
    assert pay.order.reverse(out_trade_no="T1")["recall"] == "N"
    assert pay.micropay.query(out_trade_no="T1")["trade_state"] == "REVOKED"
    assert fake.refunds == []
    micropay(pay, fake.auth_code(), "T2")
    clock.advance(20)
    pay.order.reverse(out_trade_no="T2")
    assert [(r["out_trade_no"], r["refund_fee"], r["reason"]) for r in fake.refunds] == [("T2", 1000, "reverse")]
    assert fake.violations == []


@pytest.mark.fake_violations_expected
def test_reverse_too_early_is_a_violation(fake, acc, pay, clock):
    code = fake.pay_script(fake.auth_code(), "USERPAYING_FOREVER")
    error_of(micropay, pay, code)
    clock.advance(3)
    assert pay.order.reverse(out_trade_no="T1")["recall"] == "N"
    assert fake.violation_rules() == ["reverse_too_early"]


@pytest.mark.fake_violations_expected
def test_systemerror_charged_then_query_and_never_recharge(fake, acc, pay):
    code = fake.pay_script(fake.auth_code(), "SYSTEMERROR")
    assert error_of(micropay, pay, code) == "SYSTEMERROR"
    assert pay.micropay.query(out_trade_no="T1")["trade_state"] == "SUCCESS"  # the charge happened
    assert fake.violations == []
    assert error_of(micropay, pay, code) == "ORDERPAID"  # retry: refused, but a bug
    assert error_of(micropay, pay, fake.auth_code()) == "OUT_TRADE_NO_USED"
    assert fake.violation_rules() == ["double_charge", "double_charge"]


def test_failures_that_do_not_charge(fake, acc, pay):
    poor = fake.pay_script(fake.auth_code(), "NOTENOUGH")
    assert error_of(micropay, pay, poor, "T1") == "NOTENOUGH"
    assert pay.micropay.query(out_trade_no="T1")["trade_state"] == "PAYERROR"
    lost = fake.pay_script(fake.auth_code(), "SYSTEMERROR_UNCHARGED")
    assert error_of(micropay, pay, lost, "T2") == "SYSTEMERROR"
    assert pay.micropay.query(out_trade_no="T2")["trade_state"] == "PAYERROR"
    assert error_of(pay.micropay.query, out_trade_no="missing") == "ORDERNOTEXIST"


def test_authcode_to_openid_matches_the_payer(fake, acc, pay):
    code = fake.auth_code()
    openid = pay.tools.auto_code_to_openid(code)["openid"]
    assert micropay(pay, code)["openid"] == openid
    assert error_of(pay.tools.auto_code_to_openid, "99") == "AUTH_CODE_INVALID"


def test_refund(fake, acc, pay):
    data = micropay(pay, fake.auth_code())
    fields = {"transaction_id": data["transaction_id"], "out_refund_no": "R1", "total_fee": 1000, "refund_fee": 300}
    first = pay_post(fake, acc, "/secapi/pay/refund", fields)
    assert first["result_code"] == "SUCCESS" and first["refund_fee"] == "300"
    assert pay_post(fake, acc, "/secapi/pay/refund", fields)["refund_id"] == first["refund_id"]  # idempotent
    over = pay_post(fake, acc, "/secapi/pay/refund", dict(fields, out_refund_no="R2", refund_fee=800))
    assert over["err_code"] == "INVALID_REQUEST"
    assert pay.micropay.query(out_trade_no="T1")["trade_state"] == "REFUND"
    assert sum(r["refund_fee"] for r in fake.refunds) == 300


def test_invalid_outcome_is_rejected(fake):
    with pytest.raises(ValueError):
        fake.pay_script(fake.auth_code(), "MAYBE")
