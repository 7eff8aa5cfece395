import logging
from datetime import timedelta

from odoo import Command, api, fields, models

from .wechat_tag import MAX_TAGS_PER_MEMBER

_logger = logging.getLogger(__name__)

# Tags changed by purchases reach WeChat after this delay, in one sync for all of them.
SYNC_DELAY = timedelta(minutes=1)


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
    segment_id = fields.Many2one(
        "wechat.segment",
        required=True,
        ondelete="cascade",
        check_company=True,
        help="Members matching this segment get the tag.",
    )
    account_id = fields.Many2one(related="segment_id.account_id", store=True)
    company_id = fields.Many2one(related="segment_id.company_id", store=True)
    tag_id = fields.Many2one(
        "wechat.tag", required=True, ondelete="cascade", check_company=True, domain="[('account_id', '=', account_id)]"
    )
    remove_unmatched = fields.Boolean(
        "Remove When No Longer Matching", help="e.g. after a refund, the tag is taken back."
    )

    @api.model
    def _apply_to_partners(self, partners):
        """Evaluate every active rule for the members of ``partners``; returns the changed tags.

        The segment is evaluated for these members only, and the tag is
        linked from the members' side: concurrent orders of other members
        never write the same rows.  A member already at WeChat's 20 tags is
        left out (logged), never failing the sale.  The tag sync runs a
        little later, once for all the orders of that moment.
        """
        members = self.env["wechat.member"].sudo().search([("partner_id", "in", partners.ids)])
        changed = self.env["wechat.tag"]
        if not members:
            return changed
        rules = self.sudo().search([("account_id", "in", members.account_id.ids)])
        if not rules:
            return changed
        self.env.flush_all()
        for rule in rules:
            tag = rule.tag_id
            own = members.filtered(lambda m, r=rule: m.account_id == r.account_id)
            tagged = own.filtered(lambda m, t=tag: t in m.tag_ids)
            # A rule that never takes its tag back has nothing to check for members who have it.
            candidates = own if rule.remove_unmatched else own - tagged
            if not candidates:
                continue
            self.env.cr.execute(rule.segment_id._member_sql(among=candidates))
            matching = own.browse([row[0] for row in self.env.cr.fetchall()])
            to_add = matching - tagged
            full = to_add.filtered(lambda m: len(m.tag_ids) >= MAX_TAGS_PER_MEMBER)
            if full:
                _logger.warning(
                    "Tag rule %s: members %s already have %s tags, not tagged %s",
                    rule.id,
                    full.ids,
                    MAX_TAGS_PER_MEMBER,
                    tag.name,
                )
                to_add -= full
            to_remove = tagged - matching if rule.remove_unmatched else own.browse()
            if to_add:
                to_add.write({"tag_ids": [Command.link(tag.id)]})
            if to_remove:
                to_remove.write({"tag_ids": [Command.unlink(tag.id)]})
            if to_add or to_remove:
                changed |= tag
        if changed:
            self._trigger_tag_sync()
        return changed

    @api.model
    def _trigger_tag_sync(self):
        """Run the tag sync in ``SYNC_DELAY``, unless a run is already planned by then."""
        cron = self.env.ref("wechat_member.ir_cron_wechat_tag_sync").sudo()
        at = fields.Datetime.now() + SYNC_DELAY
        planned = (
            self.env["ir.cron.trigger"]
            .sudo()
            .search_count(
                [("cron_id", "=", cron.id), ("call_at", ">", fields.Datetime.now()), ("call_at", "<=", at)], limit=1
            )
        )
        if not planned:
            cron._trigger(at)
