from odoo import _, fields, models

# WeChat's limit on the content of a text reply (UTF-8 bytes).
TEXT_REPLY_MAX_BYTES = 2048


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
        ``wechat_referral``'s points programs included; not the stamp cards (their points are stamps)."""
        self.ensure_one()
        return self._wechat_loyalty_cards(["loyalty"]).filtered(lambda card: not card.program_id.wechat_stamp_card)

    def _wechat_stamp_cards(self, company):
        """The member's stamp cards at ``company``, as ``loyalty.program._wechat_stamp_values``: one per running
        stamp card program of the company, the card drawn empty when the member has none yet."""
        self.ensure_one()
        programs = self.env["loyalty.program"]._wechat_stamp_programs(company)
        cards = self._wechat_loyalty_cards(["loyalty"]).filtered(lambda card: card.program_id in programs)
        values = []
        for program in programs:
            card = cards.filtered(lambda c, program=program: c.program_id == program).sorted("id")[:1]
            values.append(program._wechat_stamp_values(card))
        return values

    def _wechat_points_text(self):
        """Adds the next expiry of each points card whose points expire ("120 points expire on 2027-03-31")."""
        text = super()._wechat_points_text()
        expiring = [line for card in self._wechat_points_cards() for line in card._wechat_points_expiry_texts(1)]
        return "\n".join([text] + expiring)

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

    def _wechat_offers_text(self):
        """What "offers" answers: the coupon campaigns the member can claim now, with their claim links (at most
        5, within WeChat's 2048 bytes of a text reply); the member is the one the reply rule answers, else the
        contact's latest."""
        self.ensure_one()
        member_id = self.env.context.get("wechat_coupon_member_id")
        member = self.env["wechat.member"].sudo().browse(member_id).exists() if member_id else None
        member = member or self.sudo().wechat_member_ids[:1]
        offers = self.env["wechat.coupon.campaign"]._claimable_offers(member) if member else []
        if not offers:
            return super()._wechat_offers_text()
        text = _("Offers running now:")
        for offer in offers:
            line = offer._offer_text()
            if len(f"{text}\n{line}".encode()) > TEXT_REPLY_MAX_BYTES:
                break
            text = f"{text}\n{line}"
        return text

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
