from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

REPLY_TYPES = [
    ("text", "Fixed text"),
    ("points", "My points"),
    ("coupons", "My coupons"),
    ("purchases", "My purchases"),
    ("offers", "Offers"),
    ("member_page", "Member page link"),
]


class WeChatReplyRule(models.Model):
    """Self-service answers to keywords and custom-menu clicks ("积分" → my points)."""

    _name = "wechat.reply.rule"
    _description = "WeChat Auto-Reply Rule"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    account_id = fields.Many2one(
        "wechat.account", ondelete="cascade", help="Leave empty to use the rule on every account."
    )
    keywords = fields.Char(
        help="Comma-separated keywords; a message equal to one of them (case-insensitive) matches.",
    )
    click_key = fields.Char("Menu Key", help="The key of a custom-menu CLICK button.")
    reply_type = fields.Selection(REPLY_TYPES, required=True, default="text")
    reply_text = fields.Text(translate=True)

    @api.constrains("keywords", "click_key", "reply_type", "reply_text")
    def _check_rule(self):
        for rule in self:
            if not (rule.keywords or rule.click_key):
                raise ValidationError(_("Rule %(rule)s needs keywords or a menu key.", rule=rule.name))
            if rule.reply_type == "text" and not rule.reply_text:
                raise ValidationError(_("Rule %(rule)s needs a reply text.", rule=rule.name))

    def _keyword_set(self):
        self.ensure_one()
        return {k.strip().lower() for k in (self.keywords or "").replace("，", ",").split(",") if k.strip()}

    @api.model
    def _match(self, account, text=None, click_key=None):
        rules = self.search(["|", ("account_id", "=", False), ("account_id", "=", account.id)])
        # Rules of the account itself win over shared ones.
        rules = rules.sorted(lambda r: (not r.account_id, r.sequence, r.id))
        if click_key:
            return next((r for r in rules if r.click_key == click_key), self.browse())
        needle = (text or "").strip().lower()
        return next((r for r in rules if needle and needle in r._keyword_set()), self.browse())

    def _reply_for(self, member):
        """The passive reply dict for ``member``."""
        self.ensure_one()
        partner = member.partner_id.with_context(lang=member.partner_id.lang or self.env.lang)
        if self.reply_type == "text":
            text = self.reply_text
        elif self.reply_type == "member_page":
            text = _("Your member page: %(url)s", url=member.account_id._member_page_url())
        else:
            text = getattr(partner, f"_wechat_{self.reply_type}_text")()
        return {"type": "text", "content": text}
