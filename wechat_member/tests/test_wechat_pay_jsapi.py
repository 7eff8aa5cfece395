"""The WeChat Pay v2 JSAPI client (公众号支付): an order a member pays in WeChat's browser, the parameters of
``wx.chooseWXPay``, closing an unpaid order, and the verification of WeChat's payment notification."""

from datetime import datetime, timedelta

import pytz

from odoo.tests import tagged

from ..tools.wechat_pay_api import ERROR, OK, WeChatPayClient, calculate_signature
from .common import WeChatCase

OPENID = "oJsapiPayer000000000000000001"
NOTIFY_URL = "http://127.0.0.1:9/wechat/pay/notify/1"  # nobody listens: the fake keeps what it sent


@tagged("post_install", "-at_install")
class TestWeChatPayJsapi(WeChatCase):
    def setUp(self):
        super().setUp()
        if not self.fake_account.user(OPENID):
            self.fake_account.add_follower(OPENID)
        self.client = WeChatPayClient(self.account)
        self.fake.set_pay_notify_delays(delays=[])  # one delivery, no retries
        # One expiry for the test, as a booking keeps its own: an order placed again a second later is the same.
        self.expire = datetime.now(pytz.utc) + timedelta(minutes=30)

    def order(self, out_trade_no, fee=2990):
        return self.client.jsapi_order(out_trade_no, fee, "莲花服饰 预订", OPENID, NOTIFY_URL, "127.0.0.1", self.expire)

    def test_order_pay_and_notification(self):
        res = self.order("WMJS0001")
        self.assertEqual(res.status, OK, res.message)
        prepay_id = res.data["prepay_id"]
        self.assertEqual(self.order("WMJS0001").data["prepay_id"], prepay_id, "placed again: the same order")
        params = self.client.jsapi_params(prepay_id)
        self.assertEqual(params["package"], f"prepay_id={prepay_id}")
        self.assertEqual(set(params), {"appId", "timestamp", "nonceStr", "package", "signType", "paySign"})
        signed = dict(params, timeStamp=params["timestamp"])
        del signed["timestamp"], signed["paySign"]
        self.assertEqual(params["paySign"], calculate_signature(signed, self.account.pay_api_key))
        self.assertEqual(self.client.query_order("WMJS0001").data["trade_state"], "NOTPAY")

        self.fake.pay_jsapi("WMJS0001")  # the member paid in the page
        sent = self.fake.pay_notify("WMJS0001", mode="duplicate")
        data = self.client.verify_notification(sent["body"].encode())
        self.assertEqual((data["out_trade_no"], data["total_fee"], data["openid"]), ("WMJS0001", "2990", OPENID))
        self.assertEqual(self.client.query_order("WMJS0001").data["trade_state"], "SUCCESS")
        forged = self.fake.pay_notify("WMJS0001", mode="bad_sign")
        self.assertIsNone(self.client.verify_notification(forged["body"].encode()), "not signed by our key")
        self.assertIsNone(self.client.verify_notification(b"<xml><!ENTITY x 'y'></xml>"))
        tampered = self.fake.pay_notify("WMJS0001", mode="bad_amount", total_fee=1)
        self.assertEqual(
            self.client.verify_notification(tampered["body"].encode())["total_fee"],
            "1",
            "signed, but another amount: the caller compares it with its order",
        )

    def test_close_unpaid_order(self):
        self.assertEqual(self.order("WMJS0002").status, OK)
        self.assertEqual(self.order("WMJS0003").status, OK)
        self.fake.advance(6 * 60)  # WeChat asks for 5 minutes between an order and its closing
        self.addCleanup(self.fake.advance, -6 * 60)
        self.assertEqual(self.client.close_order("WMJS0002").status, OK)
        self.assertEqual(self.client.query_order("WMJS0002").data["trade_state"], "CLOSED")
        res = self.order("WMJS0002")
        self.assertEqual((res.status, res.code), (ERROR, "ORDERCLOSED"))
        self.fake.pay_jsapi("WMJS0003")
        self.assertEqual(self.client.close_order("WMJS0003").code, "ORDERPAID", "paid meanwhile: not closed")
