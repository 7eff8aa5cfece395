from odoo import fields, models


class WeChatCouponTransfer(models.Model):
    """A coupon passed on to a friend through a signed share link."""

    _name = "wechat.coupon.transfer"
    _description = "WeChat Coupon Transfer"
    _order = "id desc"

    card_id = fields.Many2one(
        "loyalty.card", string="Coupon", required=True, ondelete="cascade", index=True, readonly=True
    )
    campaign_id = fields.Many2one(related="card_id.wechat_campaign_id", store=True, string="Campaign")
    program_id = fields.Many2one(related="card_id.program_id", store=True, string="Program")
    account_id = fields.Many2one("wechat.account", string="WeChat Account", readonly=True, ondelete="set null")
    company_id = fields.Many2one("res.company", related="account_id.company_id", store=True, index=True)
    from_partner_id = fields.Many2one("res.partner", string="From", required=True, readonly=True, ondelete="restrict")
    to_partner_id = fields.Many2one("res.partner", string="To", required=True, readonly=True, ondelete="restrict")
    date = fields.Datetime(required=True, default=fields.Datetime.now, readonly=True)
    old_code = fields.Char(
        "Previous Code",
        readonly=True,
        index=True,
        groups="wechat_member.group_wechat_manager",
        help="The code before the transfer: refused at the till.",
    )
