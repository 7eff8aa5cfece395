from odoo import api, fields, models

from .wechat_notice_template import VALUE_LABELS, keyword_type


class WeChatNoticeTemplateLine(models.Model):
    _name = "wechat.notice.template.line"
    _description = "WeChat Notice Template Keyword"
    _order = "mapping_id, sequence, id"

    mapping_id = fields.Many2one("wechat.notice.template", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer(default=10)
    keyword = fields.Char(required=True, help="The template's own key, e.g. thing1, amount2, time3.")
    value_key = fields.Selection(VALUE_LABELS, string="Shows", required=True)
    fixed_value = fields.Char("Fixed Text")
    keyword_type = fields.Char(compute="_compute_keyword_type")

    @api.depends("keyword")
    def _compute_keyword_type(self):
        for line in self:
            line.keyword_type = keyword_type(line.keyword) or ""
