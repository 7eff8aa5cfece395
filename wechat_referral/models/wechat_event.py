from odoo import models


class WeChatEvent(models.Model):
    _inherit = "wechat.event"

    def _handle_subscribe(self, msg):
        """A follow through a member's referral QR attributes the new member to that member.

        The friend's welcome perk is a notice: the router puts it in the passive
        reply of this follow when it is live.
        """
        reply = super()._handle_subscribe(msg)
        referrer = self.channel_id.referrer_member_id
        if referrer and self.member_id:
            self.env["wechat.referral"]._attribute(
                referrer, self.member_id, new_member=self.new_member, channel=self.channel_id, source="qr"
            )
        # A share-link visitor who follows now: the perk that waited for the follow (a member this follow
        # created has no referral but the one just attributed).
        if self.member_id and (referrer or not self.new_member):
            self.env["wechat.referral"]._grant_pending_welcome_perks(members=self.member_id)
        return reply
