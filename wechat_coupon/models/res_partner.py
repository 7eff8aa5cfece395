from odoo import _, fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    def _wechat_loyalty_cards(self, program_types):
        self.ensure_one()
        today = fields.Date.context_today(self)
        return (
            self.env["loyalty.card"]
            .sudo()
            .search(
                [
                    ("partner_id", "=", self.id),
                    ("program_id.program_type", "in", program_types),
                    ("program_id.active", "=", True),
                    "|",
                    ("expiration_date", "=", False),
                    ("expiration_date", ">=", today),
                ]
            )
        )

    def _wechat_points_cards(self):
        """The member's cards of every loyalty points program (the ledger is Odoo's loyalty), those of
        ``wechat_referral``'s points programs included."""
        self.ensure_one()
        return self._wechat_loyalty_cards(["loyalty"])

    def _wechat_coupons_text(self):
        self.ensure_one()
        cards = self._wechat_loyalty_cards(["coupons", "promo_code", "next_order_coupons"]).filtered(
            lambda c: c.points > 0
        )
        if not cards:
            return super()._wechat_coupons_text()
        lines = [_("Your coupons:")]
        for card in cards:
            lines.append(
                _(
                    "%(program)s: %(code)s (until %(date)s)",
                    program=card.program_id.name,
                    code=card.code,
                    date=card.expiration_date or "-",
                )
            )
        return "\n".join(lines)

    def _wechat_wallet_cards(self, account):
        """The coupons shown in the member's wallet: valid ones first, then used and expired (recent)."""
        self.ensure_one()
        cards = (
            self.env["loyalty.card"]
            .sudo()
            .search(
                [
                    ("partner_id", "=", self.id),
                    ("program_id.program_type", "in", ["coupons", "promo_code"]),
                    ("company_id", "in", [False, account.company_id.id]),
                ],
                order="id desc",
                limit=100,
            )
        )
        today = fields.Date.context_today(self)
        return cards.sorted(lambda c: (c._wechat_status(today) != "valid", c.expiration_date or today, -c.id))

    def _wechat_valid_wallet_cards(self, account):
        """The valid coupons of the member's wallet, in the wallet's order (the member page's "My coupons")."""
        cards = self._wechat_wallet_cards(account)
        today = fields.Date.context_today(cards)
        return cards.filtered(lambda c: c._wechat_status(today) == "valid")
