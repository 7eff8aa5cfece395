from odoo import api, models


class WeChatEvent(models.Model):
    _inherit = "wechat.event"

    @api.model
    def _receive(self, account, msg):
        # Only a live delivery has a passive reply (a retry by the cron has nobody to answer).
        return super(WeChatEvent, self.with_context(wechat_referral_live_event=True))._receive(account, msg)

    def _handle_subscribe(self, msg):
        """A follow through a member's referral QR attributes the new member to that member."""
        reply = super()._handle_subscribe(msg)
        referrer = self.channel_id.referrer_member_id
        if not referrer or not self.member_id:
            return reply
        member = self.member_id
        # A passive text reply tells the friend about their welcome perk; else a service message will.
        in_reply = bool(self.env.context.get("wechat_referral_live_event")) and (
            not reply or reply.get("type") == "text"
        )
        referral = self.env["wechat.referral"].with_context(wechat_referral_perk_in_reply=in_reply)._attribute(
            referrer, member, new_member=self.new_member, channel=self.channel_id, source="qr"
        )
        if referral.welcome_card_id and in_reply:
            partner = member.partner_id.with_context(
                lang=member.partner_id.lang or self.env.lang, wechat_referral_member_id=member.id
            )
            perk = partner._wechat_referral_welcome_text()
            reply = self._text_reply("\n".join(filter(None, [reply and reply.get("content"), perk])))
        return reply
