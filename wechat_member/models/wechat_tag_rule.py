from odoo import api, fields, models
from odoo.tools import SQL


class WeChatTagRule(models.Model):
    """Automatic tagging after purchases: members of a segment get a tag.

    e.g. segment "2+ purchases this month, each ≥ 5 000" → tag 高价值.
    Rules are evaluated for the buyer right after each paid or refunded
    order, in SQL through the segment engine, and the tag sync is queued.
    """

    _name = "wechat.tag.rule"
    _description = "WeChat Automatic Tag Rule"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    segment_id = fields.Many2one("wechat.segment", required=True, ondelete="cascade", check_company=True,
                                 help="Members matching this segment get the tag.")
    account_id = fields.Many2one(related="segment_id.account_id", store=True)
    company_id = fields.Many2one(related="segment_id.company_id", store=True)
    tag_id = fields.Many2one("wechat.tag", required=True, ondelete="cascade", check_company=True,
                             domain="[('account_id', '=', account_id)]")
    remove_unmatched = fields.Boolean("Remove When No Longer Matching",
                                      help="e.g. after a refund, the tag is taken back.")

    @api.model
    def _apply_to_partners(self, partners):
        """Evaluate every active rule for the members of ``partners``; returns the changed tags."""
        members = self.env["wechat.member"].sudo().search([("partner_id", "in", partners.ids)])
        changed = self.env["wechat.tag"]
        if not members:
            return changed
        for rule in self.sudo().search([("account_id", "in", members.account_id.ids)]):
            own = members.filtered(lambda m, r=rule: m.account_id == r.account_id)
            self.env.flush_all()
            self.env.cr.execute(
                SQL("SELECT id FROM (%s) s WHERE id = ANY(%s)", rule.segment_id._member_sql(), own.ids)
            )
            matching = own.browse([row[0] for row in self.env.cr.fetchall()])
            to_add = matching - rule.tag_id.member_ids
            to_remove = (own - matching) & rule.tag_id.member_ids if rule.remove_unmatched else own.browse()
            if to_add or to_remove:
                rule.tag_id.member_ids = [(4, m.id) for m in to_add] + [(3, m.id) for m in to_remove]
                changed |= rule.tag_id
        if changed:
            self.env.ref("wechat_member.ir_cron_wechat_tag_sync")._trigger()
        return changed
