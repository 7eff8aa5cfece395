from odoo import _, fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    def _wechat_loyalty_cards(self, program_types):
        self.ensure_one()
        today = fields.Date.context_today(self)
        return self.env["loyalty.card"].sudo().search(
            [
                ("partner_id", "=", self.id),
                ("program_id.program_type", "in", program_types),
                ("program_id.active", "=", True),
                "|", ("expiration_date", "=", False), ("expiration_date", ">=", today),
            ]
        )

    def _wechat_points_text(self):
        """Points of the member's loyalty cards (the ledger is Odoo's loyalty)."""
        self.ensure_one()
        cards = self._wechat_loyalty_cards(["loyalty"])
        if not cards:
            return super()._wechat_points_text()
        lines = []
        for card in cards:
            points = "%g" % card.points
            lines.append(_("%(program)s: %(points)s points", program=card.program_id.name, points=points))
        return "\n".join([_("Member code: %(code)s", code=self.wechat_member_code or "-")] + lines)

    def _wechat_coupons_text(self):
        self.ensure_one()
        cards = self._wechat_loyalty_cards(["coupons", "promo_code", "next_order_coupons"]).filtered(
            lambda c: c.points > 0
        )
        if not cards:
            return super()._wechat_coupons_text()
        lines = [
            _("%(program)s: %(code)s (until %(date)s)", program=card.program_id.name, code=card.code,
              date=card.expiration_date or "-")
            for card in cards
        ]
        return "\n".join([_("Your coupons:")] + lines)
