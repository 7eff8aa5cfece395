from odoo import _, models


class WeChatMember(models.Model):
    _inherit = "wechat.member"

    def _cs_member_card(self):
        """The member card beside the conversation also shows the points and the valid coupons."""
        card = super()._cs_member_card()
        partner = self.sudo().partner_id
        points = partner._wechat_points_cards()
        coupons = partner._wechat_loyalty_cards(["coupons", "promo_code", "next_order_coupons"]).filtered(
            lambda c: c.points > 0
        )
        card["lines"] += [
            {
                "label": _("Points"),
                "value": ", ".join(f"{c.program_id.name}: {c.points:g}" for c in points) or "0",
            },
            {
                "label": _("Coupons"),
                "value": ", ".join(f"{c.program_id.name} ({c.code})" for c in coupons) or _("none"),
            },
        ]
        return card
