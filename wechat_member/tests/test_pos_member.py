"""POS: cashier binding (phone, member code, member QR), receipt and capture rate.

Server side (``TestPosMember``: the POS RPCs, the capture flag and the
report numbers) and the POS in a browser (``TestPosMemberTour``).
"""

import ast
import base64
import uuid
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.point_of_sale.models.pos_config import PosConfig

from ..tools.qr_code import qr_png
from .common import OPENID_A, OPENID_B, PoSHttpCommonWeChat, PosMemberCommon, WeChatFakeMixin


@tagged("post_install", "-at_install")
class TestPosMember(PosMemberCommon):
    # ------------------------------------------------------------------ find
    def test_find_by_member_code(self):
        for query in ("WM90000001", " wm90000001 ", "WM90000001\n"):
            records = self._find(query)
            self.assertEqual([r["id"] for r in records], [self.lily.id], query)
        record = records[0]
        self.assertEqual(record["wechat_member_code"], "WM90000001")
        for field in ("wechat_purchase_count", "wechat_activity_state", "wechat_follower_account_ids", "phone"):
            self.assertIn(field, record)
        self.assertFalse(self._find("WM99999999"))

    def test_find_by_phone(self):
        for query in ("13800138000", "138 0013 8000", "138-0013-8000"):
            self.assertEqual([r["id"] for r in self._find(query)], [self.lily.id], query)
        # Neither a code nor a phone: nothing is searched.
        self.assertFalse(self._find("Lily"))
        self.assertFalse(self._find("13"))

    def test_find_restricted_to_pos_company(self):
        self.assertFalse(self._find("WM90000009"))
        self.assertFalse(self._find("13700137000"))
        # The same code in a POS of the other company finds it.
        self.assertTrue(self.stranger.sudo().wechat_member_code)
        shared = self.env["res.partner"].create({"name": "Shared Contact", "phone": "13600136000"})
        shared.wechat_member_code = "WM90000008"
        self.assertEqual([r["id"] for r in self._find("WM90000008")], [shared.id])

    def test_find_member_first_and_follow_state(self):
        twin = self.env["res.partner"].create({"name": "Lily (old)", "phone": "138 0013 8000"})
        self._member(OPENID_A, partner=self.lily, state="follower")
        records = self._find("13800138000")
        self.assertEqual([r["id"] for r in records][:1], [self.lily.id])
        self.assertIn(twin.id, [r["id"] for r in records])
        self.assertEqual(records[0]["wechat_follower_account_ids"], [self.account.id])
        self.lily.wechat_member_ids.sudo().state = "unfollowed"  # as WeChat tells the server
        self.assertFalse(self._find("WM90000001")[0]["wechat_follower_account_ids"])

    def test_find_needs_pos_rights(self):
        user = new_test_user(self.env, login="wm_no_pos", groups="base.group_user")
        with self.assertRaises(Exception):  # noqa: B017 - AccessDenied or AccessError
            self.env["res.partner"].with_user(user).wechat_pos_find_member(self.config.id, "WM90000001")

    def test_pos_fields_loaded(self):
        fields_ = self.env["res.partner"]._load_pos_data_fields(self.config.id)
        for name in (
            "wechat_member_code",
            "wechat_purchase_count",
            "wechat_activity_state",
            "wechat_follower_account_ids",
        ):
            self.assertIn(name, fields_)
        self.assertEqual(self.config.wechat_account_id, self.account)

    # ------------------------------------------------------------------ quick create
    def test_quick_create_member(self):
        record = self.Partner.wechat_pos_create_member(self.config.id, " 139 0013 9000 ")["res.partner"][0]
        partner = self.env["res.partner"].browse(record["id"])
        self.assertEqual(partner.phone, "139 0013 9000")
        self.assertEqual(partner.company_id, self.company)
        self.assertRegex(partner.wechat_member_code, r"^WM\d{10}$")
        self.assertEqual(record["wechat_member_code"], partner.wechat_member_code)
        self.assertFalse(partner.wechat_member_ids)  # no WeChat identity yet
        self.assertTrue(partner.wechat_is_member)  # but a member: counted like one
        # The same phone again: no duplicate, and the existing contact is not adopted silently.
        again = self.Partner.wechat_pos_create_member(self.config.id, "13900139000")
        self.assertEqual(again["res.partner"], [])
        self.assertEqual(again["wechat_existing"], {"name": "M*", "phone_last4": "9000"})
        # An existing contact with this phone but no code: not adopted either, left unchanged.
        plain = self.env["res.partner"].create(
            {"name": "Walk-in", "phone": "13500135000", "company_id": self.company.id}
        )
        result = self.Partner.wechat_pos_create_member(self.config.id, "13500135000")
        self.assertEqual(result["res.partner"], [])
        self.assertFalse(plain.wechat_member_code)
        # The other company's contact with this phone is not reused.
        record = self.Partner.wechat_pos_create_member(self.config.id, "13700137000")["res.partner"][0]
        self.assertNotEqual(record["id"], self.stranger.id)

    def test_quick_create_refuses_bad_phone(self):
        for phone in ("", "abc", "12", "WM90000001"):
            with self.assertRaises(UserError):
                self.Partner.wechat_pos_create_member(self.config.id, phone)

    def test_quick_created_member_pays_with_wechat(self):
        """A member created by phone becomes the WeChat member of the payer."""
        self.open_new_session()
        record = self.Partner.wechat_pos_create_member(self.config.id, "13900139001")["res.partner"][0]
        partner = self.env["res.partner"].browse(record["id"])
        order_uuid = str(uuid.uuid4())
        data = self.create_ui_order_data(
            [(self.tea, 1)], customer=partner, uuid=order_uuid, payments=[(self.wechat_pm, 100.0)]
        )
        line = {"order_uuid": order_uuid, "payment_uuid": str(uuid.uuid4())}
        code = self.fake.pay_script(self.fake.auth_code(), "SUCCESS", openid=OPENID_B, is_subscribe="N")
        res = self.wechat_pm.wechat_pay_charge(
            dict(line, auth_code=code, amount=100.0, currency=self.config.currency_id.name)
        )
        self.assertEqual(res["status"], "done", res)
        data["payment_ids"][0][2].update(uuid=line["payment_uuid"], transaction_id=res["transaction_id"])
        order, _result = self._sync(data)
        member = self.env["wechat.member"].search([("openid", "=", OPENID_B)])
        self.assertEqual(member.partner_id, partner)
        self.assertEqual(order.partner_id, partner)
        self.assertEqual(order.wechat_payer_member_id, member)
        self.assertTrue(partner.wechat_is_member)
        self.assertTrue(order.wechat_captured)
        self.assertEqual(partner.wechat_purchase_count, 1)

    # ------------------------------------------------------------------ capture
    def test_capture_flag(self):
        self.open_new_session()
        member = self._member(OPENID_A)
        captured = self._order(customer=member.partner_id)
        anonymous = self._order()
        plain = self._order(customer=self.customer)
        code_only = self._order(customer=self.lily)  # member code, no WeChat identity: a member all the same
        self.assertRecordValues(
            captured + anonymous + plain + code_only,
            [
                {"wechat_captured": True, "wechat_capture_rate": 100.0},
                {"wechat_captured": False, "wechat_capture_rate": 0.0},
                {"wechat_captured": False, "wechat_capture_rate": 0.0},
                {"wechat_captured": True, "wechat_capture_rate": 100.0},
            ],
        )
        # Decided at payment, once: a later membership does not rewrite history.
        self._member(OPENID_B, partner=self.customer)
        plain.action_pos_order_paid()
        self.assertFalse(plain.wechat_captured)
        self.assertTrue(self._order(customer=self.customer).wechat_captured)

    def test_capture_not_from_pos(self):
        self.open_new_session()
        data = self.create_ui_order_data([(self.tea, 1)])
        data.update(wechat_captured=True, wechat_capture_rate=100.0)
        order, _result = self._sync(data)
        self.assertFalse(order.wechat_captured)
        self.assertEqual(order.wechat_capture_rate, 0.0)

    def test_capture_report_numbers(self):
        self.open_new_session()
        member = self._member(OPENID_A)
        orders = self._order(customer=member.partner_id) + self._order(customer=member.partner_id)
        orders += self._order() + self._order(customer=self.customer)
        # Another day, another cashier.
        other_user = new_test_user(
            self.env, login="wm_pos_cashier2", groups="base.group_user,point_of_sale.group_pos_user"
        )
        yesterday = fields.Datetime.now() - timedelta(days=1)
        late = self._order(customer=member.partner_id)
        late.write({"date_order": yesterday, "user_id": other_user.id})
        domain = [("config_id", "=", self.config.id), ("state", "in", ("paid", "done", "invoiced"))]
        PosOrder = self.env["pos.order"]
        by_store = PosOrder._read_group(domain, ["config_id"], ["__count", "wechat_capture_rate:avg"])
        self.assertEqual(len(by_store), 1)
        self.assertEqual(by_store[0][1], 5)
        self.assertAlmostEqual(by_store[0][2], 60.0)
        by_user = dict(
            (user, rate) for user, rate in PosOrder._read_group(domain, ["user_id"], ["wechat_capture_rate:avg"])
        )
        self.assertAlmostEqual(by_user[other_user], 100.0)
        self.assertAlmostEqual(by_user[self.env.user], 50.0)
        by_day = PosOrder._read_group(domain, ["date_order:day"], ["__count", "wechat_capture_rate:avg"])
        self.assertEqual(sorted((count, rate) for _day, count, rate in by_day), [(1, 100.0), (4, 50.0)])
        # The report's actions and menus.
        action = self.env.ref("wechat_member.pos_order_action_wechat_capture")
        self.assertEqual(action.res_model, "pos.order")
        uncaptured = self.env.ref("wechat_member.pos_order_action_wechat_uncaptured")
        found = PosOrder.search(ast.literal_eval(uncaptured.domain) + domain)
        self.assertEqual(found & orders, orders.filtered(lambda o: not o.wechat_captured))
        self.assertEqual(len(found & orders), 2)
        self.assertEqual(
            self.env.ref("wechat_member.menu_wechat_capture_rate").parent_id,
            self.env.ref("wechat_member.menu_wechat_reporting"),
        )

    def test_sync_sends_back_member_stats(self):
        self.open_new_session()
        member = self._member(OPENID_A)
        _order, result = self._sync(self.create_ui_order_data([(self.tea, 1)], customer=member.partner_id))
        partners = {p["id"]: p for p in result.get("res.partner", [])}
        self.assertEqual(partners[member.partner_id.id]["wechat_purchase_count"], 1)
        _order, result = self._sync(self.create_ui_order_data([(self.tea, 1)], customer=self.customer))
        self.assertFalse(result.get("res.partner"))  # no member code: nothing more to send

    # ------------------------------------------------------------------ follow QR
    def test_follow_qr_of_the_store(self):
        self.assertFalse(self.config.wechat_follow_qr)
        channel = self.env["wechat.qr.channel"].create(
            {"name": "Store", "account_id": self.account.id, "pos_config_id": self.config.id}
        )
        self.config.invalidate_recordset()
        self.assertFalse(self.config.wechat_follow_qr)  # no QR generated yet
        channel.sudo().qr_image = base64.b64encode(qr_png("http://weixin.qq.com/q/store"))
        self.config.invalidate_recordset()
        self.assertTrue(self.config.wechat_follow_qr.startswith("data:image/png;base64,"))
        self.assertEqual(self.config.wechat_follow_channel_id, channel)
        self.assertIn("wechat_follow_qr", self.config.read(["wechat_follow_qr"])[0])

    def test_barcode_rule(self):
        rule = self.env.ref("wechat_member.barcode_rule_wechat_member_code")
        self.assertEqual(rule.type, "client")
        nomenclature = rule.barcode_nomenclature_id
        parsed = nomenclature.parse_barcode("WM00000012")
        self.assertEqual(parsed["type"], "client")
        self.assertNotEqual(nomenclature.parse_barcode("4006381333931")["type"], "client")


