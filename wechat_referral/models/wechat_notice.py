from odoo import _, models

from .res_partner import format_points


class WeChatNotice(models.Model):
    """Referral notices: the referrer's points change and the friend's welcome perk."""

    _inherit = "wechat.notice"

    def _referral(self):
        return self.env["wechat.referral"].sudo().browse((self.values or {}).get("referral_id")).exists()

    def _text_referral_reward(self, values):
        return _(
            "+%(points)s points: %(reason)s. Balance: %(balance)s points.",
            points=format_points(abs(values.get("points") or 0)),
            reason=values.get("reason") or "",
            balance=format_points(values.get("balance") or 0),
        )

    def _text_referral_clawback(self, values):
        return _(
            "-%(points)s points: %(reason)s. Balance: %(balance)s points.",
            points=format_points(abs(values.get("points") or 0)),
            reason=values.get("reason") or "",
            balance=format_points(values.get("balance") or 0),
        )

    def _text_referral_welcome(self, values):
        partner = self.member_id.partner_id
        return partner.with_context(wechat_referral_member_id=self.member_id.id)._wechat_referral_welcome_text()

    def _values_referral_welcome(self, values):
        card = self._referral().welcome_card_id
        if card:
            values.update(coupon_name=card.program_id.with_context(lang=self._lang()).name, coupon_code=card.code)
        return values
