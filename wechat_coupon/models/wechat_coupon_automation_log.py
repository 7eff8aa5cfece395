from odoo import fields, models


class WeChatCouponAutomationLog(models.Model):
    """One occasion handled by an automation: never twice (unique automation, contact, occasion)."""

    _name = "wechat.coupon.automation.log"
    _description = "WeChat Coupon Automation Log"
    _order = "id desc"

    automation_id = fields.Many2one("wechat.coupon.automation", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="automation_id.company_id", store=True)
    partner_id = fields.Many2one("res.partner", string="Contact", required=True, ondelete="cascade", index=True)
    occasion = fields.Char(required=True, help="Birthday year, dormancy start or coupon.")
    card_id = fields.Many2one("loyalty.card", string="Coupon", ondelete="set null")
    date = fields.Datetime(required=True, default=fields.Datetime.now)

    _sql_constraints = [
        (
            "occasion_uniq",
            "UNIQUE(automation_id, partner_id, occasion)",
            "This automation already handled this occasion for this contact.",
        ),
    ]
