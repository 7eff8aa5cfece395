import logging
import threading
from datetime import datetime, time, timedelta

import psycopg2
import pytz
from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

_logger = logging.getLogger(__name__)

# The rules of a stamp card: a stamp per unit of the eligible products, or a stamp per visit (order) above an amount.
STAMP_RULE_MODES = ("unit", "order")

# Card ids per statement of the nightly expiry (a range of ids, not a count: one index range scan each).
EXPIRY_BATCH_SIZE = 50000
# Tries of a batch that a till spending the same card at that moment made fail (serialization error).
EXPIRY_ATTEMPTS = 3


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
    wechat_points_validity = fields.Integer(
        "Points Validity (months)",
        default=0,
        help="Points expire this many months after they were earned, the oldest first (first in, first out). "
        "0: points never expire.",
    )
    wechat_points_reminder_days = fields.Integer(
        "Expiry Reminder (days before)",
        default=30,
        help='Members are told this many days before their points expire (notice kind "Points expiring"). '
        "0: no reminder.",
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
        today = company._wechat_today()
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

    @api.constrains("wechat_points_validity", "wechat_points_reminder_days")
    def _check_wechat_points_validity(self):
        for program in self:
            if program.wechat_points_validity < 0 or program.wechat_points_reminder_days < 0:
                raise ValidationError(
                    _("The points validity and the expiry reminder of %(name)s cannot be negative.", name=program.name)
                )

    # ------------------------------------------------------------------ expiry dates (first in, first out)
    def _wechat_points_tz(self):
        self.ensure_one()
        return self.company_id._wechat_tz()

    def _wechat_points_local_today(self):
        self.ensure_one()
        return self.company_id._wechat_today()

    def _wechat_points_expiry_date(self, earned_on):
        """The last day the points earned on the (local) date ``earned_on`` can be spent: ``earned_on`` plus the
        validity (``2026-03-31`` + 12 months: ``2027-03-31``); the nightly job of the next day expires them."""
        self.ensure_one()
        return earned_on + relativedelta(months=self.wechat_points_validity)

    def _wechat_points_first_valid_date(self, day):
        """The first (local) date of earning whose points are still valid on ``day``: points earned before it
        have expired on ``day`` (their expiry date is before ``day``)."""
        self.ensure_one()
        first = day - relativedelta(months=self.wechat_points_validity)
        # Month ends: 31 March - 1 month = 28 February, whose points expire on 28 March.
        while self._wechat_points_expiry_date(first) < day:
            first += timedelta(days=1)
        return first

    def _wechat_points_cutoff(self, day):
        """``(first valid date, UTC datetime of its local midnight)``: history lines created before the latter
        issued points that have expired on ``day``."""
        first = self._wechat_points_first_valid_date(day)
        local = self._wechat_points_tz().localize(datetime.combine(first, time.min))
        return first, local.astimezone(pytz.utc).replace(tzinfo=None)

    def _wechat_expiry_description(self, first):
        """The description of an expiry line (in the context's language)."""
        return _("Points expired (earned before %(date)s)", date=fields.Date.to_string(first))

    def _wechat_expiring_programs(self):
        return self.sudo().search([("program_type", "=", "loyalty"), ("wechat_points_validity", ">", 0)])

    # ------------------------------------------------------------------ nightly expiry
    @api.model
    def _cron_wechat_expire_points(self, batch_size=EXPIRY_BATCH_SIZE):
        """Nightly (Beijing night): expire the points of every program with a validity; see
        ``_wechat_expire_points``.  Commits after each batch of cards (not in tests)."""
        return self._wechat_expiring_programs()._wechat_expire_points(batch_size=batch_size, commit=True)

    def _wechat_expire_points(self, batch_size=EXPIRY_BATCH_SIZE, commit=False):
        """Expire the points of the cards of these programs that are older than their validity (FIFO).

        Rule (first in, first out): every consumption, whatever it is (the
        ``used`` of an order's line, of a refund's ``refund`` line, of an
        earlier ``expiry`` line), consumes the oldest issued points first.
        So at a cutoff ``c`` (local midnight of the first date whose points
        are still valid, see ``_wechat_points_cutoff``), what is still
        unspent of the points issued before ``c`` is::

            expired_now = max(0, min(card.points, issued_before(c) - used_total))

        ``issued_before(c)``: the sum of ``issued`` of the card's history
        lines created before ``c``; ``used_total``: the sum of ``used`` of
        all its lines.  Example, validity 6 months: earn 100 in January,
        spend 30 in March, earn 50 in April.  In July, 100 - 30 = 70 expire
        (one ``expiry`` line, ``used = 70``, balance 50).  In October, the
        April points: 150 - (30 + 70) = 50 expire, balance 0.  A second run
        the same night finds ``issued_before - used_total <= 0``: nothing
        more (idempotent).

        Set-based: per batch of card ids, one statement computes the due
        points, lowers ``loyalty_card.points`` and inserts one
        ``loyalty.history`` line (``wechat_kind = 'expiry'``) per card.
        Concurrency: the statement runs at Odoo's REPEATABLE READ; a till
        that spends one of the batch's cards meanwhile makes it fail with a
        serialization error (never a wrong balance), and a till that comes
        after waits for the batch's row locks and then fails and is retried
        by Odoo on the new balance.  With ``commit`` (the cron), each batch
        is committed, its progress reported (``ir.cron._notify_progress``),
        and a batch that failed that way is tried again; a run stopped
        midway resumes by running again: the batches done find nothing.
        Returns ``{card_id: points expired}``.
        """
        programs = self.filtered(lambda p: p.program_type == "loyalty" and p.wechat_points_validity > 0)
        if not programs:
            return {}
        commit = commit and not getattr(threading.current_thread(), "testing", False)
        self.env.flush_all()
        # One cutoff and one description per program (validity and time zone differ).
        cutoffs, descriptions = [], []
        for program in programs:
            first, cutoff = program._wechat_points_cutoff(program._wechat_points_local_today())
            lang = program.company_id.partner_id.lang or self.env.lang or "en_US"
            cutoffs.append(cutoff)
            descriptions.append(program.with_context(lang=lang)._wechat_expiry_description(first))
        self.env.cr.execute(
            "SELECT MIN(id), MAX(id) FROM loyalty_card WHERE program_id = ANY(%s) AND points > 0", [programs.ids]
        )
        low, high = self.env.cr.fetchone()
        expired = {}
        if low is None:
            self.env["ir.cron"]._notify_progress(done=0, remaining=0)
            return expired
        starts = list(range(low, high + 1, batch_size))
        params = {
            "programs": programs.ids,
            "cutoffs": cutoffs,
            "descriptions": descriptions,
            "uid": self.env.uid,
            "now": fields.Datetime.now(),
        }
        for done, start in enumerate(starts, 1):
            expired.update(self._wechat_expire_batch(dict(params, low=start, high=start + batch_size), commit))
            self.env["ir.cron"]._notify_progress(done=done, remaining=len(starts) - done)
            if commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
        self.env["loyalty.card"].invalidate_model(["points"])
        self.env["loyalty.history"].invalidate_model()
        _logger.info("Points expiry: %s cards, %s points expired", len(expired), sum(expired.values()))
        return expired

    @api.model
    def _wechat_expire_batch(self, params, commit):
        """Expire the due points of the cards ``low <= id < high``: ``{card_id: points}``."""
        for attempt in range(1, EXPIRY_ATTEMPTS + 1):
            try:
                self.env.cr.execute(
                    """
                    WITH cutoff AS (
                        SELECT * FROM unnest(%(programs)s::int[], %(cutoffs)s::timestamp[], %(descriptions)s::text[])
                                   AS t(program_id, cutoff, description)
                    ), due AS (
                        SELECT c.id, t.description,
                               LEAST(c.points, COALESCE(SUM(h.issued) FILTER (WHERE h.create_date < t.cutoff), 0)
                                               - COALESCE(SUM(h.used), 0)) AS points
                          FROM loyalty_card c
                          JOIN cutoff t ON t.program_id = c.program_id
                          JOIN loyalty_history h ON h.card_id = c.id
                         WHERE c.id >= %(low)s AND c.id < %(high)s AND c.points > 0
                           AND h.card_id >= %(low)s AND h.card_id < %(high)s
                         GROUP BY c.id, c.points, t.description
                    ), card AS (
                        UPDATE loyalty_card c
                           SET points = c.points - due.points, write_uid = %(uid)s, write_date = %(now)s
                          FROM due
                         WHERE c.id = due.id AND due.points > 0 AND c.points >= due.points
                        RETURNING c.id, due.points, due.description
                    )
                    INSERT INTO loyalty_history (card_id, description, issued, used, wechat_kind,
                                                 create_uid, write_uid, create_date, write_date)
                    SELECT card.id, card.description, 0, card.points, 'expiry', %(uid)s, %(uid)s, %(now)s, %(now)s
                      FROM card
                    RETURNING card_id, used
                    """,
                    params,
                    log_exceptions=False,
                )
                return dict(self.env.cr.fetchall())
            except (psycopg2.errors.SerializationFailure, psycopg2.errors.DeadlockDetected):
                if not commit or attempt == EXPIRY_ATTEMPTS:
                    raise
                _logger.info("Points expiry: cards %s-%s spent meanwhile, tried again", params["low"], params["high"])
                self.env.cr.rollback()
        return {}

    # ------------------------------------------------------------------ reminders
    @api.model
    def _cron_wechat_points_expiring(self):
        """Daily: tell members of the points that expire within their program's reminder lead time."""
        count = 0
        for program in self._wechat_expiring_programs().filtered("wechat_points_reminder_days"):
            count += len(program._wechat_notify_points_expiring())
        return count

    def _wechat_points_expiring_rows(self):
        """``[(card_id, partner_id, expiry_date, points, balance)]``: the next expiry of each card of this program
        within the reminder lead time (the first expiry date from today with points left to expire)."""
        self.ensure_one()
        today = self._wechat_points_local_today()
        __, start = self._wechat_points_cutoff(today)
        __, end = self._wechat_points_cutoff(today + timedelta(days=self.wechat_points_reminder_days + 1))
        self.env.flush_all()
        self.env.cr.execute(
            """
            WITH cards AS (
                SELECT c.id, c.partner_id, c.points FROM loyalty_card c
                 WHERE c.program_id = %(program)s AND c.points > 0 AND c.partner_id IS NOT NULL
                   AND EXISTS (SELECT 1 FROM loyalty_history h
                                WHERE h.card_id = c.id AND h.issued > 0
                                  AND h.create_date >= %(start)s AND h.create_date < %(end)s)
            ), totals AS (
                SELECT h.card_id, COALESCE(SUM(h.issued) FILTER (WHERE h.create_date < %(start)s), 0)
                                  - COALESCE(SUM(h.used), 0) AS before
                  FROM loyalty_history h JOIN cards ON cards.id = h.card_id
                 GROUP BY h.card_id
            ), daily AS (
                SELECT h.card_id, (h.create_date AT TIME ZONE 'UTC' AT TIME ZONE %(tz)s)::date AS day,
                       SUM(h.issued) AS issued
                  FROM loyalty_history h JOIN cards ON cards.id = h.card_id
                 WHERE h.issued > 0 AND h.create_date >= %(start)s AND h.create_date < %(end)s
                 GROUP BY 1, 2
            ), due AS (
                SELECT daily.card_id, daily.day,
                       t.before + SUM(daily.issued) OVER (PARTITION BY daily.card_id ORDER BY daily.day) AS points
                  FROM daily JOIN totals t ON t.card_id = daily.card_id
            )
            SELECT DISTINCT ON (due.card_id) due.card_id, cards.partner_id, due.day, LEAST(due.points, cards.points),
                   cards.points
              FROM due JOIN cards ON cards.id = due.card_id
             WHERE due.points > 0
             ORDER BY due.card_id, due.day
            """,
            {"program": self.id, "start": start, "end": end, "tz": self._wechat_points_tz().zone},
        )
        return [
            (card_id, partner_id, self._wechat_points_expiry_date(day), points, balance)
            for card_id, partner_id, day, points, balance in self.env.cr.fetchall()
        ]

    def _wechat_notify_points_expiring(self):
        """A ``points_expiring`` notice per card with points expiring soon, to its holder's member on each
        WeChat account of the program's company; once per card and expiry date (the notice key)."""
        self.ensure_one()
        rows = self._wechat_points_expiring_rows()
        if not rows:
            return self.env["wechat.notice"]
        accounts = self.env["wechat.account"].sudo().search([("company_id", "in", self.company_id.ids or [])])
        if not self.company_id:
            accounts = self.env["wechat.account"].sudo().search([])
        by_partner = {}
        for row in rows:
            by_partner.setdefault(row[1], row)  # a contact's first card of the program
        notices = self.env["wechat.notice"]
        Campaign = self.env["wechat.coupon.campaign"].sudo()
        for account in accounts:
            members = self.env["wechat.member"].sudo().browse(Campaign._holder_member_ids(account, list(by_partner)))
            values, keys = {}, {}
            for member in members:
                card_id, __, expiry_date, points, balance = by_partner[member.partner_id.id]
                date = fields.Date.to_string(expiry_date)
                values[member.id] = {
                    "card_id": card_id,
                    "program": self.name,
                    "points": points,
                    "expiry_date": date,
                    "balance": balance,
                }
                keys[member.id] = f"points-expiring-{card_id}-{date}"
            notices |= (
                self.env["wechat.notice"].sudo()._notify("points_expiring", members, values, key=keys, account=account)
            )
        return notices

    # ------------------------------------------------------------------ demo
    @api.model
    def _demo_points_expiry(self):
        """Demo (``demo/wechat_points_expiry_demo.xml``): Lotus points expire after 12 months (reminder 30 days
        before), and three demo members have points earned 11 months ago that expire within a few weeks."""
        # Lotus points come with wechat_referral's demo, loaded after this module's: it calls this again.
        program = self.env.ref("wechat_referral.demo_points_program", raise_if_not_found=False)
        company = self.env.ref("wechat_member.demo_company", raise_if_not_found=False)
        if not program and company:
            program = self.search(
                [("program_type", "=", "loyalty"), ("company_id", "=", company.id), ("wechat_stamp_card", "=", False)],
                limit=1,
            )
        if not program or program.wechat_points_validity:
            return True  # none yet (wechat_referral's demo calls this again), or done already
        program.write({"wechat_points_validity": 12, "wechat_points_reminder_days": 30})
        members = self.env["wechat.member"].search([("openid", "=like", "oDEMO%")], order="openid", limit=3)
        Card = self.env["loyalty.card"]
        History = self.env["loyalty.history"]
        today = program._wechat_points_local_today()
        for index, member in enumerate(members):
            card = Card.search([("program_id", "=", program.id), ("partner_id", "=", member.partner_id.id)], limit=1)
            card = card or Card.create({"program_id": program.id, "partner_id": member.partner_id.id, "points": 0})
            for earned_on, points in (
                (today - relativedelta(months=12) + timedelta(days=10 + 7 * index), 120 + 40 * index),
                (today - relativedelta(months=5), 80),
            ):
                line = History.create(
                    {"card_id": card.id, "description": _("Demo purchase"), "issued": points, "used": 0}
                )
                when = datetime.combine(earned_on, time(12)) - timedelta(hours=8)  # noon in Beijing, in UTC
                self.env.flush_all()
                self.env.cr.execute("UPDATE loyalty_history SET create_date = %s WHERE id = %s", [when, line.id])
                card.points += points
        History.invalidate_model(["create_date"])
        return True
