from odoo import Command
from odoo.tests import tagged

from odoo.addons.point_of_sale.tests.test_frontend import TestPointOfSaleHttpCommon
from odoo.addons.wechat_coupon.tests.common import create_member_points_program


@tagged("post_install", "-at_install")
class TestWeChatRefundPointsTour(TestPointOfSaleHttpCommon):
    @classmethod
    def get_default_groups(cls):
        return super().get_default_groups() | cls.env.ref("wechat_member.group_wechat_manager")

    def test_refund_takes_back_points_and_a_stamp(self):
        """At the till: a refund takes back the points and the stamp its line earned, and its receipt shows
        the balance after the takeback (sent back by the server at the sync)."""
        self.env["loyalty.program"].search([]).write({"active": False})
        scarf = self.env["product.product"].create(
            {"name": "Lotus Scarf", "available_in_pos": True, "list_price": 100.0, "taxes_id": [Command.clear()]}
        )
        points = create_member_points_program(self.env, "Lotus points", self.main_pos_config, 1000)
        stamps = self.env["loyalty.program"].create(
            {
                "name": "Scarf stamps",
                "program_type": "loyalty",
                "trigger": "auto",
                "applies_on": "both",
                "wechat_stamp_card": True,
                "pos_ok": True,
                "pos_config_ids": [Command.link(self.main_pos_config.id)],
                "rule_ids": [
                    Command.create(
                        {"reward_point_mode": "unit", "reward_point_amount": 1, "product_ids": [Command.set(scarf.ids)]}
                    )
                ],
                "reward_ids": [Command.create({"reward_type": "discount", "discount": 100, "required_points": 10})],
            }
        )
        lily = self.env["res.partner"].create({"name": "Lily Refund", "phone": "13800138000"})
        lily.wechat_member_code = "WM90000079"
        card = self.env["loyalty.card"].create({"program_id": points.id, "partner_id": lily.id, "points": 250})
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("WeChatRefundPointsTour", login="pos_user")
        sale, refund = self.env["pos.order"].search([("partner_id", "=", lily.id)], order="id")
        self.assertTrue(refund.lines.refunded_orderline_id)
        card.invalidate_recordset()
        self.assertEqual(card.points, 350, "250 + 200 - 100")
        stamp_card = self.env["loyalty.card"].search([("partner_id", "=", lily.id), ("program_id", "=", stamps.id)])
        self.assertEqual(stamp_card.points, 1, "2 stamps, 1 taken back")
        taken = self.env["loyalty.history"].search(
            [("order_model", "=", "pos.order"), ("order_id", "=", refund.id), ("wechat_kind", "=", "refund")]
        )
        self.assertEqual(sorted(taken.mapped("used")), [1, 100])
        self.assertTrue(sale.wechat_points_done)
