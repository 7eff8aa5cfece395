from odoo import api, fields, models


class WeChatMemberSelectionMixin(models.AbstractModel):
    """Wizards opened from the Action menu of members: the selected members and their account."""

    _name = "wechat.member.selection.mixin"
    _description = "Selected WeChat Members"

    member_ids = fields.Many2many("wechat.member", string="Members", required=True)
    account_id = fields.Many2one("wechat.account", compute="_compute_account_id")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if self.env.context.get("active_model") == "wechat.member" and "member_ids" in fields_list:
            values["member_ids"] = [(6, 0, self.env.context.get("active_ids", []))]
        return values

    @api.depends("member_ids")
    def _compute_account_id(self):
        for wizard in self:
            wizard.account_id = wizard.member_ids.account_id[:1]
