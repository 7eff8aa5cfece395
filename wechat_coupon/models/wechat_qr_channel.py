from odoo import fields, models


class WeChatQrChannel(models.Model):
    _inherit = "wechat.qr.channel"

    wechat_stamp_program_id = fields.Many2one(
        "loyalty.program",
        string="Stamp Card to Start",
        domain="[('wechat_stamp_card', '=', True), ('company_id', 'in', [False, company_id])]",
        check_company=True,
        ondelete="set null",
        help="A member who follows or scans through this QR code and has no card of this stamp program gets one "
        "(with the program's welcome stamps).",
    )

    def _member_came(self, member, created):
        res = super()._member_came(member, created)
        program = self.sudo().wechat_stamp_program_id
        if program.active and program in self.env["loyalty.program"]._wechat_stamp_programs(self.account_id.company_id):
            program._wechat_start_stamp_card(member.partner_id, self)
        return res
