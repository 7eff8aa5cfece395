from odoo import _, models


class WeChatMember(models.Model):
    _inherit = "wechat.member"

    def _cs_member_card(self):
        """The member card beside the conversation also shows the member's level, points, stamp cards and valid
        coupons (at the account's company)."""
        card = super()._cs_member_card()
        company = self.sudo().account_id.company_id
        partner = self.sudo().partner_id.with_company(company)
        stamps = [c for c in partner._wechat_stamp_cards(company) if c["card"]]
        points = partner._wechat_points_cards()
        coupons = partner._wechat_loyalty_cards(["coupons", "promo_code", "next_order_coupons"]).filtered(
            lambda c: c.points > 0
        )
        card["lines"] += [
            {"label": _("Member Level"), "value": partner.wechat_level_name or _("none")},
            {
                "label": _("Points"),
                "value": ", ".join(f"{c.program_id.name}: {c.points:g}" for c in points) or "0",
            },
            {
                "label": _("Coupons"),
                "value": ", ".join(f"{c.program_id.name} ({c.code})" for c in coupons) or _("none"),
            },
        ]
        if stamps:
            card["lines"].append(
                {
                    "label": _("Stamp Cards"),
                    "value": ", ".join(f"{c['name']}: {c['filled']}/{c['total']}" for c in stamps),
                }
            )
        return card
