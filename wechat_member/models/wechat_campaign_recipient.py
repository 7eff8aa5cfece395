from odoo import fields, models


class WeChatCampaignRecipient(models.Model):
    _name = "wechat.campaign.recipient"
    _description = "WeChat Campaign Recipient"

    campaign_id = fields.Many2one("wechat.campaign", required=True, ondelete="cascade", index=True)
    member_id = fields.Many2one("wechat.member", required=True, ondelete="cascade", index=True)
    chunk_id = fields.Many2one("wechat.campaign.chunk", ondelete="cascade", index=True)
    holdout = fields.Boolean(index=True)

    _sql_constraints = [
        ("campaign_member_uniq", "UNIQUE(campaign_id, member_id)", "A member is in a campaign once."),
    ]
