from odoo import _, fields, models


class WeChatNotice(models.Model):
    """Coupon notices: values and texts made from the card when the notice is sent."""

    _inherit = "wechat.notice"

    def _coupon_card(self):
        return self.env["loyalty.card"].sudo().browse((self.values or {}).get("card_id")).exists()

    def _coupon_values(self, values):
        card = self._coupon_card()
        if card:
            values.update(
                coupon_name=card.program_id.with_context(lang=self._lang()).name,
                coupon_code=card.code,
                expiry_date=fields.Date.to_string(card.expiration_date) if card.expiration_date else False,
                url=values.get("url") or self.account_id._wechat_coupon_wallet_url(),
            )
        return values

    _values_coupon_issued = _values_coupon_expiring = _values_birthday = _values_winback = _coupon_values

    def _text_coupon_issued(self, values):
        card = self._coupon_card()
        campaign = card.wechat_campaign_id
        return campaign._notice_text(self.member_id.partner_id) if campaign else ""

    def _automation_text(self, values):
        card = self._coupon_card()
        automation = self.env["wechat.coupon.automation"].sudo().browse((self.values or {}).get("automation_id"))
        automation = automation.exists() or card.wechat_automation_id
        return automation._text(card) if automation and card else ""

    _text_coupon_expiring = _text_birthday = _text_winback = _automation_text

    def _text_points_expiring(self, values):
        return _(
            "Reminder: %(points)s points expire on %(date)s (balance: %(balance)s points). Your member card: %(url)s",
            points=format(values.get("points") or 0, "g"),
            date=values.get("expiry_date") or "-",
            balance=format(values.get("balance") or 0, "g"),
            url=self.account_id._member_page_url(),
        )

    # ------------------------------------------------------------------ member levels
    def _text_level_upgrade(self, values):
        return _("Congratulations! You are now a %(level)s member.", level=values.get("level") or "")

    def _text_level_downgrade(self, values):
        return _(
            "Your %(level)s level ends on %(date)s unless you reach %(missing)s more by then.",
            level=values.get("level") or "",
            date=values.get("date") or "",
            missing=values.get("missing") or "",
        )
