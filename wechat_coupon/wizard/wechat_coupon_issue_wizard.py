from odoo import _, api, fields, models
from odoo.exceptions import UserError


class WeChatCouponIssueWizard(models.TransientModel):
    """Action menu of members: issue a coupon now (through a campaign, so it is tracked and idempotent)."""

    _name = "wechat.coupon.issue.wizard"
    _inherit = ["wechat.member.selection.mixin"]
    _description = "Issue WeChat Coupons"

    program_id = fields.Many2one(
        "loyalty.program",
        string="Coupon Program",
        required=True,
        domain="[('program_type', 'in', ('coupons', 'promo_code'))]",
    )
    name = fields.Char("Campaign Name")
    expiration_date = fields.Date("Valid Until")
    points = fields.Float("Coupon Points", default=1.0, required=True)

    def action_issue(self):
        self.ensure_one()
        self.env["wechat.coupon.campaign"]._check_members(self.member_ids)
        if self.program_id.company_id and self.program_id.company_id != self.account_id.company_id:
            raise UserError(_("The program and the WeChat account belong to different companies."))
        campaign = self.env["wechat.coupon.campaign"].create(
            {
                "name": self.name
                or _("%(program)s for %(count)s members", program=self.program_id.name, count=len(self.member_ids)),
                "account_id": self.account_id.id,
                "program_id": self.program_id.id,
                "audience": "members",
                "member_ids": [(6, 0, self.member_ids.ids)],
                "expiration_date": self.expiration_date,
                "points": self.points,
            }
        )
        return campaign.action_issue()

    @api.model
    def action_open(self, members):
        """Server action of the Action menu."""
        self.env["wechat.coupon.campaign"]._check_members(members)
        return {
            "type": "ir.actions.act_window",
            "name": _("Issue coupon"),
            "res_model": self._name,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_member_ids": [(6, 0, members.ids)]},
        }
