from odoo import fields, models


class WeChatSegment(models.Model):
    _inherit = "wechat.segment"

    wechat_level_ids = fields.Many2many(
        "wechat.member.level",
        string="Member Levels",
        domain="[('company_id', '=', company_id)]",
        help="Only the members with one of these levels (at the segment's company).",
    )

    def _member_domain(self):
        domain = super()._member_domain()
        if self.wechat_level_ids:
            domain.append(("partner_id.wechat_level_member_ids.level_id", "in", self.wechat_level_ids.ids))
        return domain

    def _includes_phone_members(self):
        # Phone-only members are selected on their contact only: without their level, not with a level filter.
        return super()._includes_phone_members() and not self.wechat_level_ids
