"""The WeChat payer who becomes the customer of an order at its sync earns the order's loyalty points, once.

The POS validated the order without a customer, so pos_loyalty computed no
points for the nominative loyalty programs; the server binds the payer
(``_wechat_bind_payer``) and credits the points the order earns
(``_wechat_credit_payer_points``).  A re-sync, or the POS confirming the
same program's points afterwards, adds nothing.
"""

import uuid

from odoo.tests import tagged

from odoo.addons.wechat_coupon.tests.common import create_member_points_program
from odoo.addons.wechat_member.tests.common import PosMemberCommon, PosWeChatPayTourCommon

OPENID_PAYER = "oPAYERPOINTS00000000000000P1"


@tagged("post_install", "-at_install")
class TestPosPayerPoints(PosMemberCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program = create_member_points_program(cls.env, "Member points (payer)", cls.config, 1000)
        cls.jade = cls.create_product("Jade tea set", cls.categ_basic, 1299.0)

    def setUp(self):
        super().setUp()
        self.open_new_session()
        self.fake.clear_logs()
        self.Order = self.env["pos.order"].with_user(self.cashier)

    def _pay(self, customer=False, openid=OPENID_PAYER):
        """An order of the ¥1299 tea set, charged with WeChat Pay and synced by the cashier; (order, data)."""
        order_uuid = str(uuid.uuid4())
        data = self.create_ui_order_data(
            [(self.jade, 1)], customer=customer, uuid=order_uuid, payments=[(self.wechat_pm, 1299.0)]
        )
        line = {"order_uuid": order_uuid, "payment_uuid": str(uuid.uuid4())}
        code = self.fake.pay_script(self.fake.auth_code(), "SUCCESS", openid=openid, is_subscribe="N")
        res = self.wechat_pm.with_user(self.cashier).wechat_pay_charge(
            dict(line, auth_code=code, amount=1299.0, currency=self.config.currency_id.name)
        )
        self.assertEqual(res["status"], "done", res)
        data["payment_ids"][0][2].update(
            uuid=line["payment_uuid"], transaction_id=res["transaction_id"], payment_status="done"
        )
        return self._sync_as_cashier(data), data

    def _sync_as_cashier(self, data):
        result = self.Order.sync_from_ui([data])
        self.last_result = result
        return self.env["pos.order"].browse(result["pos.order"][0]["id"])

    def _card(self, partner):
        return self.env["loyalty.card"].search([("partner_id", "=", partner.id), ("program_id", "=", self.program.id)])

    def _history(self, order):
        return self.env["loyalty.history"].search(
            [
                ("order_model", "=", "pos.order"),
                ("order_id", "=", order.id),
                ("card_id.program_id", "=", self.program.id),
            ]
        )

    def test_payer_earns_the_points_once(self):
        order, data = self._pay()
        self.assertEqual(order.wechat_bind_method, "payer")
        payer = order.partner_id
        self.assertEqual(payer, order.wechat_payer_member_id.partner_id)
        card = self._card(payer)
        self.assertEqual(len(card), 1, "the payer gets a card of the loyalty program")
        self.assertEqual(card.points, 1299)
        self.assertEqual(card.source_pos_order_id, order)
        history = self._history(order)
        self.assertEqual(len(history), 1)
        self.assertEqual(history.issued, 1299)
        self.assertEqual(history.used, 0)
        self.assertIn(order.display_name, history.description)

        # The POS syncs the same order again (lost answer, retry), or the hook runs again: nothing more.
        self.Order.sync_from_ui([data])
        self.assertEqual(self.env["pos.order"].search_count([("uuid", "=", order.uuid)]), 1)
        order.with_user(self.cashier)._wechat_payer_bound()
        self.assertEqual(self._card(payer).points, 1299)
        self.assertEqual(len(self._history(order)), 1)

        # Nor when the POS confirms the same program's points for the payer afterwards (new card, then its card).
        self.Order.browse(order.id).confirm_coupon_programs(
            {
                "-1": {"points": 1299, "program_id": self.program.id, "coupon_id": -1, "partner_id": payer.id},
            }
        )
        self.Order.browse(order.id).confirm_coupon_programs(
            {str(card.id): {"points": 1299, "program_id": self.program.id, "coupon_id": card.id}}
        )
        self.assertEqual(self._card(payer).points, 1299)
        self.assertEqual(len(self._card(payer)), 1)
        self.assertEqual(len(self._history(order)), 1)

    def test_sync_sends_back_the_payer_cards(self):
        """The POS computed no points for the payer: the sync answers with the payer's cards as the server
        credited them, which the receipt shows as the balance after the order."""
        order, _data = self._pay()
        card = self._card(order.partner_id)
        sent = {vals["id"]: vals for vals in self.last_result.get("loyalty.card", [])}
        self.assertEqual(sent[card.id]["points"], 1299)
        self.assertEqual(sent[card.id]["partner_id"], order.partner_id.id)
        self.assertIn(order.partner_id.id, [p["id"] for p in self.last_result["res.partner"]])

    def test_existing_card_of_the_payer_credited(self):
        payer = self._member(OPENID_PAYER).partner_id
        card = self.env["loyalty.card"].create({"program_id": self.program.id, "partner_id": payer.id, "points": 50})
        order, _data = self._pay()
        self.assertEqual(order.partner_id, payer)
        self.assertEqual(self._card(payer), card)
        self.assertEqual(card.points, 1349)
        self.assertEqual(self._history(order).card_id, card)

    def test_minimum_amount_not_reached(self):
        self.program.rule_ids.minimum_amount = 2000
        order, _data = self._pay()
        self.assertEqual(order.wechat_bind_method, "payer")
        self.assertFalse(self._card(order.partner_id))
        self.assertFalse(self._history(order))

    def test_order_mode_and_minimum_qty(self):
        self.program.rule_ids.write({"reward_point_mode": "order", "reward_point_amount": 20, "minimum_qty": 1})
        order, _data = self._pay()
        self.assertEqual(self._card(order.partner_id).points, 20)
        self.program.rule_ids.minimum_qty = 2
        order, _data = self._pay(openid="oPAYERPOINTS00000000000000P2")
        self.assertFalse(self._card(order.partner_id))

    def test_cashier_customer_untouched(self):
        """The cashier chose the customer: the POS computed the points, the payer path credits nothing."""
        order, _data = self._pay(customer=self.lily)
        self.assertEqual(order.partner_id, self.lily)
        self.assertTrue(order.wechat_payer_member_id)
        self.assertFalse(self._card(self.lily))
        self.assertFalse(self._card(order.wechat_payer_member_id.partner_id))
        self.assertFalse(self._history(order))


@tagged("post_install", "-at_install")
class TestPosPayerPointsTour(PosWeChatPayTourCommon):
    """At the till: the WeChat payer, bound at the sync, reads this order's points on the receipt."""

    def test_payer_reads_the_points_of_this_order_on_the_receipt(self):
        program = create_member_points_program(self.env, "Member points (payer tour)", self.main_pos_config, 1000)
        self.fake.pay_script("134567890123456791", "SUCCESS", openid=OPENID_PAYER, is_subscribe="N")
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("WeChatPayerPointsTour", login="pos_user")
        order = self.env["pos.order"].search([("config_id", "=", self.main_pos_config.id)], order="id desc", limit=1)
        member = self.env["wechat.member"].search([("account_id", "=", self.account.id), ("openid", "=", OPENID_PAYER)])
        self.assertEqual(order.partner_id, member.partner_id)
        card = self.env["loyalty.card"].search(
            [("program_id", "=", program.id), ("partner_id", "=", member.partner_id.id)]
        )
        self.assertAlmostEqual(card.points, 19.8)
        self.assertEqual(self.fake.violations, [])
