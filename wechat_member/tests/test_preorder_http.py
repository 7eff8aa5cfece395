"""Bookings over HTTP: WeChat Pay's notification delivered by the fake to Odoo's notify URL (replayed and
forged), and the whole flow in Chromium: the member books and pays on a phone-sized page in WeChat's browser
(the fake JS-SDK's chooseWXPay), the cashier finds the booking in the POS and hands it over."""

import time

from odoo import fields
from odoo.tests import tagged

from .common import OPENID_A, PosWeChatPayTourCommon


@tagged("post_install", "-at_install")
class TestPreorderHttp(PosWeChatPayTourCommon):
    browser_size = "390x844"
    touch_enabled = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.store = cls.main_pos_config
        cls.store.write(
            {
                "wechat_account_id": cls.account.id,
                "wechat_open_time": 0.0,
                "wechat_close_time": 0.0,
                "wechat_latitude": 31.2287,
                "wechat_longitude": 121.4547,
            }
        )
        cls.cake = cls.env["product.template"].create(
            {
                "name": "Mooncake Box",
                "list_price": 88.0,
                "taxes_id": [(5, 0, 0)],
                "available_in_pos": True,
                "wechat_orderable": True,
                "wechat_booking_kind": "pickup",
                "wechat_slot_capacity": 3,
            }
        )
        if not cls.fake_account.user(OPENID_A):
            cls.fake_account.add_follower(OPENID_A)

    def setUp(self):
        super().setUp()
        # WeChat posts its notification to the URL Odoo gives it: this test server.
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", self.base_url())
        self.fake.set_pay_notify_delays(delays=[0.5, 0.5])
        self.member = self.env["wechat.member"]._get_or_create(self.account, OPENID_A)[0]

    def wait_for(self, condition, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if condition():
                return True
            time.sleep(0.2)
        return False

    def book(self):
        start = self.store._wechat_booking_slots(self.cake)[0][0]
        return self.env["wechat.preorder"]._book(self.member, self.store, self.cake, start)

    def test_notify_url_receives_wechat_notifications(self):
        booking = self.book()
        booking._pay_params("127.0.0.1")
        self.env.flush_all()
        no = booking.transaction_id.out_trade_no
        self.assertEqual(self.fake.order(no).notify_url, f"{self.base_url()}/wechat/pay/notify/{self.account.id}")
        self.fake.pay_jsapi(no)  # WeChat delivers the notification itself
        delivered = self.wait_for(lambda: any(n["acknowledged"] for n in self.fake.pay_notifications))
        self.assertTrue(delivered, self.fake.pay_notifications)
        for __ in range(2):
            self.assertTrue(self.fake.pay_notify(no, mode="duplicate")["acknowledged"], "a replay: SUCCESS again")
        forged = self.fake.pay_notify(no, mode="bad_sign")
        self.assertFalse(forged["acknowledged"])
        self.assertIn("FAIL", forged["answer"])
        self.assertFalse(self.fake.pay_notify(no, mode="bad_amount", total_fee=1)["acknowledged"])
        booking.invalidate_recordset()
        self.assertEqual(booking.state, "confirmed")
        self.assertEqual(len(self.notices("preorder_confirmed", self.member)), 1, "one payment, one notice")

    def test_book_pay_in_wechat_and_collect_at_the_till(self):
        self.fake.set_browser_user(self.appid, OPENID_A)
        self.env.flush_all()
        self.start_tour(f"/wechat/book/{self.account.id}?lang=en", "wechat_booking_tour")
        booking = self.env["wechat.preorder"].search([("member_id", "=", self.member.id)])
        self.assertEqual(booking.state, "confirmed", "paid by WeChat's notification")
        self.assertEqual([c["api"] for c in self.fake.jssdk_calls if c["api"] == "chooseWXPay"], ["chooseWXPay"])
        booking.sudo().write({"pickup_code": "WBTOURSCANNED001"})  # what the scanner reads from the phone
        # The till is a desktop screen.
        self.browser_size, self.touch_enabled = "1366x768", False
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("WeChatBookingCollectTour", login="pos_user")
        booking.invalidate_recordset()
        self.assertEqual((booking.state, booking.handover_proof), ("collected", "code"))
        order = booking.pos_order_id
        self.assertEqual((order.state, order.amount_total), ("paid", 88.0))
        self.assertEqual(order.session_id.user_id, self.pos_user)
        self.assertEqual(order.payment_ids.wechat_pay_transaction_id, booking.transaction_id)
        self.assertLessEqual(booking.collected_at, fields.Datetime.now())
        self.assertEqual(len(self.notices("preorder_ready", self.member)), 1)
