from odoo import models


class WeChatReplyRule(models.Model):
    _inherit = "wechat.reply.rule"

    def _reply_for(self, member):
        if self.reply_type == "offers":
            # The contact may be a member of several accounts: answer with the offers of this one.
            member = member.with_context(wechat_coupon_member_id=member.id)
        return super()._reply_for(member)
