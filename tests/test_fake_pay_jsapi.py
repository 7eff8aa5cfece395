"""WeChat Pay v2 JSAPI (公众号支付) on the fake platform: /pay/unifiedorder (JSAPI, NATIVE), re-entry and its
errors, orderquery / closeorder / time_expire, wx.chooseWXPay over the JS-SDK stand-in (paySign, payer, expiry,
payment directories, the user's cancel), the payment result notification (signed, retried on WeChat's schedule
until the merchant answers SUCCESS, duplicates and forged ones injected), refunds of a JSAPI order and the
control endpoints."""

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fakewechat.clock import beijing_compact
from fakewechat.crypto import pay_sign
from fakewechat.pay_jsapi import NOTIFY_ACK, PAY_NOTIFY_DELAYS, page_in_dirs
from fakewechat.testing import make_pay, pay_post, session
from fakewechat.xmlutil import parse_xml
from test_fake_subscribe import PAGE, _browser, _serve_page_dynamic, config, js_post, ticket
from wechatpy.exceptions import InvalidSignatureException, WeChatPayException

FAIL_XML = "<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[签名失败]]></return_msg></xml>"


class Merchant:
    """The merchant's ``notify_url``: records every notification; answers ``answers`` in turn (each an
    ``(status, body)`` or ``"hang"``: no answer within the fake's timeout), then ``NOTIFY_ACK``."""

    def __init__(self):
        self.lock = threading.Lock()
        self.received = []  # parsed notifications, arrival order
        self.raw = []  # (path, body bytes)
        self.answers = []
        self.hang = 2.5
        self._stop = threading.Event()
        merchant = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with merchant.lock:
                    merchant.raw.append((self.path, body))
                    merchant.received.append(parse_xml(body))
                    answer = merchant.answers.pop(0) if merchant.answers else (200, NOTIFY_ACK)
                if answer == "hang":
                    merchant._stop.wait(merchant.hang)
                    answer = (200, NOTIFY_ACK)
                status, text = answer
                data = text.encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/xml; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the fake gave up waiting

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    @property
    def url(self):
        return "http://127.0.0.1:%d/wechat/pay/notify" % self.server.server_address[1]

    def stop(self):
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def merchant():
    m = Merchant()
    yield m
    m.stop()


@pytest.fixture
def fast(fake):
    """WeChat's notification schedule a thousand times faster; the merchant has 1 s to answer."""
    fake.set_pay_notify_delays(scale=0.001)
    fake.pay_notify_timeout = 1.0
    return fake


@pytest.fixture
def pay(fake, acc):
    return make_pay(fake, acc)


def order_fields(merchant, openid, out_trade_no="P1", total_fee=2500, **extra):
    fields = {
        "body": "Shop - pre-order",
        "out_trade_no": out_trade_no,
        "total_fee": total_fee,
        "spbill_create_ip": "203.0.113.7",
        "notify_url": merchant.url,
        "trade_type": "JSAPI",
        "openid": openid,
        "attach": "member:42",
    }
    fields.update(extra)
    return {k: v for k, v in fields.items() if v is not None}


def unifiedorder(fake, acc, merchant, openid, sign_type=None, **kwargs):
    return pay_post(fake, acc, "/pay/unifiedorder", order_fields(merchant, openid, **kwargs), sign_type=sign_type)


def pay_params(acc, prepay_id, sign_type="MD5", key=None, timestamp="1700000000", nonce="n0nce"):
    """What the product's server gives the page for wx.chooseWXPay (timestamp in lower case)."""
    signed = {
        "appId": acc.appid,
        "timeStamp": timestamp,
        "nonceStr": nonce,
        "package": f"prepay_id={prepay_id}",
        "signType": sign_type,
    }
    return {
        "timestamp": timestamp,
        "nonceStr": nonce,
        "package": signed["package"],
        "signType": sign_type,
        "paySign": pay_sign(signed, key or acc.mch_key, sign_type),
    }


def js_session(fake, acc, token, openid, apis=("chooseWXPay",)):
    return config(fake, acc, ticket(fake, token), fake_openid=openid, jsApiList=list(apis))["session"]


def choose(fake, acc, session_id, args):
    body = {"session": session_id, "appId": acc.appid, "api": "chooseWXPay", "args": args}
    return js_post(fake, "/_fake/jssdk/call", body)


def query(fake, acc, out_trade_no="P1"):
    return pay_post(fake, acc, "/pay/orderquery", {"out_trade_no": out_trade_no})


