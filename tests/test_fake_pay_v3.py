"""WeChat Pay APIv3 scan-to-pay on the fake: request and answer signatures (public key and platform
certificate modes), codepay outcomes, query, reverse, refunds, service-provider ids; via the
``wechatpayv3`` package as a merchant would use it."""

import json
import re

import pytest
from wechatpayv3 import WeChatPay, WeChatPayType

SP_MCHID = "1230000109"
SP_APPID = "wxsp00000000000001"
SUB_MCHID = "1900000777"


def make_v3(fake, mchid, appid, partner=False, certificates=False):
    """A ``wechatpayv3.WeChatPay`` for ``mchid`` pointed at the fake (never at the real host)."""
    private_key, serial_no, apiv3_key = fake.pay_v3_merchant(mchid, appid=appid if partner else None)
    public_key, public_key_id = fake.pay_v3_public_key()
    wxpay = WeChatPay(
        WeChatPayType.CODEPAY,
        mchid=mchid,
        private_key=private_key,
        cert_serial_no=serial_no,
        appid=appid,
        apiv3_key=apiv3_key,
        partner_mode=partner,
        public_key=public_key,
        public_key_id=public_key_id,
        timeout=5,
    )
    core = wxpay._core
    core._gate_way = fake.url
    if certificates:
        # Platform-certificate mode: verify answers with the certificates listed by /v3/certificates.
        core._public_key = core._public_key_id = None
        core._update_certificates()
        assert core._certificates
    return wxpay


@pytest.fixture
def v3(fake, acc):
    return make_v3(fake, acc.mch_id, acc.appid)


def codepay(wxpay, code, out_trade_no="T1", total=1000, **kwargs):
    status, text = wxpay.pay(
        description="Store 1 - coffee",
        out_trade_no=out_trade_no,
        amount={"total": total, "currency": "CNY"},
        payer={"auth_code": code},
        scene_info={"device_ip": "127.0.0.1", "store_info": {"out_id": "POS1"}},
        pay_type=WeChatPayType.CODEPAY,
        **kwargs,
    )
    return status, json.loads(text)


def test_codepay_success_signed_answer(fake, acc, v3):
    status, data = codepay(v3, fake.auth_code())  # wechatpayv3 raises on a bad answer signature
    assert status == 200
    assert data["trade_state"] == "SUCCESS" and data["out_trade_no"] == "T1"
    assert data["amount"]["total"] == 1000 and len(data["payer"]["openid"]) == 28
    assert "is_subscribe" not in data  # APIv3 answers do not say whether the payer follows
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", data["success_time"])
    order = fake.order("T1")
    assert order.state == "SUCCESS" and order.transaction_id == data["transaction_id"]
    assert fake.violations == []


def test_platform_certificate_mode(fake, acc):
    wxpay = make_v3(fake, acc.mch_id, acc.appid, certificates=True)
    status, data = codepay(wxpay, fake.auth_code())
    assert status == 200 and data["trade_state"] == "SUCCESS"
    assert fake.calls_to("/v3/certificates")
    assert fake.violations == []


def test_bad_answer_signature_refused(fake, acc, v3):
    fake.pay_v3_bad_signature()
    with pytest.raises(Exception, match="failed to verify the signature"):
        codepay(v3, fake.auth_code())
    status, data = v3.query(out_trade_no="T1")  # the next answer is signed again
    assert status == 200 and data


@pytest.mark.fake_violations_expected
def test_bad_request_signature_401(fake, acc, v3):
    # Signed with another merchant's key: refused, unsigned.
    v3._core._private_key = make_v3(fake, "1999999999", acc.appid)._core._private_key
    status, text = v3.query(out_trade_no="T1")
    assert status == 401 and json.loads(text)["code"] == "SIGN_ERROR"
    assert fake.violation_rules() == ["v3_request_signature"]


def test_userpaying_then_query_then_paid(fake, acc, v3):
    code = fake.pay_script(fake.auth_code(), ("USERPAYING", 1))
    status, data = codepay(v3, code)
    assert (status, data["code"]) == (202, "USERPAYING")
    data = json.loads(v3.query(out_trade_no="T1")[1])
    assert data["trade_state"] == "USERPAYING" and "payer" not in data
    data = json.loads(v3.query(out_trade_no="T1")[1])
    assert data["trade_state"] == "SUCCESS" and data["payer"]["openid"]
    assert fake.violations == []


def test_systemerror_charged_and_repeat(fake, acc, v3):
    code = fake.pay_script(fake.auth_code(), "SYSTEMERROR")
    status, data = codepay(v3, code)
    assert (status, data["code"]) == (500, "SYSTEM_ERROR")
    assert v3.query(out_trade_no="T1")[0] == 200
    assert json.loads(v3.query(out_trade_no="T1")[1])["trade_state"] == "SUCCESS"
    status, data = codepay(v3, code)  # charging the same out_trade_no again is a double charge
    assert (status, data["code"]) == (403, "ORDER_PAID")
    assert fake.violation_rules() == ["double_charge"]
    fake.clear_logs()


