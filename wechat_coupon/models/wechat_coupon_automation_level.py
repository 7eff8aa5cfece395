from odoo import fields, models

from .loyalty_card import COUPON_PROGRAM_TYPES


class WeChatCouponAutomationLevel(models.Model):
    """The coupon program an automation gives the members of a level (birthday gift by level)."""

    _name = "wechat.coupon.automation.level"
    _description = "WeChat Coupon Automation Program per Level"
    _order = "automation_id, level_id"
    _check_company_auto = True

    automation_id = fields.Many2one("wechat.coupon.automation", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="automation_id.company_id", store=True)
    level_id = fields.Many2one(
        "wechat.member.level", required=True, ondelete="cascade", check_company=True, string="Member Level"
    )
    program_id = fields.Many2one(
        "loyalty.program",
        string="Coupon Program",
        required=True,
        check_company=True,
        domain=[("program_type", "in", COUPON_PROGRAM_TYPES)],
    )

    _sql_constraints = [
        ("automation_level_uniq", "UNIQUE(automation_id, level_id)", "A level has one program per automation."),
    ]
