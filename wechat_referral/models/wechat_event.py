from odoo import models


class WeChatEvent(models.Model):
    _inherit = "wechat.event"

    def _handle_subscribe(self, msg):
        """A follow through a member's referral QR attributes the new member to that member."""
        reply = super()._handle_subscribe(msg)
        referrer = self.channel_id.referrer_member_id
        if not referrer or not self.member_id:
            return reply
        member = self.member_id
        referral = self.env["wechat.referral"]._attribute(
            referrer, member, new_member=self.new_member, channel=self.channel_id, source="qr"
        )
        if referral.welcome_card_id and (not reply or reply.get("type") == "text"):
            partner = member.partner_id.with_context(
                lang=member.partner_id.lang or self.env.lang, wechat_referral_member_id=member.id
            )
            perk = partner._wechat_referral_welcome_text()
            reply = self._text_reply("\n".join(filter(None, [reply and reply.get("content"), perk])))
        return reply