def wait_for(predicate, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


# -- signatures ----------------------------------------------------------------------------------
def test_pay_sign_matches_the_documented_examples():
    """The JSAPI调起支付 pages' examples (v2 merchant and partner docs)."""
    key = "qazwsxedcrfvtgbyhnujmikolp111111"
    page = {
        "appId": "wx619a931576afe069",
        "nonceStr": "RIPb5Upk3ku7knU6",
        "package": "prepay_id=wx2611334392677180ea59742b3744840000",
        "timeStamp": "1774495197",
    }
    assert pay_sign(dict(page, signType="MD5"), key) == "1F2E9533D7D483FBCDBD0B9BCA76F97D"
    assert pay_sign(dict(page, signType="HMAC-SHA256"), key, "HMAC-SHA256") == (
        "4A04CF5B979A4920409A9DEF2322C33C96DE8E9A96830E648719C60EF991700E"
    )
    partner = {
        "appId": "wxd678efh567hg6787",
        "nonceStr": "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
        "package": "prepay_id=wx2017033010242291fcfe0db70013231072",
        "signType": "MD5",
        "timeStamp": "1490840662",
    }
    assert pay_sign(partner, key) == "22D9B4E54AB1950F51E0649E8810ACD6"


# -- unifiedorder --------------------------------------------------------------------------------
def test_unifiedorder_jsapi_with_wechatpy(fake, acc, pay, merchant):
    openid = acc.add_follower()
    data = pay.order.create(
        trade_type="JSAPI",
        body="Shop - pre-order",
        total_fee=2500,
        notify_url=merchant.url,
        client_ip="203.0.113.7",
        user_id=openid,
        out_trade_no="P1",
        attach="member:42",
    )
    assert pay.check_signature(data)
    assert data["result_code"] == "SUCCESS" and data["trade_type"] == "JSAPI"
    assert re.fullmatch(r"wx\d{14}[0-9a-f]{20}", data["prepay_id"]) and "code_url" not in data
    order = fake.order("P1")
    assert (order.trade_type, order.state, order.openid, order.transaction_id) == ("JSAPI", "NOTPAY", openid, None)
    unpaid = pay.order.query(out_trade_no="P1")
    assert unpaid["trade_state"] == "NOTPAY" and unpaid["attach"] == "member:42"
    assert "transaction_id" not in unpaid and "openid" not in unpaid  # nothing paid, nobody yet
    assert fake.violations == []


def test_unifiedorder_native_answers_a_code_url(fake, acc, merchant):
    data = unifiedorder(fake, acc, merchant, None, trade_type="NATIVE", product_id="SKU-1")
    assert data["result_code"] == "SUCCESS" and data["trade_type"] == "NATIVE"
    assert re.fullmatch(r"weixin://wxpay/bizpayurl\?pr=\w{7}", data["code_url"]) and data["prepay_id"]
    missing = unifiedorder(fake, acc, merchant, None, out_trade_no="P2", trade_type="NATIVE")
    assert (missing["err_code"], missing["err_code_des"]) == ("PARAM_ERROR", "NATIVE支付必须传product_id")
    # the member scans it: the payer is whoever scanned
    scanner = acc.add_follower()
    order = fake.pay_jsapi("P1", openid=scanner)
    assert (order.state, order.openid, order.is_subscribe) == ("SUCCESS", scanner, "Y")
    assert query(fake, acc)["trade_type"] == "NATIVE"
    fake.wait_idle()


@pytest.mark.parametrize("field", ["body", "out_trade_no", "total_fee", "spbill_create_ip", "notify_url", "trade_type"])
def test_unifiedorder_missing_field(fake, acc, merchant, field):
    data = pay_post(fake, acc, "/pay/unifiedorder", dict(order_fields(merchant, acc.add_follower()), **{field: None}))
    assert data["return_code"] == "SUCCESS" and data["result_code"] == "FAIL"
    assert (data["err_code"], data["err_code_des"]) == ("LACK_PARAMS", f"缺少参数{field}")


@pytest.mark.parametrize(
    "change, des",
    [
        ({"total_fee": 0}, "total_fee参数格式错误"),
        ({"total_fee": "12.5"}, "total_fee参数格式错误"),
        ({"out_trade_no": "P 1"}, "out_trade_no参数格式错误"),
        ({"out_trade_no": "P" * 33}, "out_trade_no参数格式错误"),
        ({"trade_type": "APP"}, "trade_type参数错误"),
        ({"trade_type": "MICROPAY"}, "trade_type参数错误"),
        ({"fee_type": "USD"}, "fee_type参数错误"),
        ({"notify_url": "notify.php"}, "notify_url参数格式错误"),
        ({"openid": None}, "JSAPI支付必须传openid"),
        ({"openid": "oUnknownToThisAccount000000"}, "appid和openid不匹配"),
        ({"time_expire": "2023-11-15"}, "time_expire参数格式错误"),
    ],
)
def test_unifiedorder_param_errors(fake, acc, merchant, change, des):
    fields = dict(order_fields(merchant, acc.add_follower()), **change)
    data = pay_post(fake, acc, "/pay/unifiedorder", {k: v for k, v in fields.items() if v is not None})
    assert (data["result_code"], data["err_code"], data["err_code_des"]) == ("FAIL", "PARAM_ERROR", des)
    assert fake.payments.orders == {}


def test_unifiedorder_openid_of_another_account(fake, acc, merchant):
    other = fake.add_account("wx00000000000000aa", "s" * 32, mch_id="1900000110", mch_key="m" * 32)
    stranger = other.add_follower()
    data = unifiedorder(fake, acc, merchant, stranger)
    assert (data["err_code"], data["err_code_des"]) == ("PARAM_ERROR", "appid和openid不匹配")


def test_unifiedorder_time_expire_at_least_one_minute(fake, acc, merchant, clock):
    openid = acc.add_follower()
    short = unifiedorder(fake, acc, merchant, openid, time_expire=beijing_compact(clock() + 59))
    assert short["err_code"] == "PARAM_ERROR" and "time_expire" in short["err_code_des"]
    past = unifiedorder(fake, acc, merchant, openid, time_expire=beijing_compact(clock() - 3600))
    assert past["err_code"] == "PARAM_ERROR"
    ok = unifiedorder(fake, acc, merchant, openid, time_expire=beijing_compact(clock() + 60))
    assert ok["result_code"] == "SUCCESS"
    assert fake.order("P1").time_expire == int(clock()) + 60


def test_unifiedorder_signature_and_hmac_answer(fake, acc, merchant):
    openid = acc.add_follower()
    bad = pay_post(fake, acc, "/pay/unifiedorder", order_fields(merchant, openid), key="0" * 32)
    assert bad == {"return_code": "FAIL", "return_msg": "sign error"}
    data = unifiedorder(fake, acc, merchant, openid, sign_type="HMAC-SHA256")
    assert data["result_code"] == "SUCCESS"
    assert data["sign"] == pay_sign(data, acc.mch_key, "HMAC-SHA256")  # signed the way the request was
    assert fake.order("P1").sign_type == "HMAC-SHA256"


def test_reentry_same_parameters_same_prepay_then_new_after_two_hours(fake, acc, merchant, clock, token):
    openid = acc.add_follower()
    first = unifiedorder(fake, acc, merchant, openid)["prepay_id"]
    session_id = js_session(fake, acc, token, openid)
    # nonce_str and spbill_create_ip may change
    again = unifiedorder(fake, acc, merchant, openid, spbill_create_ip="198.51.100.1")
    assert again["prepay_id"] == first
    clock.advance(2 * 3600)
    renewed = unifiedorder(fake, acc, merchant, openid)["prepay_id"]
    assert renewed != first and fake.order("P1").prepay_id == renewed
    # the old prepay_id is dead, the new one pays
    assert (
        choose(fake, acc, session_id, pay_params(acc, first))["errMsg"] == "chooseWXPay:fail 该订单已过期，请重新下单"
    )
    assert choose(fake, acc, session_id, pay_params(acc, renewed))["errMsg"] == "chooseWXPay:ok"
    fake.wait_idle()


@pytest.mark.parametrize(
    "change", [{"total_fee": 2600}, {"body": "other"}, {"attach": None}, {"time_start": "20231115000000"}]
)
def test_reentry_other_parameters_is_201(fake, acc, merchant, change):
    openid = acc.add_follower()
    unifiedorder(fake, acc, merchant, openid)
    data = unifiedorder(fake, acc, merchant, openid, **change)
    assert (data["err_code"], data["err_code_des"]) == ("INVALID_REQUEST", "201 商户订单号重复")


def test_reentry_of_paid_closed_and_micropay_orders(fake, acc, merchant, pay, clock):
    openid = acc.add_follower()
    unifiedorder(fake, acc, merchant, openid, out_trade_no="PAID")
    fake.pay_jsapi("PAID")
    assert unifiedorder(fake, acc, merchant, openid, out_trade_no="PAID")["err_code"] == "ORDERPAID"
    unifiedorder(fake, acc, merchant, openid, out_trade_no="SHUT")
    clock.advance(300)
    assert pay_post(fake, acc, "/pay/closeorder", {"out_trade_no": "SHUT"})["result_code"] == "SUCCESS"
    assert unifiedorder(fake, acc, merchant, openid, out_trade_no="SHUT")["err_code"] == "ORDERCLOSED"
    code = fake.pay_script(fake.auth_code(), "NOTENOUGH")
    with pytest.raises(WeChatPayException):
        pay.micropay.create(body="x", total_fee=1, auth_code=code, client_ip="127.0.0.1", out_trade_no="TILL")
    data = unifiedorder(fake, acc, merchant, openid, out_trade_no="TILL")
    assert (data["err_code"], data["err_code_des"]) == ("INVALID_REQUEST", "201 商户订单号重复")
    fake.wait_idle()


@pytest.mark.fake_violations_expected
def test_notify_url_with_a_query_string_is_a_violation(fake, acc, merchant):
    data = unifiedorder(fake, acc, merchant, acc.add_follower(), notify_url=merchant.url + "?account=3")
    assert data["result_code"] == "SUCCESS"
    assert fake.violation_rules() == ["pay_notify_url_query"]


# -- orderquery, closeorder, time_expire -----------------------------------------------------------
def test_closeorder_then_query_closed_and_payment_fails(fake, acc, merchant, clock, token, pay):
    openid = acc.add_follower()
    prepay = unifiedorder(fake, acc, merchant, openid)["prepay_id"]
    clock.advance(300)
    closed = pay.order.close("P1")  # wechatpy
    assert closed["return_code"] == "SUCCESS" and closed["result_code"] == "SUCCESS"
    assert pay.check_signature(closed)
    assert query(fake, acc)["trade_state"] == "CLOSED"
    again = pay_post(fake, acc, "/pay/closeorder", {"out_trade_no": "P1"})
    assert again["err_code"] == "ORDERCLOSED"
    session_id = js_session(fake, acc, token, openid)
    assert choose(fake, acc, session_id, pay_params(acc, prepay))["errMsg"] == "chooseWXPay:fail 该订单已关闭"
    with pytest.raises(ValueError, match="cannot be paid"):
        fake.pay_jsapi("P1")
    # WeChat does not check the number it is asked to close
    assert pay_post(fake, acc, "/pay/closeorder", {"out_trade_no": "NEVER"})["result_code"] == "SUCCESS"
    assert fake.pay_notifications == [] and merchant.received == []


def test_closeorder_of_a_paid_order(fake, acc, merchant, clock):
    unifiedorder(fake, acc, merchant, acc.add_follower())
    fake.pay_jsapi("P1")
    clock.advance(300)
    data = pay_post(fake, acc, "/pay/closeorder", {"out_trade_no": "P1"})
    assert (data["err_code"], data["err_code_des"]) == ("ORDERPAID", "订单已支付")
    assert query(fake, acc)["trade_state"] == "SUCCESS"
    fake.wait_idle()


@pytest.mark.fake_violations_expected
def test_closeorder_within_five_minutes_is_a_violation(fake, acc, merchant, clock):
    unifiedorder(fake, acc, merchant, acc.add_follower())
    clock.advance(60)
    assert pay_post(fake, acc, "/pay/closeorder", {"out_trade_no": "P1"})["result_code"] == "SUCCESS"
    assert fake.violation_rules() == ["closeorder_too_early"]
    assert query(fake, acc)["trade_state"] == "CLOSED"


def test_time_expire_passed_cannot_be_paid_and_stays_notpay(fake, acc, merchant, clock, token):
    openid = acc.add_follower()
    prepay = unifiedorder(fake, acc, merchant, openid, time_expire=beijing_compact(clock() + 600))["prepay_id"]
    clock.advance(601)
    session_id = js_session(fake, acc, token, openid)
    assert (
        choose(fake, acc, session_id, pay_params(acc, prepay))["errMsg"] == "chooseWXPay:fail 该订单已过期，请重新下单"
    )
    with pytest.raises(ValueError, match="过期"):
        fake.pay_jsapi("P1")
    assert query(fake, acc)["trade_state"] == "NOTPAY"  # WeChat does not close it: the merchant does
    assert pay_post(fake, acc, "/pay/closeorder", {"out_trade_no": "P1"})["result_code"] == "SUCCESS"
    assert query(fake, acc)["trade_state"] == "CLOSED"


# -- wx.chooseWXPay ------------------------------------------------------------------------------
def test_choose_wx_pay_pays_and_notifies(fake, acc, merchant, pay, token):
    openid = acc.add_follower()
    prepay = unifiedorder(fake, acc, merchant, openid)["prepay_id"]
    session_id = js_session(fake, acc, token, openid)
    params = pay.jsapi.get_jsapi_params(prepay, timestamp="1700000000", nonce_str="abc", jssdk=True)
    assert set(params) >= {"timestamp", "nonceStr", "package", "signType", "paySign"}
    res = choose(fake, acc, session_id, {k: v for k, v in params.items() if k != "appId"})
    assert res == {"errMsg": "chooseWXPay:ok"}
    paid = query(fake, acc)
    assert pay.check_signature(paid)
    assert (paid["trade_state"], paid["trade_type"], paid["openid"], paid["is_subscribe"]) == (
        "SUCCESS",
        "JSAPI",
        openid,
        "Y",
    )
    assert re.fullmatch(r"\d{28}", paid["transaction_id"]) and paid["time_end"] == beijing_compact(fake.now())
    assert paid["total_fee"] == paid["cash_fee"] == "2500" and paid["attach"] == "member:42"
    assert acc.user(openid).open_grants(fake.now()) == [], "a payment opens no customer-service quota"
    assert wait_for(lambda: fake.order("P1").notify_acknowledged)
    (note,) = merchant.received
    xml = merchant.raw[0][1]
    assert pay.parse_payment_result(xml)["total_fee"] == 2500  # wechatpy verifies the signature
    assert merchant.raw[0][0] == "/wechat/pay/notify"  # no query parameters: the body carries everything
    assert {k: note[k] for k in ("return_code", "result_code", "trade_type", "openid", "out_trade_no")} == {
        "return_code": "SUCCESS",
        "result_code": "SUCCESS",
        "trade_type": "JSAPI",
        "openid": openid,
        "out_trade_no": "P1",
    }
    assert note["transaction_id"] == paid["transaction_id"] and note["time_end"] == paid["time_end"]
    for field in ("appid", "mch_id", "nonce_str", "sign", "is_subscribe", "bank_type", "fee_type", "attach"):
        assert note[field], field
    assert "sign_type" not in note  # MD5: not sent
    (record,) = fake.pay_notifications
    assert (record["mode"], record["attempt"], record["status"], record["acknowledged"]) == ("notify", 1, 200, True)
    assert [c["api"] for c in fake.jssdk_calls] == ["chooseWXPay"]
    assert fake.violations == []


def test_choose_wx_pay_hmac_order(fake, acc, merchant, token):
    openid = acc.add_follower()
    prepay = unifiedorder(fake, acc, merchant, openid, sign_type="HMAC-SHA256")["prepay_id"]
    session_id = js_session(fake, acc, token, openid)
    assert choose(fake, acc, session_id, pay_params(acc, prepay, "HMAC-SHA256"))["errMsg"] == "chooseWXPay:ok"
    assert wait_for(lambda: merchant.received)
    note = merchant.received[0]
    assert note["sign_type"] == "HMAC-SHA256" and note["sign"] == pay_sign(note, acc.mch_key, "HMAC-SHA256")
    fake.wait_idle()


@pytest.mark.fake_violations_expected
def test_choose_wx_pay_bad_pay_sign(fake, acc, merchant, token):
    openid = acc.add_follower()
    prepay = unifiedorder(fake, acc, merchant, openid)["prepay_id"]
    session_id = js_session(fake, acc, token, openid)
    bad_key = choose(fake, acc, session_id, pay_params(acc, prepay, key="0" * 32))
    assert bad_key == {"errMsg": "chooseWXPay:fail 支付验证签名失败"}
    tampered = dict(pay_params(acc, prepay), timestamp="1700000001")  # signed another timeStamp
    assert choose(fake, acc, session_id, tampered)["errMsg"] == "chooseWXPay:fail 支付验证签名失败"
    hmac = choose(fake, acc, session_id, pay_params(acc, prepay, "HMAC-SHA256"))  # not the order's sign type
    assert hmac["errMsg"] == "chooseWXPay:fail 支付验证签名失败"
    assert fake.violation_rules() == ["bad_pay_sign"] * 3
    assert "signType HMAC-SHA256" in fake.violations[2]["detail"]
    assert query(fake, acc)["trade_state"] == "NOTPAY" and fake.pay_notifications == []


@pytest.mark.fake_violations_expected
def test_choose_wx_pay_not_declared(fake, acc, merchant, token):
    openid = acc.add_follower()
    prepay = unifiedorder(fake, acc, merchant, openid)["prepay_id"]
    session_id = js_session(fake, acc, token, openid, apis=("getLocation",))
    res = choose(fake, acc, session_id, pay_params(acc, prepay))
    assert res["errMsg"].startswith("chooseWXPay:fail")
    assert fake.violation_rules() == ["jssdk_api_not_declared"]
    assert query(fake, acc)["trade_state"] == "NOTPAY"


@pytest.mark.parametrize("choice, answer", [("cancel", "chooseWXPay:cancel"), ("fail", "chooseWXPay:fail")])
def test_choose_wx_pay_user_cancels_or_fails(fake, acc, merchant, token, choice, answer):
    openid = acc.add_follower()
    prepay = unifiedorder(fake, acc, merchant, openid)["prepay_id"]
    session_id = js_session(fake, acc, token, openid)
    assert choose(fake, acc, session_id, dict(pay_params(acc, prepay), choice=choice)) == {"errMsg": answer}
    assert query(fake, acc)["trade_state"] == "NOTPAY"
    assert choose(fake, acc, session_id, pay_params(acc, prepay))["errMsg"] == "chooseWXPay:ok"  # tries again
    fake.wait_idle()


def test_choose_wx_pay_other_payer_and_unknown_prepay(fake, acc, merchant, token):
    member, other = acc.add_follower(), acc.add_follower()
    prepay = unifiedorder(fake, acc, merchant, member)["prepay_id"]
    session_id = js_session(fake, acc, token, other)
    assert (
        choose(fake, acc, session_id, pay_params(acc, prepay))["errMsg"] == "chooseWXPay:fail 当前微信用户不是下单用户"
    )
    unknown = choose(fake, acc, session_id, pay_params(acc, "wx20231115000000deadbeefdeadbeef0000"))
    assert unknown["errMsg"] == "chooseWXPay:fail 调用支付JSAPI缺少参数：total_fee"
    params = pay_params(acc, prepay)
    params["timeStamp"] = params.pop("timestamp")  # WeixinJSBridge's spelling, not the JS-SDK's
    assert "timestamp in lower case" in choose(fake, acc, session_id, params)["errMsg"]
    assert query(fake, acc)["trade_state"] == "NOTPAY"
    assert fake.violations == []


def test_choose_wx_pay_of_a_native_or_paid_order(fake, acc, merchant, token):
    member = acc.add_follower()
    native = unifiedorder(fake, acc, merchant, None, out_trade_no="N1", trade_type="NATIVE", product_id="SKU")
    prepay = unifiedorder(fake, acc, merchant, member)["prepay_id"]
    session_id = js_session(fake, acc, token, member)
    res = choose(fake, acc, session_id, pay_params(acc, native["prepay_id"]))
    assert res["errMsg"] == "chooseWXPay:fail 调用支付JSAPI缺少参数：total_fee"
    assert choose(fake, acc, session_id, pay_params(acc, prepay))["errMsg"] == "chooseWXPay:ok"
    assert choose(fake, acc, session_id, pay_params(acc, prepay))["errMsg"] == "chooseWXPay:fail 该订单已支付"
    fake.wait_idle()
    assert len(fake.pay_notifications) == 1


@pytest.mark.fake_violations_expected
def test_choose_wx_pay_outside_the_payment_directories(fake, acc, merchant, token):
    openid = acc.add_follower()
    prepay = unifiedorder(fake, acc, merchant, openid)["prepay_id"]
    session_id = js_session(fake, acc, token, openid)  # PAGE is under /wechat/member/
    for dirs in (["https://shop.example.com/wechat/pay/"], ["https://shop.example.com/wechat/"]):
        fake.set_pay_auth_dirs(acc.mch_id, dirs)  # another directory; a parent one (not the exact directory)
        res = choose(fake, acc, session_id, pay_params(acc, prepay))
        assert res["errMsg"] == "chooseWXPay:fail 当前页面的URL未注册"
    assert fake.violation_rules() == ["pay_dir_not_registered"] * 2
    assert page_in_dirs(PAGE, ["https://shop.example.com/"])  # a registered root covers its host
    assert not page_in_dirs("https://other.example.com/wechat/member/x", ["https://shop.example.com/"])
    fake.set_pay_auth_dirs(acc.mch_id, ["https://shop.example.com/wechat/member/"])
    assert choose(fake, acc, session_id, pay_params(acc, prepay))["errMsg"] == "chooseWXPay:ok"
    fake.wait_idle()


def test_pay_jsapi_checks(fake, acc, merchant):
    member, other = acc.add_follower(), acc.add_nonfollower()
    unifiedorder(fake, acc, merchant, member)
    with pytest.raises(ValueError, match="not"):
        fake.pay_jsapi("P1", openid=other)
    with pytest.raises(ValueError, match="no JSAPI"):
        fake.pay_jsapi("NOPE")
    order = fake.pay_jsapi("P1", bank_type="CMB_CREDIT")
    assert (order.state, order.openid, order.is_subscribe, order.bank_type) == ("SUCCESS", member, "Y", "CMB_CREDIT")
    with pytest.raises(ValueError, match="已支付"):
        fake.pay_jsapi("P1")
    unifiedorder(fake, acc, merchant, other, out_trade_no="P2")
    assert fake.pay_jsapi("P2").is_subscribe == "N"
    fake.wait_idle()


# -- the payment result notification -----------------------------------------------------------------
def test_notification_retried_until_the_merchant_answers_success(fast, acc, merchant):
    fake = fast
    merchant.answers = [
        (500, "oops"),
        (200, "success"),  # plain text is not WeChat Pay's answer
        (200, FAIL_XML),
        "hang",  # no answer within pay_notify_timeout
    ]
    unifiedorder(fake, acc, merchant, acc.add_follower())
    fake.pay_jsapi("P1")
    assert wait_for(lambda: fake.order("P1").notify_acknowledged)
    assert fake.wait_idle(5)
    attempts = fake.pay_notifications_for("P1")
    assert [n["attempt"] for n in attempts] == [1, 2, 3, 4, 5]
    assert [n["status"] for n in attempts] == [500, 200, 200, None, 200]
    assert attempts[3]["answer"] == "timeout"
    assert [n["acknowledged"] for n in attempts] == [False] * 4 + [True]
    assert len({n["transaction_id"] for n in attempts}) == 1
    assert len(merchant.received) == 5  # each attempt reached the merchant (the 4th got no answer in time)
    time.sleep(0.1)
    assert len(fake.pay_notifications) == 5, "nothing more once acknowledged"


def test_notification_gives_up_after_wechats_schedule(fake, acc, merchant):
    assert sum(PAY_NOTIFY_DELAYS) == 24 * 3600 + 4 * 60 and len(PAY_NOTIFY_DELAYS) == 15  # 总计 24h4m
    assert fake.pay_notify_delays == list(PAY_NOTIFY_DELAYS)
    fake.set_pay_notify_delays([0.001] * 15)
    merchant.answers = [(503, "")] * 100
    unifiedorder(fake, acc, merchant, acc.add_follower())
    fake.pay_jsapi("P1")
    assert wait_for(lambda: len(fake.pay_notifications) == 16)
    assert fake.wait_idle(5)
    time.sleep(0.05)
    assert [n["attempt"] for n in fake.pay_notifications] == list(range(1, 17))
    assert not fake.order("P1").notify_acknowledged
    assert query(fake, acc)["trade_state"] == "SUCCESS"  # paid all the same: the merchant should query


def test_set_pay_notify_delays_scale(fake):
    assert fake.set_pay_notify_delays(scale=0.01)[:3] == [0.15, 0.15, 0.3]
    assert fake.set_pay_notify_delays()[-1] == 21600


def test_injected_duplicate_bad_sign_and_bad_amount(fast, acc, merchant, pay):
    fake = fast
    unifiedorder(fake, acc, merchant, acc.add_follower())
    fake.pay_jsapi("P1")
    assert wait_for(lambda: fake.order("P1").notify_acknowledged)
    genuine = merchant.raw[0][1]
    dup = fake.pay_notify("P1", "duplicate")
    assert dup["mode"] == "duplicate" and dup["acknowledged"]
    assert pay.parse_payment_result(merchant.raw[1][1])["transaction_id"] == parse_xml(genuine)["transaction_id"]
    forged = fake.pay_notify("P1", "bad_sign")
    with pytest.raises(InvalidSignatureException):
        pay.parse_payment_result(merchant.raw[2][1])
    assert forged["fields"]["total_fee"] == "2500"
    cheap = fake.pay_notify("P1", "bad_amount")
    data = pay.parse_payment_result(merchant.raw[3][1])  # a good signature...
    assert data["total_fee"] == data["cash_fee"] == 1  # ...over another amount than the order's 2500
    assert fake.pay_notify("P1", "bad_amount", total_fee=250000)["fields"]["total_fee"] == "250000"
    assert [n["mode"] for n in fake.pay_notifications] == [
        "notify",
        "duplicate",
        "bad_sign",
        "bad_amount",
        "bad_amount",
    ]
    assert cheap["acknowledged"]  # this merchant stand-in acknowledges anything: the product must not
    merchant.answers = [(500, "")]
    restarted = fake.pay_notify("P1", "notify")  # the genuine one again, with its retries
    assert (restarted["mode"], restarted["attempt"], restarted["acknowledged"]) == ("notify", 1, False)
    assert wait_for(lambda: fake.order("P1").notify_acknowledged) and fake.wait_idle(5)
    assert [n["attempt"] for n in fake.pay_notifications if n["mode"] == "notify"] == [1, 1, 2]


def test_injections_on_an_unpaid_order(fast, acc, merchant, pay):
    fake = fast
    unifiedorder(fake, acc, merchant, acc.add_follower())
    with pytest.raises(ValueError, match="not paid"):
        fake.pay_notify("P1", "duplicate")
    forged = fake.pay_notify("P1", "bad_amount")  # a "假通知" for an order nobody paid
    assert pay.parse_payment_result(merchant.raw[0][1])["result_code"] == "SUCCESS"
    assert forged["fields"]["transaction_id"] and query(fake, acc)["trade_state"] == "NOTPAY"
    with pytest.raises(ValueError, match="unknown notify mode"):
        fake.pay_notify("P1", "evil")
    assert fake.pay_notify("P1", "bad_sign", wait=False) is None
    assert fake.wait_idle(5) and len(merchant.received) == 2


def test_notification_to_an_unreachable_merchant_is_recorded(fast, acc, merchant):
    fake = fast
    unifiedorder(fake, acc, merchant, acc.add_follower())
    merchant.stop()
    fake.set_pay_notify_delays([0.001])
    fake.pay_jsapi("P1")
    assert wait_for(lambda: len(fake.pay_notifications) == 2)
    assert fake.pay_notifications[0]["answer"].startswith("connection error")


# -- refunds and bills of a JSAPI order ---------------------------------------------------------------
def test_refund_of_a_jsapi_order(fake, acc, merchant, pay, clock):
    unifiedorder(fake, acc, merchant, acc.add_follower())
    txn = fake.pay_jsapi("P1").transaction_id
    refund = pay.refund.apply(out_trade_no="P1", out_refund_no="R1", total_fee=2500, refund_fee=1000)
    assert refund["result_code"] == "SUCCESS" and refund["transaction_id"] == txn
    assert pay.refund.query(out_refund_no="R1")["refund_status_0"] == "PROCESSING"
    assert pay.refund.query(out_refund_no="R1")["refund_status_0"] == "SUCCESS"
    assert query(fake, acc)["trade_state"] == "REFUND"
    over = pay_post(
        fake,
        acc,
        "/secapi/pay/refund",
        {"out_trade_no": "P1", "out_refund_no": "R2", "total_fee": 2500, "refund_fee": 1},
    )
    assert over["result_code"] == "SUCCESS"
    bill = fake.trade_bill(acc.mch_id, beijing_compact(clock())[:8])
    assert "`JSAPI,`SUCCESS" in bill and "`JSAPI,`REFUND" in bill
    fake.wait_idle()


# -- control endpoints ----------------------------------------------------------------------------------
def test_control_endpoints(fake, acc, merchant):
    unifiedorder(fake, acc, merchant, acc.add_follower())
    with session() as s:

        def post(path, body):
            return s.post(fake.url + path, json=body)

        delays = post("/_fake/pay/notify_delays", {"scale": 0.001}).json()["delays"]
        assert delays[0] == pytest.approx(0.015)
        assert post("/_fake/pay/auth_dirs", {"mch_id": acc.mch_id, "dirs": ["https://shop.example.com/"]}).ok
        assert fake.payments.auth_dirs[acc.mch_id] == ["https://shop.example.com/"]
        paid = post("/_fake/pay/jsapi_pay", {"out_trade_no": "P1"}).json()
        assert paid["trade_state"] == "SUCCESS" and paid["transaction_id"]
        again = post("/_fake/pay/jsapi_pay", {"out_trade_no": "P1"})
        assert again.status_code == 400 and "已支付" in again.json()["error"]
        assert wait_for(lambda: fake.order("P1").notify_acknowledged)
        record = post("/_fake/pay/notify", {"out_trade_no": "P1", "mode": "bad_sign"}).json()
        assert record["mode"] == "bad_sign" and record["status"] == 200
        assert post("/_fake/pay/notify", {"out_trade_no": "P1", "mode": "x"}).status_code == 400
        listed = s.get(fake.url + "/_fake/pay/notifications", params={"out_trade_no": "P1"}).json()
        assert [n["mode"] for n in listed["notifications"]] == ["notify", "bad_sign"]
        json.dumps(listed)  # plain JSON
    assert fake.calls_to("/_fake/pay/notify") == []  # control calls are not WeChat calls


def test_js_file_has_choose_wx_pay(fake):
    with session() as s:
        text = s.get(fake.url + "/open/js/jweixin-1.6.0.js").text
    assert "wx.chooseWXPay" in text and "FAKEWECHAT_PAY_CHOICE" in text and "opts.cancel" in text


# -- the JS stand-in in a headless browser ----------------------------------------------------------------
PAY_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<script>window.FAKEWECHAT_OPENID = "%(openid)s"; %(choice)s</script>
<script src="%(fake)s/open/js/jweixin-1.6.0.js"></script></head><body><pre id="out"></pre>
<script>
  var out = document.getElementById("out");
  function log(s) { out.textContent += s + "\\n"; }
  wx.ready(function () {
    wx.chooseWXPay({timestamp: "%(timestamp)s", nonceStr: "%(nonceStr)s", package: "%(package)s",
                    signType: "%(signType)s", paySign: "%(paySign)s",
                    success: function (r) { log("success " + r.errMsg); },
                    cancel: function (r) { log("cancel " + r.errMsg); },
                    fail: function (r) { log("fail " + r.errMsg); }});
  });
  wx.config({appId: "%(appid)s", timestamp: "1700000000", nonceStr: "abc", signature: "%(signature)s",
             jsApiList: ["chooseWXPay"]});
</script></body></html>"""


@pytest.mark.skipif(_browser() is None, reason="no headless chromium")
@pytest.mark.parametrize("choice", [None, "cancel"])
def test_choose_wx_pay_in_a_headless_browser(fake, acc, token, merchant, choice):
    import subprocess

    from fakewechat.crypto import jssdk_signature

    openid = acc.add_follower()
    prepay = unifiedorder(fake, acc, merchant, openid)["prepay_id"]
    holder = {"html": ""}
    server = _serve_page_dynamic(holder)
    try:
        url = "http://127.0.0.1:%d/wechat/pay/order" % server.server_address[1]
        values = dict(
            pay_params(acc, prepay),
            openid=openid,
            fake=fake.url,
            appid=acc.appid,
            signature=jssdk_signature(ticket(fake, token), "abc", "1700000000", url),
            choice=f'window.FAKEWECHAT_PAY_CHOICE = "{choice}";' if choice else "",
        )
        holder["html"] = PAY_PAGE % values
        cmd = [_browser(), "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000"]
        dom = subprocess.run(cmd + ["--dump-dom", url], capture_output=True, text=True, timeout=90).stdout
    finally:
        server.shutdown()
        server.server_close()
    out = re.search(r'<pre id="out">(.*?)</pre>', dom, re.S).group(1).strip()
    if choice == "cancel":
        assert out == "cancel chooseWXPay:cancel"
        assert query(fake, acc)["trade_state"] == "NOTPAY"
    else:
        assert out == "success chooseWXPay:ok"
        assert query(fake, acc)["trade_state"] == "SUCCESS"
        assert wait_for(lambda: fake.order("P1").notify_acknowledged)
    assert fake.violations == []
