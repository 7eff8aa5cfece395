from odoo import Command
from odoo.tests import tagged

from odoo.addons.point_of_sale.tests.test_frontend import TestPointOfSaleHttpCommon


@tagged("post_install", "-at_install")
class TestStampCardTour(TestPointOfSaleHttpCommon):
    @classmethod
    def get_default_groups(cls):
        return super().get_default_groups() | cls.env.ref("wechat_member.group_wechat_manager")

    def test_stamp_card_fills_and_the_gift_is_redeemed(self):
        """A stamp a visit, 3 stamps a free Desk Organizer: Lily (1 stamp) fills her card in two sales, the POS
        and the receipt show the stamps, and the third sale redeems the gift with pos_loyalty's reward button."""
        self.env["loyalty.program"].search([]).write({"active": False})
        program = self.env["loyalty.program"].create(
            {
                "name": "Stamp card",
                "program_type": "loyalty",
                "applies_on": "both",
                "trigger": "auto",
                "pos_ok": True,
                "wechat_stamp_card": True,
                "pos_config_ids": [Command.link(self.main_pos_config.id)],
                "rule_ids": [Command.create({"reward_point_mode": "order", "reward_point_amount": 1})],
                "reward_ids": [
                    Command.create(
                        {
                            "reward_type": "product",
                            "reward_product_id": self.desk_organizer.id,
                            "required_points": 3,
                        }
                    )
                ],
            }
        )
        lily = self.env["res.partner"].create({"name": "Lily Stamps", "phone": "13800138000"})
        lily.wechat_member_code = "WM90000088"
        card = self.env["loyalty.card"].create({"program_id": program.id, "partner_id": lily.id, "points": 1})
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("WeChatStampCardTour", login="pos_user")
        card.invalidate_recordset()
        self.assertEqual(card.points, 1, "1 + 1 + 1, then + 1 - 3 for the gift")
        orders = self.env["pos.order"].search([("partner_id", "=", lily.id)], order="id")
        self.assertEqual(len(orders), 3)
        reward_line = orders[2].lines.filtered("is_reward_line")
        self.assertEqual(reward_line.reward_id, program.reward_ids)
        self.assertEqual(reward_line.points_cost, 3)
        self.assertEqual(card.history_ids.sorted("id").mapped("issued"), [1, 1, 1])
        self.assertEqual(card.history_ids.sorted("id").mapped("used"), [0, 0, 3])
