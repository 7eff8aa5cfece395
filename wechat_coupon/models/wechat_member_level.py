from dateutil.relativedelta import relativedelta

from odoo import Command, _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from odoo.addons.wechat_member.models.pos_order import PAID_STATES

LEVEL_BASES = [("spend", "Spend"), ("points", "Points Earned")]
LEVEL_PERIODS = [("rolling_12", "Rolling 12 Months"), ("lifetime", "Lifetime")]
# The fields whose change re-evaluates the members of a ladder (in the background).
LADDER_FIELDS = {"threshold", "basis", "period", "company_id", "account_id", "active"}


class WeChatMemberLevel(models.Model):
    """A member level (会员等级) of a ladder: the levels of one company (and account, when set).

    A member reaches a level when their qualifying value (spend, or points
    earned, over a rolling 12 months or their lifetime) is at or above its
    entry threshold; the entry level of a ladder has a threshold of 0.
    Upgrades happen at once, in the POS sync of the purchase that crosses a
    threshold; downgrades on a schedule, after a grace period and a notice.
    """

    _name = "wechat.member.level"
    _description = "WeChat Member Level"
    _order = "company_id, account_id, threshold, sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    account_id = fields.Many2one(
        "wechat.account",
        string="WeChat Account",
        check_company=True,
        help="Empty: the ladder of every account of the company.",
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    basis = fields.Selection(LEVEL_BASES, required=True, default="spend")
    period = fields.Selection(LEVEL_PERIODS, required=True, default="rolling_12")
    threshold = fields.Float(
        "Entry Threshold",
        digits="Account",
        help="The spend (or points earned) over the period from which a member has this level; 0 for the entry "
        "level of the ladder.",
    )
    points_multiplier = fields.Float(
        default=1.0,
        digits=(16, 2),
        help="The points a member of this level earns in the loyalty points programs, times this (stamp cards "
        "excepted).",
    )
    grace_days = fields.Integer(
        "Grace Period (days)",
        default=30,
        help="A member below this level's threshold keeps it this many days (told before), then goes down.",
    )
    color = fields.Integer()
    tag_id = fields.Many2one(
        "wechat.tag",
        string="Automatic WeChat Tag",
        readonly=True,
        copy=False,
        help="Members of this level get this WeChat tag, and lose it when they leave the level.",
    )
    tag_rule_id = fields.Many2one("wechat.tag.rule", readonly=True, copy=False)
    level_member_ids = fields.One2many("wechat.member.level.member", "level_id", string="Contacts of the Level")
    member_count = fields.Integer("Members", compute="_compute_member_count")

    _sql_constraints = [
        ("points_multiplier_positive", "CHECK(points_multiplier > 0)", "The points multiplier must be above 0."),
        ("grace_days_positive", "CHECK(grace_days >= 0)", "The grace period cannot be negative."),
    ]

    def _compute_member_count(self):
        counts = dict(
            self.env["wechat.member.level.member"]._read_group(
                [("level_id", "in", self.ids)], ["level_id"], ["__count"]
            )
        )
        for level in self:
            level.member_count = counts.get(level, 0)

    # ------------------------------------------------------------------ ladder
    def _ladder_domain(self):
        self.ensure_one()
        return [("company_id", "=", self.company_id.id), ("account_id", "=", self.account_id.id)]

    def _ladder(self):
        """The levels of this level's ladder (same company and account), lowest first."""
        self.ensure_one()
        return self.search(self._ladder_domain())

    @api.constrains("threshold", "basis", "period", "company_id", "account_id", "active")
    def _check_ladder(self):
        for level in self.filtered("active"):
            ladder = level._ladder()
            if level.threshold < 0:
                raise ValidationError(_("The entry threshold of %(level)s cannot be negative.", level=level.name))
            mixed = ladder.filtered(lambda lv, level=level: (lv.basis, lv.period) != (level.basis, level.period))
            if mixed:
                raise ValidationError(
                    _(
                        "%(level)s and %(other)s are in one ladder but count different things: every level of a "
                        "ladder must have the same basis and period.",
                        level=level.name,
                        other=mixed[0].name,
                    )
                )
            equal = ladder.filtered(lambda lv, level=level: lv != level and lv.threshold == level.threshold)
            if equal:
                if not level.threshold:
                    raise ValidationError(
                        _(
                            "%(level)s has no entry threshold, but %(other)s is already the entry level of this "
                            "ladder: give %(level)s a threshold above 0.",
                            level=level.name,
                            other=equal[0].name,
                        )
                    )
                raise ValidationError(
                    _(
                        "%(level)s and %(other)s have the same entry threshold (%(threshold)s): each level of a "
                        "ladder needs its own threshold.",
                        level=level.name,
                        other=equal[0].name,
                        threshold=level.threshold,
                    )
                )

    # ------------------------------------------------------------------ CRUD
    @api.model_create_multi
    def create(self, vals_list):
        levels = super().create(vals_list)
        levels._queue_reevaluation()
        return levels

    def write(self, vals):
        res = super().write(vals)
        if LADDER_FIELDS & set(vals):
            self._queue_reevaluation()
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_except_members(self):
        if self.env["wechat.member.level.member"].sudo().search_count([("level_id", "in", self.ids)], limit=1):
            raise ValidationError(_("Members have this level: archive it instead of deleting it."))

    # ------------------------------------------------------------------ qualifying value
    @api.model
    def _value_sql(self, basis, period, company, partner_ids=None):
        """SQL ``(partner_id, value)``: the qualifying value of the customers of ``company`` (``partner_ids``:
        only these), one aggregate over their POS orders (refunds net) or their points earned (loyalty
        programs, stamp cards excepted; minus what refunds took back)."""
        since = fields.Datetime.now() - relativedelta(months=12) if period == "rolling_12" else None
        if basis == "spend":
            purchases = self.env["pos.order"]._wechat_purchases_sql(
                partners=partner_ids, date_from=since, company=company, refunds=True
            )
            return SQL("SELECT s.partner_id, sum(s.amount) FROM (%s) s GROUP BY s.partner_id", purchases)
        conditions = [
            SQL("p.program_type = 'loyalty'"),
            SQL("p.wechat_stamp_card IS NOT TRUE"),
            SQL("(p.company_id = %s OR p.company_id IS NULL)", company.id),
            SQL("(h.wechat_kind IS NULL OR h.wechat_kind = 'refund')"),
        ]
        if partner_ids is not None:
            conditions.append(SQL("c.partner_id = ANY(%s)", list(partner_ids)))
        else:
            conditions.append(SQL("c.partner_id IS NOT NULL"))
        if since:
            conditions.append(SQL("h.create_date >= %s", since))
        return SQL(
            """SELECT c.partner_id,
                      sum(CASE WHEN h.wechat_kind = 'refund' THEN -h.used ELSE h.issued END)
                 FROM loyalty_history h
                 JOIN loyalty_card c ON c.id = h.card_id
                 JOIN loyalty_program p ON p.id = c.program_id
                WHERE %s
             GROUP BY c.partner_id""",
            SQL(" AND ").join(conditions),
        )

    def _for_value(self, value):
        """The highest level of the ladder ``self`` (sorted, lowest first) that ``value`` reaches."""
        reached = self.filtered(lambda level: level.threshold <= (value or 0.0) + 0.000001)
        return reached[-1:] if reached else self.browse()

    # ------------------------------------------------------------------ background re-evaluation
    def _queue_reevaluation(self):
        """Mark the members of these levels' ladders for re-evaluation and start the background job.

        The members of the company (their level rows; the WeChat members who bought at the company and have
        none yet get one) are marked in SQL, the cron evaluates them by batches (``_cron_reevaluate``).
        """
        companies = self.company_id
        if not companies:
            return
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE wechat_member_level_member SET pending = TRUE WHERE company_id = ANY(%s) AND pending IS NOT TRUE",
            [companies.ids],
        )
        now = fields.Datetime.now()
        self.env.cr.execute(
            SQL(
                """
            INSERT INTO wechat_member_level_member (partner_id, company_id, pending, qualifying_value,
                                                    create_uid, write_uid, create_date, write_date)
            SELECT DISTINCT o.partner_id, o.company_id, TRUE, 0, %(uid)s, %(uid)s, %(now)s, %(now)s
              FROM pos_order o JOIN res_partner p ON p.id = o.partner_id
             WHERE o.company_id = ANY(%(companies)s) AND o.state IN %(states)s AND p.wechat_is_member
            ON CONFLICT (partner_id, company_id) DO NOTHING
            """,
                uid=self.env.uid,
                now=now,
                companies=companies.ids,
                states=PAID_STATES,
            )
        )
        self.env["wechat.member.level.member"].invalidate_model()
        self.env.ref("wechat_coupon.ir_cron_wechat_level_reevaluate").sudo()._trigger()

    @api.model
    def _cron_reevaluate(self, batch_size=500):
        """One batch of the members marked for re-evaluation (resumable: the marks are the queue)."""
        LevelMember = self.env["wechat.member.level.member"].sudo()
        self.env.cr.execute(
            "SELECT id FROM wechat_member_level_member WHERE pending ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
            [batch_size],
        )
        batch = LevelMember.browse([row[0] for row in self.env.cr.fetchall()])
        for company in batch.company_id:
            rows = batch.filtered(lambda r, company=company: r.company_id == company)
            rows.partner_id._wechat_level_evaluate(company, "threshold")
        batch.write({"pending": False})
        self.env.flush_all()
        self.env.cr.execute("SELECT count(*) FROM wechat_member_level_member WHERE pending")
        remaining = self.env.cr.fetchone()[0]
        self.env["ir.cron"]._notify_progress(done=len(batch), remaining=remaining)
        return len(batch)

    # ------------------------------------------------------------------ nightly schedule
    @api.model
    def _cron_schedule(self):
        """Nightly: refresh the qualifying values (a rolling period moves), give the members below their
        level's threshold a downgrade date (today + grace) with a notice, clear it for those back above, and
        downgrade those whose date has passed and are still below.  Set-based SQL per ladder."""
        self.env.flush_all()
        LevelMember = self.env["wechat.member.level.member"].sudo()
        ladders = self.sudo().search([])
        for company, account in {(lv.company_id, lv.account_id) for lv in ladders}:
            ladder = ladders.filtered(lambda lv, c=company, a=account: lv.company_id == c and lv.account_id == a)
            first = ladder[0]
            today = company._wechat_today()
            self.env.cr.execute(
                SQL(
                    """
                UPDATE wechat_member_level_member m
                   SET qualifying_value = x.value
                  FROM (SELECT m2.id, COALESCE(v.value, 0) AS value
                          FROM wechat_member_level_member m2
                     LEFT JOIN (%s) v(partner_id, value) ON v.partner_id = m2.partner_id
                         WHERE m2.level_id = ANY(%s)) x
                 WHERE m.id = x.id AND m.qualifying_value IS DISTINCT FROM x.value
                """,
                    self._value_sql(first.basis, first.period, company),
                    ladder.ids,
                )
            )
            # Back above: the pending downgrade is cleared.
            self.env.cr.execute(
                """
                UPDATE wechat_member_level_member m SET downgrade_date = NULL
                  FROM wechat_member_level l
                 WHERE l.id = m.level_id AND m.level_id = ANY(%s) AND m.downgrade_date IS NOT NULL
                   AND m.qualifying_value >= l.threshold
                """,
                [ladder.ids],
            )
            # Newly below: a downgrade date, and a notice.
            self.env.cr.execute(
                """
                UPDATE wechat_member_level_member m
                   SET downgrade_date = %s::date + l.grace_days
                  FROM wechat_member_level l
                 WHERE l.id = m.level_id AND m.level_id = ANY(%s) AND m.downgrade_date IS NULL
                   AND m.qualifying_value < l.threshold
             RETURNING m.id
                """,
                [today, ladder.ids],
            )
            noticed = LevelMember.browse([row[0] for row in self.env.cr.fetchall()])
            # Due: down to the level the value reaches.
            self.env.cr.execute(
                """
                SELECT m.id FROM wechat_member_level_member m JOIN wechat_member_level l ON l.id = m.level_id
                 WHERE m.level_id = ANY(%s) AND m.downgrade_date <= %s AND m.qualifying_value < l.threshold
                """,
                [ladder.ids, today],
            )
            due = LevelMember.browse([row[0] for row in self.env.cr.fetchall()])
            LevelMember.invalidate_model()
            (noticed - due)._notify_downgrade()
            for row in due:
                row._change_level(ladder._for_value(row.qualifying_value), "schedule")
            if due:
                self.env["wechat.tag.rule"]._apply_to_partners(due.partner_id)

    # ------------------------------------------------------------------ automatic tags
    def action_create_tag(self):
        """An automatic WeChat tag for each level: a segment "level = X" and a tag rule that removes the tag
        from the members who leave the level."""
        for level in self.filtered(lambda lv: not lv.tag_rule_id):
            account = level.account_id or self.env["wechat.account"].search(
                [("company_id", "=", level.company_id.id)], limit=1
            )
            if not account:
                raise ValidationError(
                    _("%(level)s: the company has no WeChat account to tag the members on.", level=level.name)
                )
            tag = self.env["wechat.tag"].search([("account_id", "=", account.id), ("name", "=", level.name)], limit=1)
            tag = tag or self.env["wechat.tag"].create({"name": level.name, "account_id": account.id})
            segment = self.env["wechat.segment"].create(
                {
                    "name": _("Level %(level)s", level=level.name),
                    "account_id": account.id,
                    "followers_only": False,
                    "window_days": 0,
                    "wechat_level_ids": [Command.set(level.ids)],
                }
            )
            rule = self.env["wechat.tag.rule"].create(
                {
                    "name": _("Level %(level)s", level=level.name),
                    "segment_id": segment.id,
                    "tag_id": tag.id,
                    "remove_unmatched": True,
                }
            )
            level.write({"tag_id": tag.id, "tag_rule_id": rule.id})
        return True

    def action_view_members(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Members of %(level)s", level=self.name),
            "res_model": "wechat.member.level.member",
            "view_mode": "list,form",
            "domain": [("level_id", "=", self.id)],
            "context": {"create": False},
        }

    def _demo_assign(self):
        """Demo (``demo/wechat_level_demo.xml``): the members' levels from their purchases, now."""
        self._queue_reevaluation()
        while self._cron_reevaluate():
            pass
