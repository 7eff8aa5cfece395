from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from .loyalty_card import COUPON_PROGRAM_TYPES

# The notice kind of each automation: birthday and win-back are marketing, an expiry reminder is transactional.
NOTICE_KINDS = {"birthday": "birthday", "winback": "winback", "expiry": "coupon_expiring"}

AUTOMATION_TYPES = [
    ("birthday", "Birthday Coupon"),
    ("winback", "Win-back Coupon"),
    ("expiry", "Expiry Reminder"),
]


class WeChatCouponAutomation(models.Model):
    """Coupons and reminders sent on an occasion, once per occasion.

    Each run inserts its occasions into ``wechat.coupon.automation.log``
    with ``ON CONFLICT DO NOTHING``: only the rows really inserted get a
    coupon or a reminder, so a second run the same day (or a concurrent
    one) does nothing.
    """

    _name = "wechat.coupon.automation"
    _description = "WeChat Coupon Automation"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    automation_type = fields.Selection(AUTOMATION_TYPES, string="Type", required=True, default="birthday")
    account_id = fields.Many2one("wechat.account", string="WeChat Account", required=True, check_company=True)
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    program_id = fields.Many2one(
        "loyalty.program",
        string="Coupon Program",
        check_company=True,
        domain="[('program_type', 'in', ('coupons', 'promo_code'))]",
    )
    days = fields.Integer(
        default=7,
        help="Birthday: days before the birthday. Expiry reminder: days before the coupon expires. "
        "Win-back: not used.",
    )
    level_program_ids = fields.One2many(
        "wechat.coupon.automation.level",
        "automation_id",
        string="Program per Level",
        help="Birthday: the coupon program of the members of each level; the others get the automation's program.",
    )
    validity_days = fields.Integer("Coupon Validity (days)", default=30)
    points = fields.Float("Coupon Points", default=1.0)
    message = fields.Text(
        translate=True,
        help="Customer-service text; {program}, {date}, {code} and {url} are replaced. Empty: a default text.",
    )
    log_ids = fields.One2many("wechat.coupon.automation.log", "automation_id", readonly=True)
    log_count = fields.Integer("Occasions", compute="_compute_log_count")
    last_run = fields.Datetime(readonly=True)
    # Reach of the next run (not stored: the quotas and opt-ins change by the minute).
    reach_summary = fields.Char(
        "Reach of the Next Run",
        compute="_compute_reach",
        help="The members the next run would give a coupon or a reminder (today's occasions not handled yet: "
        "birthdays in the set number of days, dormant members, coupons expiring in the set number of days), "
        'and how many of them each channel of this automation\'s notice reaches now; "not reachable": no '
        "channel WeChat allows reaches them (they find the coupon in their wallet).",
    )
    reach_count = fields.Integer("Reachable Members", compute="_compute_reach")
    unreachable_count = fields.Integer("Unreachable Members", compute="_compute_reach")

    @api.constrains("automation_type", "program_id", "days", "validity_days")
    def _check_config(self):
        for automation in self:
            if automation.automation_type != "expiry":
                if not automation.program_id:
                    raise ValidationError(_("Choose the coupon program of %(name)s.", name=automation.name))
                if automation.program_id.program_type not in COUPON_PROGRAM_TYPES:
                    raise ValidationError(_("Choose a coupon or discount code program."))
            if automation.days < 0 or automation.validity_days <= 0:
                raise ValidationError(_("The days must be positive."))

    def _compute_log_count(self):
        counts = dict(
            self.env["wechat.coupon.automation.log"]._read_group(
                [("automation_id", "in", self.ids)], ["automation_id"], ["__count"]
            )
        )
        for automation in self:
            automation.log_count = counts.get(automation, 0)

    # ------------------------------------------------------------------ crons (one method each)
    @api.model
    def _cron_birthday(self):
        for automation in self.search([("automation_type", "=", "birthday")]):
            automation._run()

    @api.model
    def _cron_winback(self):
        for automation in self.search([("automation_type", "=", "winback")]):
            automation._run()

    @api.model
    def _cron_expiry_reminder(self):
        for automation in self.search([("automation_type", "=", "expiry")]):
            automation._run()

    def action_run(self):
        for automation in self:
            automation._run()
        return True

    def _run(self):
        """Handle today's occasions; returns the number of new occasions."""
        self.ensure_one()
        count = getattr(self, f"_run_{self.automation_type}")()
        self.last_run = fields.Datetime.now()
        return count

    # ------------------------------------------------------------------ occasions
    def _members_domain(self):
        return [("account_id", "=", self.account_id.id)]

    def _claim_occasions(self, pairs):
        """Insert ``(partner_id, occasion, card_id)`` logs; returns those that were new."""
        if not pairs:
            return []
        self.env.flush_all()
        now = fields.Datetime.now()
        self.env.cr.execute(
            """
            INSERT INTO wechat_coupon_automation_log (automation_id, company_id, partner_id, occasion, card_id,
                                                      date, create_uid, write_uid, create_date, write_date)
            SELECT %s, %s, t.partner_id, t.occasion, t.card_id, %s, %s, %s, %s, %s
              FROM unnest(%s::int[], %s::varchar[], %s::int[]) AS t(partner_id, occasion, card_id)
            ON CONFLICT (automation_id, partner_id, occasion) DO NOTHING
            RETURNING partner_id, occasion, card_id
            """,
            [
                self.id,
                self.company_id.id,
                now,
                self.env.uid,
                self.env.uid,
                now,
                now,
                [p[0] for p in pairs],
                [p[1] for p in pairs],
                [p[2] for p in pairs],
            ],
        )
        rows = self.env.cr.fetchall()
        self.env["wechat.coupon.automation.log"].invalidate_model()
        return rows

    def _issue(self, partner_occasions):
        """Issue a coupon for each new ``(partner_id, occasion)``; returns the new cards."""
        new = self._claim_occasions([(p, o, None) for p, o in partner_occasions])
        if not new:
            return self.env["loyalty.card"]
        today = self.company_id._wechat_today()
        cards = self.env["loyalty.card"]
        for program, partner_ids in self._programs_by_level([p for p, __, __ in new]).items():
            cards |= self.env["loyalty.card"]._wechat_bulk_create(
                program,
                [(partner_id, 1) for partner_id in partner_ids],
                points=self.points or 1.0,
                expiration_date=today + timedelta(days=self.validity_days),
                description=self.name,
                origin="automation",
                automation=self,
            )
        by_partner = {card.partner_id.id: card for card in cards}
        self.env.cr.execute(
            """
            UPDATE wechat_coupon_automation_log l SET card_id = t.card_id
              FROM unnest(%s::int[], %s::varchar[], %s::int[]) AS t(partner_id, occasion, card_id)
             WHERE l.automation_id = %s AND l.partner_id = t.partner_id AND l.occasion = t.occasion
            """,
            [[p for p, __, __ in new], [o for __, o, __ in new], [by_partner[p].id for p, __, __ in new], self.id],
        )
        self._notify(cards)
        return cards

    def _programs_by_level(self, partner_ids):
        """``{program: [partner_id]}``: the program of each contact's level at the company (birthday lines),
        else the automation's program."""
        self.ensure_one()
        lines = self.level_program_ids.filtered("program_id") if self.automation_type == "birthday" else []
        if not lines:
            return {self.program_id: list(partner_ids)}
        rows = (
            self.env["wechat.member.level.member"]
            .sudo()
            .search([("partner_id", "in", list(partner_ids)), ("company_id", "=", self.company_id.id)])
        )
        level_of = {row.partner_id.id: row.level_id for row in rows}
        program_of = {line.level_id: line.program_id for line in lines}
        result = {}
        for partner_id in partner_ids:
            program = program_of.get(level_of.get(partner_id)) or self.program_id
            result.setdefault(program, []).append(partner_id)
        return result

    def _default_text(self, card):
        wallet = self.account_id._wechat_coupon_wallet_url()
        if self.automation_type == "birthday":
            return _(
                "Happy birthday! A gift for you: %(program)s, valid until %(date)s. Your wallet: %(url)s",
                program=card.program_id.name,
                date=card.expiration_date,
                url=wallet,
            )
        if self.automation_type == "winback":
            return _(
                "We miss you! A coupon for your next visit: %(program)s, valid until %(date)s. Your wallet: %(url)s",
                program=card.program_id.name,
                date=card.expiration_date,
                url=wallet,
            )
        return _(
            "Reminder: your coupon %(program)s expires on %(date)s. Your wallet: %(url)s",
            program=card.program_id.name,
            date=card.expiration_date,
            url=wallet,
        )

    def _text(self, card):
        automation = self.with_context(lang=card.partner_id.lang or self.env.lang)
        if automation.message:
            return (
                automation.message.replace("{program}", card.program_id.name or "")
                .replace("{date}", fields.Date.to_string(card.expiration_date) if card.expiration_date else "-")
                .replace("{code}", card.code)
                .replace("{url}", self.account_id._wechat_coupon_wallet_url())
            )
        return automation._default_text(card)

    def _notify(self, cards):
        """A notice of this automation's kind per card's holder (birthday and win-back are marketing)."""
        notices = self.env["wechat.coupon.campaign"]._notify_cards(
            self.account_id, NOTICE_KINDS[self.automation_type], cards, extra={"automation_id": self.id}
        )
        return len(notices.filtered(lambda n: n.state != "none"))

    def _run_birthday(self):
        return len(self._issue(self._birthday_occasions()))

    def _birthday_occasions(self):
        """``(partner_id, occasion)`` of the members whose birthday is the run's target day (today + days)."""
        today = self.company_id._wechat_today()
        target = today + timedelta(days=self.days)
        days = [(target.month, target.day)]
        # Born on 29 February: celebrated on 28 February in other years.
        if target.month == 2 and target.day == 28 and not _is_leap(target.year):
            days.append((2, 29))
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT DISTINCT p.id FROM wechat_member m JOIN res_partner p ON p.id = m.partner_id
             WHERE m.account_id = %s AND p.active AND p.wechat_birthday IS NOT NULL
               AND (EXTRACT(MONTH FROM p.wechat_birthday)::int, EXTRACT(DAY FROM p.wechat_birthday)::int)
                   IN %s
            """,
            [self.account_id.id, tuple(days)],
        )
        return [(row[0], f"birthday:{target.year}") for row in self.env.cr.fetchall()]

    def _run_winback(self):
        return len(self._issue(self._winback_occasions()))

    def _winback_occasions(self):
        """``(partner_id, occasion)`` of the dormant members, sorted; read in SQL (there can be 100 000s)."""
        query = (
            self.env["wechat.member"]
            .sudo()
            ._search(self._members_domain() + [("partner_id.wechat_activity_state", "=", "dormant")])
        )
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT p.id, p.wechat_last_purchase FROM res_partner p WHERE p.id IN %s ORDER BY p.id",
                query.subselect(SQL.identifier(query.table, "partner_id")),
            )
        )
        # One win-back per dormancy: a new purchase starts a new occasion.
        return [
            (partner_id, f"dormant:{fields.Date.to_string(last.date()) if last else '-'}")
            for partner_id, last in self.env.cr.fetchall()
        ]

    def _expiring_cards(self):
        """The coupons of the account's members that expire on the run's target day (today + days)."""
        today = self.company_id._wechat_today()
        target = today + timedelta(days=self.days)
        # The members' contacts as a subquery: no read of 100 000s of members.
        members = self.env["wechat.member"].sudo()._search(self._members_domain())
        return (
            self.env["loyalty.card"]
            .sudo()
            .search(
                [
                    ("partner_id", "in", members.subselect(SQL.identifier(members.table, "partner_id"))),
                    ("wechat_origin", "!=", False),
                    ("program_id.program_type", "in", COUPON_PROGRAM_TYPES),
                    ("company_id", "in", [False, self.company_id.id]),
                    ("expiration_date", "=", target),
                    ("points", ">", 0),
                    ("wechat_redeem_order_id", "=", False),
                ]
            )
        )

    def _run_expiry(self):
        cards = self._expiring_cards()
        new = self._claim_occasions([(c.partner_id.id, f"card:{c.id}", c.id) for c in cards])
        if not new:
            return 0
        new_cards = self.env["loyalty.card"].sudo().browse([card_id for __, __, card_id in new])
        # One reminder per card: a member with two expiring coupons gets two notices.
        for card in new_cards:
            self._notify(card)
        return len(new)

    # ------------------------------------------------------------------ reach (before the next run)
    def _next_partner_ids(self):
        """The contacts the next run would give a coupon or a reminder: its occasions not handled yet."""
        self.ensure_one()
        if self.automation_type == "expiry":
            self.env.flush_all()
            self.env.cr.execute(
                "SELECT partner_id, id FROM loyalty_card WHERE id = ANY(%s)", [self._expiring_cards().ids]
            )
            pairs = [(partner_id, f"card:{card_id}") for partner_id, card_id in self.env.cr.fetchall()]
        elif self.automation_type == "birthday":
            pairs = self._birthday_occasions()
        else:
            pairs = self._winback_occasions()
        if not pairs:
            return []
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT DISTINCT t.partner_id FROM unnest(%s::int[], %s::varchar[]) AS t(partner_id, occasion)
             WHERE NOT EXISTS (SELECT 1 FROM wechat_coupon_automation_log l
                                WHERE l.automation_id = %s AND l.partner_id = t.partner_id
                                  AND l.occasion = t.occasion)
             ORDER BY 1
            """,
            [[p for p, __ in pairs], [o for __, o in pairs], self._origin.id or 0],
        )
        return [row[0] for row in self.env.cr.fetchall()]

    @api.depends("automation_type", "account_id", "days", "active")
    def _compute_reach(self):
        Notice = self.env["wechat.notice"].sudo()
        Member = self.env["wechat.member"].sudo()
        Campaign = self.env["wechat.coupon.campaign"].sudo()
        for automation in self:
            kind = NOTICE_KINDS[automation.automation_type or "birthday"]
            counts = {}
            if automation.account_id and automation.automation_type:
                member_ids = Campaign._holder_member_ids(automation.account_id, automation._next_partner_ids())
                counts = Notice._reachability(kind, Member.browse(member_ids))
            automation.reach_count = sum(count for channel, count in counts.items() if channel != "none")
            automation.unreachable_count = counts.get("none", 0)
            automation.reach_summary = Notice._reachability_text(kind, None, counts=counts)


def _is_leap(year):
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
