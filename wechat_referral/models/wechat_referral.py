import logging
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from odoo.addons.wechat_member.const import PAID_STATES
from odoo.addons.wechat_member.tools.phone import normalize_phone

_logger = logging.getLogger(__name__)

STATES = [
    ("pending", "Pending"),
    ("review", "To Review"),
    ("qualified", "Qualified"),
    ("rewarded", "Rewarded"),
    ("reversed", "Reversed"),
    ("rejected", "Rejected"),
]
REJECT_REASONS = [
    ("self", "Self-referral"),
    ("loop", "Referral loop"),
    ("existing", "Existing or former member"),
    ("already_referred", "Already referred"),
    ("weekly_cap", "Weekly cap reached"),
    ("manual", "Rejected by a manager"),
    ("refunded", "Qualifying purchase refunded"),
    ("expired", "No qualifying purchase in time"),
]
# States of a referral that still counts (cap, loop, funnel, leaderboard).
LIVE_STATES = ("pending", "review", "qualified", "rewarded", "reversed")
# Notices sent after the commit: the referrer's points (template notice), the friend's perk (service text).
NOTICE_EVENTS = ("reward", "clawback", "welcome")


class WeChatReferral(models.Model):
    """A friend (referee) attributed to a member (referrer), once per pair.

    State machine: pending (attributed, waiting for the friend's first
    purchase) → qualified → rewarded (points credited) → reversed (the
    purchase was refunded within the window, points clawed back); or
    review (waiting for a manager) and rejected (with a reason).  Every
    transition runs under a row lock on the referral, so an order synced
    twice, or processed twice, never pays twice.
    """

    _name = "wechat.referral"
    _description = "WeChat Referral"
    _order = "date desc, id desc"
    _rec_name = "referee_member_id"
    _check_company_auto = True

    program_id = fields.Many2one(
        "wechat.referral.program", required=True, ondelete="restrict", index=True, readonly=True, check_company=True
    )
    account_id = fields.Many2one("wechat.account", required=True, ondelete="cascade", index=True, readonly=True)
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    referrer_member_id = fields.Many2one(
        "wechat.member", string="Referrer", required=True, ondelete="restrict", index=True, readonly=True
    )
    referee_member_id = fields.Many2one(
        "wechat.member", string="Friend", required=True, ondelete="restrict", index=True, readonly=True
    )
    referrer_partner_id = fields.Many2one(
        related="referrer_member_id.partner_id", string="Referrer Contact", store=True, index=True
    )
    referee_partner_id = fields.Many2one(
        related="referee_member_id.partner_id", string="Friend Contact", store=True, index=True
    )
    channel_id = fields.Many2one("wechat.qr.channel", string="Referral QR", readonly=True, ondelete="set null")
    store_id = fields.Many2one(related="referrer_member_id.store_id", string="Referrer's Store", store=True)
    source = fields.Selection([("qr", "QR code"), ("link", "Share link")], default="qr", readonly=True)
    date = fields.Datetime("Attributed On", required=True, default=fields.Datetime.now, readonly=True, index=True)
    deadline = fields.Datetime(
        "Qualify Before",
        compute="_compute_deadline",
        store=True,
        help="The friend's qualifying purchase, and a refund clawing the points back, fall before this date.",
    )
    state = fields.Selection(STATES, default="pending", required=True, readonly=True, index=True)
    reject_reason = fields.Selection(REJECT_REASONS, readonly=True)
    note = fields.Char(readonly=True)
    order_id = fields.Many2one("pos.order", string="Qualifying Order", readonly=True, ondelete="set null")
    refund_order_id = fields.Many2one("pos.order", string="Refund", readonly=True, ondelete="set null")
    qualified_date = fields.Datetime(readonly=True)
    rewarded_date = fields.Datetime(readonly=True)
    reversed_date = fields.Datetime(readonly=True)
    reviewed_by_id = fields.Many2one("res.users", string="Reviewed By", readonly=True)
    points = fields.Float("Points Credited", readonly=True, help="Points credited to the referrer.")
    points_net = fields.Float(
        "Net Points", compute="_compute_points_net", store=True, help="Points the referrer keeps from this friend."
    )
    card_id = fields.Many2one("loyalty.card", string="Referrer's Card", readonly=True, ondelete="set null")
    history_id = fields.Many2one("loyalty.history", string="Credit", readonly=True, ondelete="set null")
    reversal_history_id = fields.Many2one("loyalty.history", string="Clawback", readonly=True, ondelete="set null")
    card_points = fields.Float(related="card_id.points", string="Referrer's Balance")
    welcome_card_id = fields.Many2one("loyalty.card", string="Welcome Coupon", readonly=True, ondelete="set null")

    _sql_constraints = [
        (
            "pair_uniq",
            "UNIQUE(referrer_member_id, referee_member_id)",
            "This friend is already attributed to this referrer.",
        ),
    ]

    def init(self):
        # One live referral per friend, whoever the referrer: a friend pays once.
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS wechat_referral_live_referee_uniq
                ON wechat_referral (referee_member_id) WHERE state != 'rejected'
            """
        )

    @api.depends("date", "program_id")
    def _compute_deadline(self):
        # Frozen at attribution: a later change of the program's window applies to new friends only.
        for referral in self:
            days = referral.program_id.qualification_days
            referral.deadline = referral.date + timedelta(days=days) if referral.date and days else False

    @api.depends("state", "points")
    def _compute_points_net(self):
        for referral in self:
            referral.points_net = referral.points if referral.state == "rewarded" else 0.0

    @api.depends("referrer_member_id", "referee_member_id")
    def _compute_display_name(self):
        for referral in self:
            referral.display_name = _(
                "%(referrer)s → %(friend)s",
                referrer=referral.referrer_member_id.display_name or "?",
                friend=referral.referee_member_id.display_name or "?",
            )

    # ------------------------------------------------------------------ attribution
    @api.model
    def _attribute(self, referrer, referee, new_member, channel=None, source="qr"):
        """Attribute ``referee`` (a member who just followed or opened a link) to ``referrer``.

        ``new_member``: this follow or visit created the referee (re-follows
        of existing or former members never count).  Returns the referral,
        pending or rejected with its reason, or an empty recordset when the
        account runs no referral program.  Idempotent per (referrer, friend).
        """
        referrer, referee = referrer.sudo(), referee.sudo()
        if not referrer or not referee or referrer.account_id != referee.account_id:
            return self.browse()
        program = self.env["wechat.referral.program"]._for_account(referee.account_id)
        if not program:
            return self.browse()
        # Serialise the attributions of one friend (webhook retries, parallel link visits).
        self.env.cr.execute("SELECT id FROM wechat_member WHERE id = %s FOR UPDATE", [referee.id])
        Referral = self.sudo()
        existing = Referral.search(
            [("referrer_member_id", "=", referrer.id), ("referee_member_id", "=", referee.id)], limit=1
        )
        if existing:
            return existing
        reason, note = Referral._attribution_fraud(program, referrer, referee, new_member)
        referral = Referral.create(
            {
                "program_id": program.id,
                "account_id": referee.account_id.id,
                "referrer_member_id": referrer.id,
                "referee_member_id": referee.id,
                "channel_id": channel.id if channel else False,
                "source": source,
                "state": "rejected" if reason else "pending",
                "reject_reason": reason or False,
                "note": note or False,
            }
        )
        if reason:
            _logger.info("Referral %s rejected at attribution: %s", referral.id, reason)
        elif referee.state == "follower":
            referral._grant_welcome_perk()
        # A share-link visitor who does not follow gets the perk on a follow or a first paid purchase
        # (``_grant_pending_welcome_perks``), never for a page visit alone.
        return referral

    @api.model
    def _grant_pending_welcome_perks(self, members=None, partners=None):
        """The welcome perks of live referrals still waiting for the friend's follow or first purchase."""
        domain = [("state", "in", LIVE_STATES), ("welcome_card_id", "=", False)]
        if members is not None:
            domain.append(("referee_member_id", "in", members.ids))
        if partners is not None:
            domain.append(("referee_partner_id", "in", partners.ids))
        referrals = self.sudo().search(domain, order="id")
        if referrals:
            referrals._grant_welcome_perk()
        return referrals

    @api.model
    def _attribution_fraud(self, program, referrer, referee, new_member):
        """``(reason, note)`` when attributing ``referee`` to ``referrer`` is not allowed, else ``(False, False)``."""
        reason, note = self._self_referral(referrer, referee)
        if reason:
            return reason, note
        loop = self.search_count(
            [
                ("referrer_partner_id", "=", referee.partner_id.id),
                ("referee_partner_id", "=", referrer.partner_id.id),
                ("state", "in", LIVE_STATES),
            ]
        )
        if loop:
            return "loop", _(
                "%(friend)s already referred %(referrer)s.", friend=referee.display_name, referrer=referrer.display_name
            )
        if not new_member:
            return "existing", _(
                "%(friend)s was already a member (re-follow or earlier visit).", friend=referee.display_name
            )
        if self.search_count([("referee_member_id", "=", referee.id), ("state", "in", LIVE_STATES)]):
            return "already_referred", _(
                "%(friend)s is already attributed to another referrer.", friend=referee.display_name
            )
        if program.weekly_cap:
            week = self.search_count(
                [
                    ("referrer_member_id", "=", referrer.id),
                    ("state", "in", LIVE_STATES),
                    ("date", ">", fields.Datetime.now() - timedelta(days=7)),
                ]
            )
            if week >= program.weekly_cap:
                return "weekly_cap", _(
                    "%(referrer)s already brought %(count)s friends in the last 7 days.",
                    referrer=referrer.display_name,
                    count=week,
                )
        return False, False

    @api.model
    def _self_referral(self, referrer, referee, payer=None):
        """Same member, same contact, same phone, or the friend's purchase paid by the referrer's WeChat."""
        if referrer == referee or referrer.partner_id == referee.partner_id:
            return "self", _("The friend is the referrer's own contact.")
        phone = normalize_phone(referrer.partner_id.phone)
        if phone and phone == normalize_phone(referee.partner_id.phone):
            return "self", _("The friend has the referrer's phone number.")
        # (A payer with the referrer's openid on the same account is the referrer: same contact.)
        if payer and (payer.partner_id == referrer.partner_id or (payer.unionid and payer.unionid == referrer.unionid)):
            return "self", _("The friend's purchase was paid with the referrer's WeChat.")
        return False, False

    def _grant_welcome_perk(self):
        """One coupon of the welcome program for the friend, usable on a purchase.

        The friend is told through the notice router (``referral_welcome``):
        in the passive reply to their follow when it is live.
        """
        granted = self.browse()
        for referral in self:
            program = referral.program_id.welcome_program_id
            if not program or referral.welcome_card_id or referral.state == "rejected":
                continue
            points = max(program.reward_ids.mapped("required_points") or [1.0])
            card = (
                self.env["loyalty.card"]
                .sudo()
                .create(
                    {
                        "program_id": program.id,
                        "partner_id": referral.referee_partner_id.id,
                        "points": points,
                        # Valid for the qualification window: a perk for the first purchase.
                        "expiration_date": referral.deadline.date() if referral.deadline else False,
                    }
                )
            )
            referral.welcome_card_id = card
            granted |= referral
        granted._notify_after_commit("welcome")

    # ------------------------------------------------------------------ purchases
    @api.model
    def _process_orders(self, orders):
        """Qualify, reward and claw back from paid POS ``orders`` (idempotent)."""
        orders = orders.sudo().filtered(lambda o: o.state in PAID_STATES)
        if not orders:
            return
        Referral = self.sudo()
        partners = orders.filtered(lambda o: o.amount_total > 0).partner_id
        if partners:
            Referral._grant_pending_welcome_perks(partners=partners)
            for referral in Referral.search(
                [("referee_partner_id", "in", partners.ids), ("state", "=", "pending")], order="id"
            ):
                referral._try_qualify()
        refunded = orders.filtered(lambda o: o.amount_total < 0).lines.refunded_orderline_id.order_id
        if refunded:
            for referral in Referral.search(
                [("order_id", "in", refunded.ids), ("state", "in", ("qualified", "review", "rewarded"))], order="id"
            ):
                referral._check_refund()

    def _lock(self):
        """Lock the row and re-read the state (another transaction may have moved it)."""
        self.ensure_one()
        self.env.flush_all()
        self.env.cr.execute("SELECT id FROM wechat_referral WHERE id = %s FOR UPDATE", [self.id])
        self.invalidate_recordset()
        return self

    def _net_amount(self, order):
        """Amount of ``order`` minus its paid refunds."""
        refunds = order.lines.refund_orderline_ids.order_id.filtered(lambda o: o.state in PAID_STATES)
        return order.amount_total + sum(refunds.mapped("amount_total")), refunds

    def _qualifying_order(self):
        """The friend's first paid purchase within the window reaching the minimum (net of refunds)."""
        self.ensure_one()
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT p.order_id, p.net_amount FROM (%s) p ORDER BY p.date_order, p.order_id",
                self.env["pos.order"]._wechat_purchases_sql(
                    partners=self.referee_partner_id.ids,
                    date_from=self.date,
                    net=True,
                    # The deadline itself is still within the window.
                    date_to=self.deadline + timedelta(seconds=1) if self.deadline else None,
                ),
            )
        )
        for order_id, net in self.env.cr.fetchall():
            if self._net_qualifies(net):
                return self.env["pos.order"].sudo().browse(order_id)
        return self.env["pos.order"].sudo()

    def _net_qualifies(self, net):
        """A purchase of ``net`` amount (after refunds) reaches the program's minimum."""
        currency = self.company_id.currency_id
        return currency.compare_amounts(net, self.program_id.min_purchase_amount) >= 0 and (
            currency.compare_amounts(net, 0) > 0
        )

    def _try_qualify(self):
        self._lock()
        if self.state != "pending":
            return False
        order = self._qualifying_order()
        if not order:
            return False
        now = fields.Datetime.now()
        reason, note = self._self_referral(
            self.referrer_member_id, self.referee_member_id, payer=order.wechat_payer_member_id
        )
        if reason:
            self.write({"state": "rejected", "reject_reason": reason, "note": note, "order_id": order.id})
            _logger.info("Referral %s rejected at purchase: %s", self.id, reason)
            return False
        self.write({"state": "qualified", "order_id": order.id, "qualified_date": now})
        if self.program_id.manual_review:
            self.state = "review"
            return True
        self._reward()
        return True

    def _referrer_card(self):
        """The referrer's card on the points program, created when missing (once, under a lock)."""
        self.ensure_one()
        program = self.program_id.points_program_id
        partner = self.referrer_partner_id
        self.env.cr.execute("SELECT pg_advisory_xact_lock(%s, %s)", [program.id, partner.id])
        Card = self.env["loyalty.card"].sudo()
        card = Card.search([("program_id", "=", program.id), ("partner_id", "=", partner.id)], order="id", limit=1)
        if not card:
            card = Card.create({"program_id": program.id, "partner_id": partner.id, "points": 0})
        return card

    def _move_points(self, card, delta, description):
        """Add ``delta`` points to ``card`` (under a row lock) with a ``loyalty.history`` line."""
        self.env.flush_all()
        self.env.cr.execute("SELECT points FROM loyalty_card WHERE id = %s FOR UPDATE", [card.id])
        balance = self.env.cr.fetchone()[0] or 0.0
        card.invalidate_recordset(["points"])
        history = (
            self.env["loyalty.history"]
            .sudo()
            .create(
                {
                    "card_id": card.id,
                    "description": description,
                    "issued": delta,
                    "used": 0.0,
                    "order_model": "pos.order",
                    "order_id": (self.refund_order_id if delta < 0 else self.order_id).id or False,
                }
            )
        )
        card.write({"points": balance + delta})
        return history

    def _reward(self):
        """Credit the referrer's points: qualified (or approved) → rewarded."""
        self.ensure_one()
        if self.state not in ("qualified", "review"):
            return False
        rank = (
            self.search_count([("referrer_member_id", "=", self.referrer_member_id.id), ("state", "=", "rewarded")]) + 1
        )
        points = self.program_id._points_for(rank)
        card = self._referrer_card()
        if self.order_id:
            description = _(
                "Referral: %(friend)s's first purchase %(order)s",
                friend=self.referee_partner_id.name,
                order=self.order_id.name,
            )
        else:
            description = _("Referral: %(friend)s's first purchase", friend=self.referee_partner_id.name)
        history = self._move_points(card, points, description)
        self.write(
            {
                "state": "rewarded",
                "points": points,
                "card_id": card.id,
                "history_id": history.id,
                "rewarded_date": fields.Datetime.now(),
            }
        )
        self._notify_after_commit("reward")
        return True

    def _check_refund(self):
        """A refund of the qualifying purchase within the window claws the points back."""
        self._lock()
        if self.state not in ("qualified", "review", "rewarded") or not self.order_id:
            return False
        net, refunds = self._net_amount(self.order_id)
        if refunds and self._net_qualifies(net):
            return False  # a partial refund that keeps the purchase above the minimum
        in_window = refunds.filtered(lambda r: r.date_order <= self.deadline).sorted("date_order")
        if not in_window:
            return False
        refund = in_window[-1]
        now = fields.Datetime.now()
        if self.state != "rewarded":
            self.write({"state": "rejected", "reject_reason": "refunded", "refund_order_id": refund.id})
            return True
        self.refund_order_id = refund
        history = self._move_points(
            self.card_id,
            -self.points,
            _(
                "Referral clawback: %(friend)s's purchase %(order)s was refunded",
                friend=self.referee_partner_id.name,
                order=self.order_id.name,
            ),
        )
        self.write({"state": "reversed", "reversal_history_id": history.id, "reversed_date": now})
        self._notify_after_commit("clawback")
        return True

    @api.model
    def _cron_expire(self, limit=5000):
        """Pending referrals whose window closed without a qualifying purchase are rejected."""
        expired = self.search([("state", "=", "pending"), ("deadline", "<", fields.Datetime.now())], limit=limit)
        expired.write({"state": "rejected", "reject_reason": "expired"})
        return True

    # ------------------------------------------------------------------ WeChat notices
    def _notify_after_commit(self, event):
        """Route the ``event`` notice of these referrals through the notice router, once each.

        ``event``: "reward" or "clawback" (the referrer's points change, a
        transactional notice) or "welcome" (the friend's perk, a marketing
        notice: the passive reply to a live follow, else a channel WeChat
        allows).  The router records the notice in this transaction and
        sends it after the commit: nothing goes out for a sale rolled back.
        ``wechat_referral_no_notice`` in the context sends nothing (imports,
        demo data).
        """
        assert event in NOTICE_EVENTS, event
        if not self or self.env.context.get("wechat_referral_no_notice"):
            return
        Notice = self.env["wechat.notice"].sudo()
        for referral in self:
            if event == "welcome":
                member = referral.referee_member_id
                if referral.state == "rejected" or not referral.welcome_card_id or not member:
                    continue
                Notice._notify(
                    "referral_welcome", member, {"referral_id": referral.id}, key=f"referral-{referral.id}-welcome"
                )
            elif referral.referrer_member_id:
                lang = referral.referrer_partner_id.lang or self.env.lang
                Notice._notify(
                    f"referral_{event}",
                    referral.referrer_member_id,
                    referral.with_context(lang=lang)._points_notice_values(event),
                    key=f"referral-{referral.id}-{event}",
                )

    def _points_notice_values(self, event):
        """Values of the referrer's points notice: points moved, new balance, the friend and why."""
        self.ensure_one()
        delta = self.points if event == "reward" else -self.points
        if event == "reward":
            reason = _("Your friend %(friend)s made a first purchase", friend=self.referee_partner_id.name)
        else:
            reason = _("The purchase of your friend %(friend)s was refunded", friend=self.referee_partner_id.name)
        return {
            "points": delta,
            "balance": self.card_id.points,
            "friend": self.referee_partner_id.name,
            "reason": reason,
            "referral_id": self.id,
        }

    # ------------------------------------------------------------------ review
    def action_approve(self):
        for referral in self:
            referral._lock()
            if referral.state != "review":
                raise UserError(_("Only referrals waiting for review can be approved."))
            referral.reviewed_by_id = self.env.user
            referral._reward()
        return True

    def action_reject(self):
        for referral in self:
            referral._lock()
            if referral.state not in ("pending", "review", "qualified"):
                raise UserError(_("Only pending or reviewed referrals can be rejected."))
            referral.write({"state": "rejected", "reject_reason": "manual", "reviewed_by_id": self.env.user.id})
        return True

    # ------------------------------------------------------------------ demo
    @api.model
    def _demo_points_expiry(self):
        """Demo: Lotus points (this module's demo) expire as wechat_coupon's demo sets them, when wechat_coupon
        is installed: its own demo, loaded before this one, found no points program yet."""
        Program = self.env["loyalty.program"]
        if hasattr(Program, "_demo_points_expiry"):
            Program._demo_points_expiry()
        return True

    @api.model
    def _demo_referrals(self, program_id):
        """Demo (``demo/wechat_referral_demo.xml``): one demo member referred three recent followers.

        The friends follow through the referrer's QR when they joined: the
        first still has to buy, the second waits for review, the third's
        first purchase earned the referrer points.  No WeChat notice is sent.
        """
        program = self.env["wechat.referral.program"].browse(program_id)
        Member = self.env["wechat.member"].sudo()
        referrer, *friends = (
            Member.search([("account_id", "=", program.account_id.id), ("openid", "=", f"oDEMO{i:023d}")])
            for i in (4, 0, 1, 2)
        )
        if not referrer or not all(friends):
            return True
        channel = referrer._referral_channel()
        Referral = self.sudo().with_context(wechat_referral_no_notice=True)
        for friend, state in zip(friends, ("pending", "review", "rewarded"), strict=True):
            referral = Referral._attribute(referrer, friend, new_member=True, channel=channel)
            if referral.state != "pending":
                continue  # loaded before
            # Attributed when the friend followed.
            referral.date = friend.subscribe_date or referral.date
            if referral.welcome_card_id and referral.deadline:
                referral.welcome_card_id.expiration_date = referral.deadline.date()
            if state == "pending":
                continue
            referral.write({"state": "qualified", "qualified_date": referral.date})
            if state == "review":
                referral.state = "review"
            else:
                referral._reward()
        return True
