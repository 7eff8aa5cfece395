"""Spending a customer's own points at the till needs the customer identified (dynamic code or confirmation).

The POS asks the cashier to confirm the customer (masked name, last 4 phone
digits) before an order that spends the points of the customer's loyalty
card is validated (``WeChatSpendPointsTour`` in ``test_pos_tour``); the
server refuses an order that spends them with no confirmed identification,
whatever the client sends.
"""

import uuid

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.wechat_coupon.tests.common import create_member_points_program
from odoo.addons.wechat_member.tests.common import OPENID_B, PosMemberCommon


@tagged("post_install", "-at_install")
class TestPosSpending(PosMemberCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program = create_member_points_program(cls.env, "Member points", cls.config, 100)
        cls.card = cls.env["loyalty.card"].create(
            {"program_id": cls.program.id, "partner_id": cls.lily.id, "points": 250}
        )
        cls.coupons = cls.env["loyalty.program"].create(
            {
                "name": "Wallet coupon",
                "program_type": "coupons",
                "trigger": "with_code",
                "applies_on": "current",
                "pos_ok": True,
                "pos_config_ids": [Command.link(cls.config.id)],
                "rule_ids": [],
                "reward_ids": [
                    Command.create(
                        {"reward_type": "discount", "discount": 5, "discount_mode": "per_order", "required_points": 1}
                    )
                ],
            }
        )
        cls.coupon = cls.env["loyalty.card"].create(
            {"program_id": cls.coupons.id, "partner_id": cls.lily.id, "points": 1}
        )

    def _spend(self, card, method=None, points=100):
        data = self.create_ui_order_data([(self.tea, 1)], customer=self.lily, uuid=str(uuid.uuid4()))
        reward = card.program_id.reward_ids
        data["lines"].append(
            Command.create(
                {
                    "product_id": reward.discount_line_product_id.id,
                    "qty": 1,
                    "price_unit": -10,
                    "price_subtotal": -10,
                    "price_subtotal_incl": -10,
                    "discount": 0,
                    "is_reward_line": True,
                    "reward_id": reward.id,
                    "coupon_id": card.id,
                    "points_cost": points,
                    "reward_identifier_code": uuid.uuid4().hex[:8],
                    "tax_ids": [],
                }
            )
        )
        data["amount_total"] -= 10
        data["amount_paid"] -= 10
        data["payment_ids"][0][2]["amount"] -= 10
        if method:
            data["wechat_bind_method"] = method
        result = self.env["pos.order"].with_user(self.cashier).sync_from_ui([data])
        return self.env["pos.order"].browse(result["pos.order"][0]["id"])

    def test_points_need_a_confirmed_customer(self):
        self.open_new_session()
        with self.assertRaisesRegex(UserError, "the customer was not confirmed"):
            self._spend(self.card)
        self.assertFalse(
            self.env["pos.order"].search([("partner_id", "=", self.lily.id)]), "the refused order is not saved"
        )
        for method in ("customer_confirmed", "static_code_confirmed", "phone_confirmed"):
            order = self._spend(self.card, method)
            self.assertEqual(order.wechat_bind_method, method)
            self.assertEqual(order.lines.filtered("is_reward_line").coupon_id, self.card)

    def test_forged_dynamic_code_does_not_confirm(self):
        """A dynamic code without the server's proof is dropped, so the points stay locked."""
        self.open_new_session()
        with self.assertRaisesRegex(UserError, "the customer was not confirmed"):
            self._spend(self.card, "dynamic_code")

    def test_wallet_coupon_scanned_needs_no_confirmation(self):
        """A coupon's own code, scanned from the member's wallet, is proof of its own."""
        self.open_new_session()
        order = self._spend(self.coupon, points=1)
        self.assertFalse(order.wechat_bind_method)
        self.assertEqual(order.lines.filtered("is_reward_line").coupon_id, self.coupon)


@tagged("post_install", "-at_install")
class TestSegmentCoupons(PosMemberCommon):
    def test_segment_campaign_issues_to_phone_only_members(self):
        """A phone-only member (member code from the till, no WeChat) gets the coupon of a segment campaign."""
        follower = self._member("oSegmentCoupon00000000000001")
        segment = self.env["wechat.segment"].create(
            {
                "name": "Everyone",
                "account_id": self.account.id,
                "followers_only": False,
                "include_phone_members": True,
            }
        )
        program = self.env["loyalty.program"].create(
            {
                "name": "Segment coupon",
                "program_type": "coupons",
                "trigger": "with_code",
                "applies_on": "current",
                "reward_ids": [Command.create({"reward_type": "discount", "discount": 5, "required_points": 1})],
            }
        )
        campaign = self.env["wechat.coupon.campaign"].create(
            {
                "name": "Segment",
                "account_id": self.account.id,
                "program_id": program.id,
                "audience": "segment",
                "segment_id": segment.id,
            }
        )
        campaign.action_issue()
        holders = campaign.card_ids.partner_id
        self.assertIn(self.lily, holders, "the phone-only member")
        self.assertIn(follower.partner_id, holders)
        self.assertNotIn(self.stranger, holders, "another company's member")
        campaign.action_issue()
        self.assertEqual(len(campaign.card_ids), len(holders), "issued once per contact")


@tagged("post_install", "-at_install")
class TestPosPayerWithPoints(PosMemberCommon):
    """WeChat Pay at the till never hands the payer a contact that has loyalty points (see wechat_member's
    ``TestPosTrust``; here, where loyalty is installed)."""

    def test_payer_never_adopts_contact_with_points(self):
        program = self.env["loyalty.program"].create({"name": "Points", "program_type": "loyalty"})
        self.env["loyalty.card"].create({"program_id": program.id, "partner_id": self.lily.id, "points": 10})
        self.open_new_session()
        order = self._pay_with_wechat(self.lily, OPENID_B)
        self.assertNotEqual(order.wechat_payer_member_id.partner_id, self.lily)
        self.assertEqual(order.partner_id, self.lily)
