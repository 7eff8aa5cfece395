from odoo import fields, models


class WeChatReplyRule(models.Model):
    _inherit = "wechat.reply.rule"

    reply_type = fields.Selection(selection_add=[("invite", "Invite friends")], ondelete={"invite": "cascade"})

    def _reply_for(self, member):
        if self.reply_type == "invite":
            # The contact may be a member of several accounts: answer for this one.
            member = member.with_context(wechat_referral_member_id=member.id)
        return super()._reply_for(member)
