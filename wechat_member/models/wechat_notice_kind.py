from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

# The channels a notice can take, in WeChat's terms (../shared/DESIGN.md §3, rules since June 2023).
CHANNELS = [
    ("reply", "Passive reply"),
    ("cs", "Customer-service message"),
    ("template", "Template message"),
    ("subscribe", "Subscribe notice"),
    ("digest", "Daily digest (mass send)"),
]
# Template messages carry no marketing; the daily digest (a mass send) is the marketing channel.
CATEGORY_CHANNELS = {
    "transactional": {"reply", "cs", "template", "subscribe"},
    "marketing": {"reply", "cs", "subscribe", "digest"},
}


class WeChatNoticeKind(models.Model):
    """A kind of notice (POS thanks, points change, coupon expiring, birthday…) and its channel order.

    Kinds are data of the modules (``code`` is what the code routes by); the
    manager sets, per kind, the order in which the channels are tried.  A
    channel is tried only where WeChat allows it: the router checks the
    real quota, mapping and opt-in of each member.
    """

    _name = "wechat.notice.kind"
    _description = "WeChat Notice Kind"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True, readonly=True, index=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    category = fields.Selection(
        [("transactional", "Transactional"), ("marketing", "Marketing")],
        required=True,
        help="Transactional notices (a payment, points, a coupon about to expire) may go by template message; "
        "marketing notices (birthday, win-back, offers) go by subscribe notice or in the daily digest, never "
        "by template: WeChat forbids marketing in template messages.",
    )
    description = fields.Text(translate=True)
    uses_budget = fields.Boolean(
        "Counts in the Contact Budget",
        compute="_compute_uses_budget",
        store=True,
        readonly=False,
        help="Notices of this kind are sent only within the account's weekly contact budget, and count in it "
        "(marketing notices, and messages written by a manager).",
    )
    no_cs = fields.Boolean(
        "Never by Customer Service",
        readonly=True,
        help="WeChat opens no customer-service window for this moment (e.g. a WeChat Pay payment).",
    )
    value_keys = fields.Char(
        readonly=True, help="Comma-separated values the notice carries (amount, points, store…), for template mappings."
    )
    channel_ids = fields.One2many("wechat.notice.kind.channel", "kind_id", string="Channels", copy=True)
    channel_order = fields.Char(compute="_compute_channel_order", string="Channel Order")

    _sql_constraints = [("code_uniq", "UNIQUE(code)", "A notice kind code is unique.")]

    @api.depends("category")
    def _compute_uses_budget(self):
        for kind in self:
            kind.uses_budget = kind.category == "marketing"

    @api.depends("channel_ids.channel", "channel_ids.sequence")
    def _compute_channel_order(self):
        labels = dict(self.env["wechat.notice.kind.channel"]._fields["channel"]._description_selection(self.env))
        for kind in self:
            kind.channel_order = " → ".join(labels[c] for c in kind._channels()) or _("None")

    def _channels(self):
        """The channels of this kind, in order, that its category allows."""
        self.ensure_one()
        allowed = CATEGORY_CHANNELS[self.category] - ({"cs"} if self.no_cs else set())
        return [line.channel for line in self.channel_ids.sorted("sequence") if line.channel in allowed]

    def _value_keys(self):
        self.ensure_one()
        return [k.strip() for k in (self.value_keys or "").split(",") if k.strip()]

    @api.model
    def _get(self, code):
        kind = self.sudo().with_context(active_test=False).search([("code", "=", code)], limit=1)
        if not kind:
            raise ValidationError(_("Unknown notice kind %(code)s.", code=code))
        return kind