def test_definitive_errors(fake, acc, v3):
    assert codepay(v3, "160000000000000000")[1]["code"] == "AUTH_CODE_INVALID"
    assert codepay(v3, fake.pay_script(fake.auth_code(), "NOTENOUGH"), "T2")[1]["code"] == "NOT_ENOUGH"
    code = fake.auth_code()
    codepay(v3, code, "T3")
    assert codepay(v3, code, "T4")[1]["code"] == "AUTHCODE_EXPIRE"
    status, text = v3.query(out_trade_no="NOPE")
    assert (status, json.loads(text)["code"]) == (404, "ORDER_NOT_EXIST")
    assert fake.violations == []


def test_reverse_and_refunds(fake, acc, v3, clock):
    codepay(v3, fake.pay_script(fake.auth_code(), "USERPAYING_FOREVER"), "T1")
    clock.advance(16)
    status, text = v3.codepay_reverse("T1")
    assert status == 200 and json.loads(text)["out_trade_no"] == "T1"
    assert fake.order("T1").state == "REVOKED"
    codepay(v3, fake.auth_code(), "T2", total=1000)
    status, text = v3.refund("R1", {"refund": 300, "total": 1000, "currency": "CNY"}, out_trade_no="T2")
    data = json.loads(text)
    assert status == 200 and data["status"] == "PROCESSING" and data["amount"]["refund"] == 300
    # The same out_refund_no again refunds nothing more.
    status, text = v3.refund("R1", {"refund": 300, "total": 1000, "currency": "CNY"}, out_trade_no="T2")
    assert json.loads(text)["refund_id"] == data["refund_id"]
    status, text = v3.refund("R2", {"refund": 800, "total": 1000, "currency": "CNY"}, out_trade_no="T2")
    assert (status, json.loads(text)["code"]) == (400, "INVALID_REQUEST")
    status, text = v3.query_refund("R1")
    assert status == 200 and json.loads(text)["status"] == "SUCCESS"
    assert [r["refund_fee"] for r in fake.refunds if r["out_trade_no"] == "T2"] == [300]
    assert v3.query_refund("R9")[0] == 404
    assert fake.violations == []


def test_reverse_userpaying_then_reverse_expire(fake, acc, v3, clock):
    """As v2: a reverse while the payer is on the password screen answers USERPAYING (call again), a reverse of
    an order older than 7 days REVERSE_EXPIRE; WeChat revokes no unpaid order by itself."""
    codepay(v3, fake.pay_script(fake.auth_code(), "USERPAYING_FOREVER", reverse_userpaying=1), "T1")
    clock.advance(120)
    assert fake.order("T1").state == "USERPAYING", "no auto-revoke"
    status, text = v3.codepay_reverse("T1")
    assert json.loads(text)["code"] == "USERPAYING"
    status, text = v3.codepay_reverse("T1")
    assert status == 200 and fake.order("T1").state == "REVOKED"
    codepay(v3, fake.auth_code(), "T2")
    clock.advance(8 * 24 * 3600)
    status, text = v3.codepay_reverse("T2")
    assert json.loads(text)["code"] == "REVERSE_EXPIRE"
    assert fake.order("T2").state == "SUCCESS"
    assert fake.violations == []


def test_partner_mode_sub_openid(fake, acc):
    fake.pay_v3_merchant(SP_MCHID, appid=SP_APPID, partner=True)
    fake.pay_v3_sub_merchant(SP_MCHID, SUB_MCHID, sub_appid=acc.appid)
    sp = make_v3(fake, SP_MCHID, SP_APPID, partner=True)
    follower = acc.add_follower()
    code = fake.pay_script(fake.auth_code(), "SUCCESS", openid=follower)
    status, data = codepay(sp, code, sub_mchid=SUB_MCHID, sub_appid=acc.appid)
    assert status == 200
    assert data["payer"]["sub_openid"] == follower and data["sub_mchid"] == SUB_MCHID
    status, text = sp.query(out_trade_no="T1", sub_mchid=SUB_MCHID)
    assert json.loads(text)["payer"]["sub_openid"] == follower
    status, text = sp.refund(
        "R1", {"refund": 1000, "total": 1000, "currency": "CNY"}, out_trade_no="T1", sub_mchid=SUB_MCHID
    )
    assert status == 200
    assert fake.violations == []


@pytest.mark.fake_violations_expected
def test_partner_ids_checked(fake, acc):
    fake.pay_v3_merchant(SP_MCHID, appid=SP_APPID, partner=True)
    fake.pay_v3_sub_merchant(SP_MCHID, SUB_MCHID, sub_appid=acc.appid)
    sp = make_v3(fake, SP_MCHID, SP_APPID, partner=True)
    status, data = codepay(sp, fake.auth_code(), sub_mchid="1900000888", sub_appid=acc.appid)
    assert status == 400
    status, data = codepay(sp, fake.auth_code(), "T2", sub_mchid=SUB_MCHID, sub_appid="wxnotbound0000001")
    assert (status, data["code"]) == (400, "APPID_MCHID_NOT_MATCH")
    assert fake.violation_rules() == ["v3_partner_ids", "v3_partner_ids"]
    assert fake.payments.orders == {}
