from odoo import Command
from odoo.tests import tagged

from odoo.addons.point_of_sale.tests.test_frontend import TestPointOfSaleHttpCommon


@tagged("post_install", "-at_install")
class TestWeChatCouponPos(TestPointOfSaleHttpCommon):
    @classmethod
    def get_default_groups(cls):
        # The test user (created by the accounting test base) also manages WeChat.
        return super().get_default_groups() | cls.env.ref("wechat_member.group_wechat_manager")

    def test_scan_member_coupon_once(self):
        self.env["loyalty.program"].search([]).write({"active": False})
        program = self.env["loyalty.program"].create(
            {
                "name": "WeChat 10% off",
                "program_type": "coupons",
                "trigger": "with_code",
                "applies_on": "current",
                "pos_ok": True,
                "rule_ids": [],
                "reward_ids": [
                    (
                        0,
                        0,
                        {
                            "reward_type": "discount",
                            "discount": 10,
                            "discount_mode": "percent",
                            "discount_applicability": "order",
                            "required_points": 1,
                        },
                    )
                ],
                "pos_config_ids": [Command.link(self.main_pos_config.id)],
            }
        )
        account = self.env["wechat.account"].sudo().create({"name": "POS coupons", "appid": "wxcouponpos0000001"})
        member = self.env["wechat.member"]._get_or_create(account, "oCouponPos000000000000000001")[0]
        campaign = (
            self.env["wechat.coupon.campaign"]
            .sudo()
            .create(
                {
                    "name": "Till",
                    "account_id": account.id,
                    "program_id": program.id,
                    "audience": "members",
                    "member_ids": [Command.set(member.ids)],
                }
            )
        )
        campaign.action_issue()
        card = campaign.card_ids
        card.code = "044WECHATPOS1"
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("WeChatCouponPosTour", login="pos_user")
        card.invalidate_recordset()
        self.assertEqual(card.points, 0, "the coupon is used")
        order = card.wechat_redeem_order_id
        self.assertTrue(order)
        self.assertIn(order.state, ("paid", "done", "invoiced"))
        self.assertAlmostEqual(order.amount_total, 9.18)
        self.assertEqual(self.env["pos.order.line"].search_count([("coupon_id", "=", card.id)]), 1)
        campaign._update_statistics()
        self.assertEqual(campaign.redeemed_count, 1)
        self.assertAlmostEqual(campaign.revenue, 9.18)

    def test_spend_points_asks_to_confirm_the_customer(self):
        self.env["loyalty.program"].search([]).write({"active": False})
        program = self.env["loyalty.program"].create(
            {
                "name": "Member points",
                "program_type": "loyalty",
                "trigger": "auto",
                "applies_on": "both",
                "pos_ok": True,
                "pos_config_ids": [Command.link(self.main_pos_config.id)],
                "rule_ids": [],
                "reward_ids": [
                    (
                        0,
                        0,
                        {
                            "reward_type": "discount",
                            "discount": 10,
                            "discount_mode": "per_order",
                            "discount_applicability": "order",
                            "required_points": 100,
                        },
                    )
                ],
            }
        )
        lily = self.env["res.partner"].create({"name": "Lily Spender", "phone": "13800138000"})
        lily.wechat_member_code = "WM90000077"
        card = self.env["loyalty.card"].create({"program_id": program.id, "partner_id": lily.id, "points": 250})
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("WeChatSpendPointsTour", login="pos_user")
        order = self.env["pos.order"].search([("partner_id", "=", lily.id)])
        self.assertEqual(len(order), 1, "one order, validated once")
        self.assertEqual(order.wechat_bind_method, "customer_confirmed")
        card.invalidate_recordset()
        self.assertEqual(card.points, 150, "100 points spent")

    def test_receipt_shows_points_after_the_order(self):
        """The receipt's member block shows the points balance after the order: earned and spent included."""
        self.env["loyalty.program"].search([]).write({"active": False})
        program = self.env["loyalty.program"].create(
            {
                "name": "Member points",
                "program_type": "loyalty",
                "trigger": "auto",
                "applies_on": "both",
                "pos_ok": True,
                "pos_config_ids": [Command.link(self.main_pos_config.id)],
                "rule_ids": [Command.create({"reward_point_mode": "order", "reward_point_amount": 10})],
                "reward_ids": [
                    Command.create(
                        {
                            "reward_type": "discount",
                            "discount": 10,
                            "discount_mode": "per_order",
                            "discount_applicability": "order",
                            "required_points": 100,
                        }
                    )
                ],
            }
        )
        self.env.company.write(
            {"name": "Lotus Shop", "street": "1 Lotus Road", "city": "Shanghai", "phone": "+86 21 5555 0100"}
        )
        lily = self.env["res.partner"].create({"name": "Lily Spender", "phone": "13800138000"})
        lily.wechat_member_code = "WM90000077"
        mia = self.env["res.partner"].create({"name": "Mia Newcomer", "phone": "13800138001"})
        mia.wechat_member_code = "WM90000078"
        card = self.env["loyalty.card"].create({"program_id": program.id, "partner_id": lily.id, "points": 250})
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("WeChatReceiptPointsTour", login="pos_user")
        card.invalidate_recordset()
        self.assertEqual(card.points, 170, "the balance the receipt showed: 250 + 10, then + 10 - 100")
        self.assertEqual(self.env["loyalty.card"].search([("partner_id", "=", mia.id)]).points, 10)
