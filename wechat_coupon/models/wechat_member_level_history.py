from odoo import fields, models

from .wechat_member_level_member import LEVEL_REASONS


class WeChatMemberLevelHistory(models.Model):
    """A change of a contact's level at a company."""

    _name = "wechat.member.level.history"
    _description = "WeChat Member Level Change"
    _order = "date desc, id desc"
    _rec_name = "partner_id"
    _check_company_auto = True

    date = fields.Datetime(required=True, default=fields.Datetime.now, readonly=True, index=True)
    partner_id = fields.Many2one("res.partner", required=True, ondelete="cascade", index=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    from_level_id = fields.Many2one("wechat.member.level", string="From", readonly=True, check_company=True)
    to_level_id = fields.Many2one("wechat.member.level", string="To", readonly=True, check_company=True)
    reason = fields.Selection(LEVEL_REASONS, required=True, readonly=True)
    qualifying_value = fields.Float(digits="Account", readonly=True)
