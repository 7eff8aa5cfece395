from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

# The rules of a stamp card: a stamp per unit of the eligible products, or a stamp per visit (order) above an amount.
STAMP_RULE_MODES = ("unit", "order")


class LoyaltyProgram(models.Model):
    _inherit = "loyalty.program"

    wechat_stamp_card = fields.Boolean(
        "Stamp Card",
        help="A loyalty program shown to members as a stamp card (集点卡): each point is a stamp, the reward's "
        "required points are the stamps of a full card.",
    )
    wechat_stamp_count = fields.Integer(
        "Stamps per Card",
        compute="_compute_wechat_stamp_count",
        help="The stamps of a full card: the points its reward requires.",
    )
    wechat_welcome_stamps = fields.Integer(
        "Welcome Stamps",
        help="The stamps on a card started from a QR channel (the member follows or scans the channel's QR code).",
    )

    @api.depends("reward_ids.required_points")
    def _compute_wechat_stamp_count(self):
        for program in self:
            program.wechat_stamp_count = int(program.reward_ids[:1].required_points) if program.reward_ids else 0

    @api.constrains(
        "wechat_stamp_card", "program_type", "applies_on", "reward_ids", "rule_ids", "wechat_welcome_stamps"
    )
    def _check_wechat_stamp_card(self):
        for program in self.filtered("wechat_stamp_card"):
            if program.program_type != "loyalty":
                raise ValidationError(
                    _("The stamp card %(program)s must be a loyalty card program.", program=program.name)
                )
            if not program.is_nominative:
                raise ValidationError(
                    _(
                        "The stamp card %(program)s must keep its stamps per customer across orders: "
                        "use its points on current and future orders.",
                        program=program.name,
                    )
                )
            if len(program.reward_ids) != 1:
                raise ValidationError(
                    _(
                        "The stamp card %(program)s needs exactly one reward, the gift of a full card "
                        "(it has %(count)s).",
                        program=program.name,
                        count=len(program.reward_ids),
                    )
                )
            if program.reward_ids.required_points < 2:
                raise ValidationError(
                    _(
                        "The reward of the stamp card %(program)s must require at least 2 stamps (points).",
                        program=program.name,
                    )
                )
            rules = program.rule_ids
            if not rules or any(rule.reward_point_mode not in STAMP_RULE_MODES for rule in rules):
                raise ValidationError(
                    _(
                        "The stamp card %(program)s earns stamps per unit paid or per order: "
                        "set each of its rules to one of these.",
                        program=program.name,
                    )
                )
            if not 0 <= program.wechat_welcome_stamps < program.reward_ids.required_points:
                raise ValidationError(
                    _(
                        "The welcome stamps of %(program)s must be fewer than the stamps of a full card.",
                        program=program.name,
                    )
                )

    def _load_pos_data_fields(self, config_id):
        return super()._load_pos_data_fields(config_id) + ["wechat_stamp_card"]

    # ------------------------------------------------------------------ template chooser
    @api.model
    def get_program_templates(self):
        templates = super().get_program_templates()
        if self.env.context.get("menu_type") != "gift_ewallet":
            templates["wechat_stamp_card"] = {
                "title": _("Stamp Card"),
                "description": _("One stamp per visit of 100 or more, the 10th stamp gives a gift"),
                "icon": "fidelity_cards",
            }
        return templates

    @api.model
    def _get_template_values(self):
        values = super()._get_template_values()
        product = self.env["product.product"].search(
            [("company_id", "in", [False, self.env.company.id]), ("sale_ok", "=", True)], limit=1
        )
        values["wechat_stamp_card"] = {
            "name": _("Stamp Card"),
            "program_type": "loyalty",
            "applies_on": "both",
            "trigger": "auto",
            "wechat_stamp_card": True,
            "portal_visible": True,
            "portal_point_name": _("Stamps"),
            "rule_ids": [
                (0, 0, {"reward_point_mode": "order", "reward_point_amount": 1, "minimum_amount": 100}),
            ],
            "reward_ids": [
                (0, 0, {"reward_type": "product", "reward_product_id": product.id, "required_points": 10}),
            ],
        }
        return values

    # ------------------------------------------------------------------ the member's cards
    @api.model
    def _wechat_stamp_programs(self, company):
        """The running stamp card programs of ``company`` (and those of no company)."""
        today = fields.Date.context_today(self)
        return (
            self.sudo()
            .search(
                [
                    ("wechat_stamp_card", "=", True),
                    ("program_type", "=", "loyalty"),
                    ("company_id", "in", [False, company.id]),
                ]
            )
            .filtered(lambda p: (not p.date_from or p.date_from <= today) and (not p.date_to or p.date_to >= today))
        )

    def _wechat_stamp_values(self, card):
        """What a stamp card shows: ``card`` of this program (or none yet) as filled and empty stamps, and what is
        left to the reward (in the language of the environment)."""
        self.ensure_one()
        total = max(self.wechat_stamp_count, 1)
        stamps = int(card.points) if card else 0
        filled = min(stamps, total)
        reward = self.reward_ids[:1].description or ""
        remaining = max(total - stamps, 0)
        if not card:
            message = _("Your next purchase starts your card.")
        elif not remaining:
            message = _("Your card is full: ask for %(reward)s at the till.", reward=reward)
        else:
            message = _("%(count)s more stamps to get: %(reward)s", count=remaining, reward=reward)
        return {
            "program": self,
            "card": card,
            "name": self.name,
            "stamps": stamps,
            "total": total,
            "filled": filled,
            "empty": total - filled,
            "remaining": remaining,
            "full": not remaining,
            "reward": reward,
            "message": message,
        }

    def _wechat_start_stamp_card(self, partner, channel):
        """The card of ``partner`` in this stamp program, started with its welcome stamps (a ``loyalty.history``
        line) unless they have one: once per customer, whatever the concurrency."""
        self.ensure_one()
        Card = self.env["loyalty.card"].sudo()
        if not partner:
            return Card
        # One start at a time per (program, customer): two scans at once make one card.
        self.env.cr.execute("SELECT pg_advisory_xact_lock(%s, %s)", [self.id, partner.id])
        card = Card.with_context(active_test=False).search(
            [("program_id", "=", self.id), ("partner_id", "=", partner.id)], limit=1
        )
        if card:
            return Card
        stamps = self.wechat_welcome_stamps
        card = Card.with_context(action_no_send_mail=True).create(
            {"program_id": self.id, "partner_id": partner.id, "points": stamps}
        )
        if stamps:
            self.env["loyalty.history"].sudo().create(
                {
                    "card_id": card.id,
                    "description": _("Welcome stamps (QR code %(channel)s)", channel=channel.name),
                    "issued": stamps,
                    "used": 0,
                }
            )
        return card

    # ------------------------------------------------------------------ demo
    def _demo_stamp_cards(self, stamps):
        """Demo (``demo/wechat_stamp_demo.xml``): cards of the demo members (the first ones of the demo account)
        with ``stamps`` stamps each, a ``loyalty.history`` line per card."""
        self.ensure_one()
        members = self.env["wechat.member"].search([("openid", "=like", "oDEMO%")], order="openid", limit=len(stamps))
        Card = self.env["loyalty.card"].with_context(action_no_send_mail=True)
        for member, count in zip(members, stamps, strict=False):
            if Card.search_count([("program_id", "=", self.id), ("partner_id", "=", member.partner_id.id)]):
                continue
            card = Card.create({"program_id": self.id, "partner_id": member.partner_id.id, "points": count})
            self.env["loyalty.history"].create(
                {"card_id": card.id, "description": _("Stamps of past visits"), "issued": count, "used": 0}
            )
        return True
