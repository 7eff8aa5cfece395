from odoo import models


class MergePartnerAutomatic(models.TransientModel):
    """Merging contacts keeps their WeChat members, one member code and the summed statistics."""

    _inherit = "base.partner.merge.automatic.wizard"

    def _merge(self, partner_ids, dst_partner=None, extra_checks=True):
        # Statistics are personal data (fields with groups): read and written by this server code.
        partners = self.env["res.partner"].sudo().browse(partner_ids).exists()
        members = partners.filtered("wechat_member_code")
        stats = None
        if members or partners.filtered("wechat_purchase_count"):
            dated = partners.filtered("wechat_last_purchase")
            stats = {
                "count": sum(partners.mapped("wechat_purchase_count")),
                "amount": sum(partners.mapped("wechat_purchase_amount")),
                "first": min(dated.mapped("wechat_first_purchase"), default=False),
                "last": max(dated.mapped("wechat_last_purchase"), default=False),
            }
        codes = {p.id: p.wechat_member_code for p in members}
        # The unique member code would be copied to the destination before the
        # sources are deleted: free it first, then give the destination one.
        members.sudo().write({"wechat_member_code": False})
        self.env.flush_all()
        result = super()._merge(partner_ids, dst_partner=dst_partner, extra_checks=extra_checks)
        dst = self.env["res.partner"].browse(partner_ids).exists()[:1]  # the survivor
        # Foreign keys were moved in SQL: recompute what depends on the members.
        dst.invalidate_recordset(["wechat_member_ids"])
        dst.modified(["wechat_member_ids"])
        if dst and codes:
            dst.sudo().wechat_member_code = codes.get(dst.id) or next(iter(codes.values()))
        if dst and stats:
            dst.sudo().write(
                {
                    "wechat_purchase_count": stats["count"],
                    "wechat_purchase_amount": stats["amount"],
                    "wechat_first_purchase": stats["first"],
                    "wechat_last_purchase": stats["last"],
                }
            )
            dst._wechat_update_activity()
        return result
