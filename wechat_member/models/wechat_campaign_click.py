from odoo import api, fields, models


class WeChatCampaignClick(models.Model):
    """One row per (campaign, visitor): a campaign link counts one click per member or browser."""

    _name = "wechat.campaign.click"
    _description = "WeChat Campaign Click"
    _log_access = False

    campaign_id = fields.Many2one("wechat.campaign", required=True, ondelete="cascade", index=False)
    visitor = fields.Char(required=True, help="m:<member id> when the browser is a known member, else b:<browser>.")
    used_at = fields.Datetime(required=True, default=fields.Datetime.now)

    _sql_constraints = [
        ("campaign_visitor_uniq", "UNIQUE(campaign_id, visitor)", "This visitor's click is already counted."),
    ]

    @api.model
    def _count(self, campaign, visitor):
        """Count the click of ``visitor`` on ``campaign`` once; True if it was the first."""
        self.env.cr.execute(
            """
            INSERT INTO wechat_campaign_click (campaign_id, visitor, used_at)
            VALUES (%s, %s, %s)
            ON CONFLICT (campaign_id, visitor) DO NOTHING
            RETURNING id
            """,
            [campaign.id, visitor, fields.Datetime.now()],
        )
        if not self.env.cr.fetchone():
            return False
        self.env.cr.execute(
            "UPDATE wechat_campaign SET click_count = COALESCE(click_count, 0) + 1 WHERE id = %s", [campaign.id]
        )
        return True