@tagged("post_install", "-at_install")
class TestPosMemberTour(WeChatFakeMixin, PoSHttpCommonWeChat):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        config = cls.main_pos_config
        if cls.account.company_id != config.company_id:
            cls.account.company_id = config.company_id
        config.wechat_account_id = cls.account
        company = config.company_id
        Partner = cls.env["res.partner"]
        cls.lily = Partner.create({"name": "Lily Chen", "phone": "13800138000", "company_id": company.id})
        cls.lily.wechat_member_code = "WM90000001"
        cls.wang = Partner.create({"name": "Wang Fang", "phone": "13800138002", "company_id": company.id})
        cls.zhao = Partner.create({"name": "Zhao Lei", "phone": "13800138003", "company_id": company.id})
        Member = cls.env["wechat.member"]
        cls.wang_member, _c = Member._get_or_create(cls.account, OPENID_A, state="payer", partner=cls.wang)
        cls.zhao_member, _c = Member._get_or_create(cls.account, OPENID_B, state="follower", partner=cls.zhao)
        cls.wang.wechat_member_code = "WM90000002"
        cls.zhao.wechat_member_code = "WM90000003"
        channel = cls.env["wechat.qr.channel"].create(
            {"name": "Store QR", "account_id": cls.account.id, "pos_config_id": config.id}
        )
        channel.sudo().qr_image = base64.b64encode(qr_png("http://weixin.qq.com/q/store"))

    def _start(self, tour):
        self.main_pos_config.with_user(self.pos_user).open_ui()
        # The members are not among the customers the POS loads at start: the server is asked.
        with patch.object(PosConfig, "get_limited_partners_loading", lambda self: []):
            self.start_pos_tour(tour, login="pos_user")

    def _orders(self):
        return self.env["pos.order"].search([("config_id", "=", self.main_pos_config.id)], order="id")

    def test_bind_by_phone_tour(self):
        self._start("WeChatPosMemberPhoneTour")
        orders = self._orders()
        self.assertEqual(len(orders), 2)
        self.assertEqual(orders[0].partner_id, self.lily)
        created = orders[1].partner_id
        self.assertEqual(created.phone, "13900139000")
        self.assertRegex(created.wechat_member_code, r"^WM\d{10}$")
        self.assertEqual(created.company_id, self.main_pos_config.company_id)
        # Members by phone, no WeChat identity yet: captured all the same; the cashier confirmed the customer.
        self.assertEqual(orders.mapped("wechat_captured"), [True, True])
        self.assertEqual(orders.mapped("wechat_bind_method"), ["phone_confirmed", "phone_confirmed"])

    def test_bind_by_scan_tour(self):
        self._start("WeChatPosMemberScanTour")
        orders = self._orders()
        self.assertEqual(orders.partner_id, self.wang + self.zhao)
        self.assertTrue(all(orders.mapped("wechat_captured")))
        self.assertEqual(self.wang.wechat_purchase_count, 1)

    def test_dynamic_code_tour(self):
        from .test_pos_trust import NOW, clock  # noqa: PLC0415 - test_pos_trust imports this module

        fresh = self.wang_member._dynamic_code(at=NOW)
        old = self.wang_member._dynamic_code(at=NOW - 600)  # a screenshot of 10 minutes ago
        config = self.main_pos_config
        config.with_user(self.pos_user).open_ui()
        with clock(NOW), patch.object(PosConfig, "get_limited_partners_loading", lambda self: []):
            self.start_tour(
                f"/pos/ui?config_id={config.id}&wechat_fresh={fresh}&wechat_old={old}",
                "WeChatPosMemberDynamicTour",
                login="pos_user",
            )
        order = self._orders()
        self.assertEqual(order.partner_id, self.wang)
        self.assertEqual(order.wechat_bind_method, "dynamic_code")
