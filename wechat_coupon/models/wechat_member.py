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

    def _cs_links(self):
        """The agent also sends the coupon wallet and the offers the member can claim now (their claim page)."""
        links = super()._cs_links()
        member = self.sudo()
        lang = member._cs_lang()
        to_member = member.with_context(lang=lang)
        links.append({"key": "wallet", "label": _("Coupon wallet"), "text": to_member._cs_text_wallet()})
        for campaign in self.env["wechat.coupon.campaign"]._claimable_offers(member):
            links.append(
                {
                    "key": f"offer_{campaign.id}",
                    "label": _("Offer: %(name)s", name=campaign.name),
                    "text": to_member._cs_text_offer(campaign.with_context(lang=lang)),
                }
            )
        return links

    def _cs_text_wallet(self):
        return _("Your coupons: %(url)s", url=self.account_id._wechat_coupon_wallet_url())

    def _cs_text_offer(self, campaign):
        return _(
            "An offer for you, %(name)s: claim it here %(url)s",
            name=campaign.name,
            url=self.account_id._wechat_coupon_claim_url(campaign),
        )
