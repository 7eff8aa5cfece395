import re
import secrets

from odoo import _, api, fields, models
from odoo.exceptions import AccessDenied, UserError
from odoo.tools import SQL, consteq
from odoo.tools.misc import hmac as hmac_sign

from .wechat_member import DYNAMIC_CODE_RE

# New member codes: WM + 10 random digits (the POS barcode rule is WM\d\d\d\d+).
MEMBER_CODE_PREFIX = "WM"
MEMBER_CODE_DIGITS = 10
# What the cashier types or scans at the till (``wechat_pos_find_member``), as the POS checks it
# (``static/src/overrides/models/pos_store.js``).
MEMBER_CODE_RE = re.compile(r"^WM\d{4,}$")
PHONE_RE = re.compile(r"^\+?[\d\s\-()]{5,20}$")
POS_FIND_LIMIT = 10

ACTIVITY_STATES = [
    ("to_activate", "To Activate"),
    ("new", "New"),
    ("active", "Active Buyer"),
    ("dormant", "Dormant"),
    ("lost", "Lost"),
]


def _activity_state_sql(first, last, count, now):
    """SQL CASE of the activity state from the purchase columns ``first``, ``last``, ``count``.

    The company periods are the columns ``wechat_new_days``, ``wechat_active_days``
    and ``wechat_lost_days`` of the row in scope.
    """
    first, last, count = (SQL.identifier(*column.split(".")) for column in (first, last, count))
    return SQL(
        """CASE
            WHEN %(last)s IS NULL OR COALESCE(%(count)s, 0) <= 0 THEN 'to_activate'
            WHEN %(first)s >= %(now)s - make_interval(days => wechat_new_days) THEN 'new'
            WHEN %(last)s >= %(now)s - make_interval(days => wechat_active_days) THEN 'active'
            WHEN %(last)s >= %(now)s - make_interval(days => wechat_lost_days) THEN 'dormant'
            ELSE 'lost' END""",
        first=first,
        last=last,
        count=count,
        now=now,
    )


# Personal data (profile, consent, purchase history, RFM): WeChat Marketing users and POS users only, not
# every internal user.  The POS loads some of it (``_load_pos_data_fields``).  Not copied with a contact.
PERSONAL_GROUPS = "wechat_member.group_wechat_cashier,point_of_sale.group_pos_user"


class ResPartner(models.Model):
    _inherit = "res.partner"

    wechat_member_ids = fields.One2many("wechat.member", "partner_id", string="WeChat Members")
    wechat_member_count = fields.Integer("WeChat Member Count", compute="_compute_wechat_member_count")
    wechat_cs_channel_count = fields.Integer(
        "WeChat Conversations",
        compute="_compute_wechat_cs_channel_count",
        groups="wechat_member.group_wechat_customer_service",
    )
    wechat_is_member = fields.Boolean(
        "WeChat Member",
        compute="_compute_wechat_is_member",
        store=True,
        index=True,
        help="A WeChat member, or a member created at the till from a phone (a member code, no WeChat identity"
        " yet): both count in the statistics, RFM, segments and the capture rate.",
    )
    wechat_member_code = fields.Char(
        "Member Code",
        copy=False,
        index=True,
        readonly=True,
        help="Shown as a QR code on the member page; the cashier scans or types it to bind the member.",
    )
    wechat_birthday = fields.Date("Birthday", groups=PERSONAL_GROUPS, copy=False)
    wechat_gender = fields.Selection(
        [("male", "Male"), ("female", "Female"), ("other", "Other")],
        string="Gender",
        groups=PERSONAL_GROUPS,
        copy=False,
    )
    wechat_consent = fields.Boolean(
        "Marketing Consent",
        help="The member agreed to receive offers and to keep the profile data.",
        groups=PERSONAL_GROUPS,
        copy=False,
    )
    wechat_consent_date = fields.Datetime("Consent Date", readonly=True, groups=PERSONAL_GROUPS, copy=False)
    # Purchase statistics, updated incrementally by each paid order.
    wechat_purchase_count = fields.Integer("Purchases", readonly=True, default=0, groups=PERSONAL_GROUPS, copy=False)
    wechat_purchase_amount = fields.Float(
        "Purchase Amount", digits="Account", readonly=True, default=0.0, groups=PERSONAL_GROUPS, copy=False
    )
    wechat_first_purchase = fields.Datetime("First Purchase", readonly=True, groups=PERSONAL_GROUPS, copy=False)
    wechat_last_purchase = fields.Datetime(
        "Last Purchase", readonly=True, index=True, groups=PERSONAL_GROUPS, copy=False
    )
    wechat_avg_basket = fields.Float(
        "Average Basket",
        digits="Account",
        compute="_compute_wechat_avg_basket",
        store=True,
        groups=PERSONAL_GROUPS,
        copy=False,
    )
    wechat_days_since_purchase = fields.Integer(
        "Days Since Last Purchase", compute="_compute_wechat_days_since", groups=PERSONAL_GROUPS
    )
    wechat_activity_state = fields.Selection(
        ACTIVITY_STATES,
        string="Activity",
        default="to_activate",
        readonly=True,
        index=True,
        groups=PERSONAL_GROUPS,
        copy=False,
    )
    wechat_rfm_recency = fields.Integer(
        "RFM Recency", readonly=True, help="1 (long ago) to 5 (recent)", groups=PERSONAL_GROUPS, copy=False
    )
    wechat_rfm_frequency = fields.Integer(
        "RFM Frequency", readonly=True, help="1 (rare) to 5 (frequent)", groups=PERSONAL_GROUPS, copy=False
    )
    wechat_rfm_monetary = fields.Integer(
        "RFM Monetary", readonly=True, help="1 (low) to 5 (high)", groups=PERSONAL_GROUPS, copy=False
    )
    wechat_rfm_score = fields.Char(
        "RFM", compute="_compute_wechat_rfm_score", store=True, groups=PERSONAL_GROUPS, copy=False
    )

    _sql_constraints = [
        ("wechat_member_code_uniq", "UNIQUE(wechat_member_code)", "This member code is already used."),
    ]

    def write(self, vals):
        res = super().write(vals)
        if "name" in vals:
            self._wechat_rename_conversations()
        if "tz" in vals and self.env["res.company"].sudo().search_count([("partner_id", "in", self.ids)], limit=1):
            # A shop's time zone changed: res.company._wechat_tz_name caches it.
            self.env.registry.clear_cache()
        return res

    def _wechat_rename_conversations(self):
        """A member's conversation in Discuss is named after them: renamed with the contact (the profile
        fetched from WeChat, the member page's form, a staff edit)."""
        members = self.sudo().wechat_member_ids
        if not members:
            return
        channels = self.env["discuss.channel"].sudo().search([("wechat_member_id", "in", members.ids)])
        for channel in channels:
            member = channel.wechat_member_id
            name = member.with_context(lang=member._cs_shop_lang())._cs_channel_name()
            if channel.name != name:
                channel.name = name

    def _compute_wechat_member_count(self):
        counts = dict(
            self.env["wechat.member"]._read_group([("partner_id", "in", self.ids)], ["partner_id"], ["__count"])
        )
        for partner in self:
            partner.wechat_member_count = counts.get(partner, 0)

    @api.depends("wechat_member_ids", "wechat_member_code")
    def _compute_wechat_is_member(self):
        for partner in self:
            # The member code first: a member's contact has one, and its members are then not read.
            partner.wechat_is_member = bool(partner.wechat_member_code or partner.wechat_member_ids)

    @api.depends("wechat_purchase_count", "wechat_purchase_amount")
    def _compute_wechat_avg_basket(self):
        for partner in self:
            count = partner.wechat_purchase_count
            partner.wechat_avg_basket = partner.wechat_purchase_amount / count if count > 0 else 0.0

    def _compute_wechat_days_since(self):
        now = fields.Datetime.now()
        for partner in self:
            last = partner.wechat_last_purchase
            partner.wechat_days_since_purchase = (now - last).days if last else -1

    @api.depends("wechat_rfm_recency", "wechat_rfm_frequency", "wechat_rfm_monetary")
    def _compute_wechat_rfm_score(self):
        for partner in self:
            parts = (partner.wechat_rfm_recency, partner.wechat_rfm_frequency, partner.wechat_rfm_monetary)
            partner.wechat_rfm_score = "".join(str(p) for p in parts) if all(parts) else False

    # ------------------------------------------------------------------ member code
    def _wechat_ensure_member_code(self):
        partners = self.filtered(lambda p: not p.wechat_member_code)
        for partner, code in zip(partners, self._wechat_new_member_codes(len(partners)), strict=True):
            partner.sudo().wechat_member_code = code
        return True

    @api.model
    def _wechat_new_member_codes(self, count):
        """``count`` new member codes, ``WM`` + 10 random digits, unused in the database.

        Random, not sequential: a code (shown as the member QR code) does not
        lead to the neighbours' codes.  The unique constraint stays the last
        word; a code drawn twice or already taken is drawn again.
        """
        codes = set()
        while len(codes) < count:
            wanted = count - len(codes)
            self.flush_model(["wechat_member_code"])
            drawn = {
                f"{MEMBER_CODE_PREFIX}{secrets.randbelow(10 ** MEMBER_CODE_DIGITS):0{MEMBER_CODE_DIGITS}d}"
                for __ in range(wanted)
            } - codes
            self.env.cr.execute(
                "SELECT wechat_member_code FROM res_partner WHERE wechat_member_code = ANY(%s)", [list(drawn)]
            )
            codes |= drawn - {row[0] for row in self.env.cr.fetchall()}
        return list(codes)[:count]

    # ------------------------------------------------------------------ history
    def _wechat_has_history(self, exclude_orders=None):
        """Whether the contact has purchases, loyalty points or coupons: never adopted without proof."""
        self.ensure_one()
        partner = self.sudo()
        if partner.wechat_purchase_count or partner.wechat_last_purchase:
            return True
        domain = [("partner_id", "=", partner.id), ("state", "!=", "cancel")]
        if exclude_orders:
            domain.append(("id", "not in", exclude_orders.ids))
        if self.env["pos.order"].sudo().search_count(domain, limit=1):
            return True
        if "loyalty.card" in self.env and self.env["loyalty.card"].sudo().search_count(
            [("partner_id", "=", partner.id), ("points", ">", 0)], limit=1
        ):
            return True
        return False

    def _wechat_masked(self):
        """What the cashier sees of a contact before the customer proves who they are: "王*", "8000"."""
        self.ensure_one()
        name = (self.name or "").strip()
        digits = re.sub(r"\D", "", self.phone or self.mobile or "")
        return {"name": (name[:1] + "*") if name else "*", "phone_last4": digits[-4:]}

    # ------------------------------------------------------------------ statistics
    def _wechat_register_purchases(self, purchases):
        """Add paid orders to the statistics, incrementally and atomically.

        ``purchases``: list of ``(partner_id, amount, datetime)``; a refund is
        a negative amount and counts as ``-1`` purchase.  One UPDATE for all
        the partners sets the totals, the average basket and the activity
        state: safe under concurrent orders of the same member (the rows are
        updated in place, never read-modify-written in Python).  Then the
        automatic tag rules are evaluated for these members.
        """
        totals = self._wechat_purchase_totals(purchases)
        self.env.flush_all()
        ids = list(totals)
        self._wechat_add_purchase_totals(ids, [totals[pid] for pid in ids])
        partners = self.browse(ids)
        partners.invalidate_recordset(
            [
                "wechat_purchase_count",
                "wechat_purchase_amount",
                "wechat_first_purchase",
                "wechat_last_purchase",
                "wechat_avg_basket",
                "wechat_activity_state",
            ]
        )
        partners._wechat_sync_member_activity()
        self.env["wechat.tag.rule"]._apply_to_partners(partners)
        return partners

    @api.model
    def _wechat_purchase_totals(self, purchases):
        """The ``purchases`` summed per contact: ``{partner_id: (count, amount, first date, last date)}``.

        A refund (negative amount) counts as ``-1`` purchase and does not
        move the dates.
        """
        totals = {}
        for partner_id, amount, when in purchases:
            count, total, first, last = totals.get(partner_id, (0, 0.0, None, None))
            count += 1 if amount >= 0 else -1
            total += amount
            if amount >= 0:
                first = min(first, when) if first else when
                last = max(last, when) if last else when
            totals[partner_id] = (count, total, first, last)
        return totals

    @api.model
    def _wechat_add_purchase_totals(self, ids, rows):
        """Add ``rows`` (the ``(count, amount, first, last)`` of the contacts ``ids``) to their statistics.

        One UPDATE, in place: the totals, dates, average basket and
        activity state are computed by PostgreSQL from the stored values.
        """
        self.env.cr.execute(
            SQL(
                """
            WITH delta AS (
                SELECT * FROM unnest(%(ids)s::int[], %(counts)s::int[], %(totals)s::float8[],
                                     %(firsts)s::timestamp[], %(lasts)s::timestamp[])
                       AS d(id, count, total, first, last)
            ), new AS (
                SELECT p.id,
                       GREATEST(COALESCE(p.wechat_purchase_count, 0) + d.count, 0) AS count,
                       COALESCE(p.wechat_purchase_amount, 0) + d.total AS amount,
                       LEAST(p.wechat_first_purchase, d.first) AS first,
                       GREATEST(p.wechat_last_purchase, d.last) AS last,
                       c.wechat_new_days, c.wechat_active_days, c.wechat_lost_days
                  FROM res_partner p
                  JOIN delta d ON d.id = p.id
                  JOIN res_company c ON c.id = COALESCE(p.company_id, %(company)s)
            )
            UPDATE res_partner p
               SET wechat_purchase_count = n.count,
                   wechat_purchase_amount = n.amount,
                   wechat_first_purchase = n.first,
                   wechat_last_purchase = n.last,
                   wechat_avg_basket = CASE WHEN n.count > 0 THEN n.amount / n.count ELSE 0 END,
                   wechat_activity_state = %(activity)s
              FROM new n
             WHERE p.id = n.id
            """,
                ids=ids,
                counts=[r[0] for r in rows],
                totals=[r[1] for r in rows],
                firsts=[r[2] for r in rows],
                lasts=[r[3] for r in rows],
                company=self.env.company.id,
                activity=_activity_state_sql("n.first", "n.last", "n.count", fields.Datetime.now()),
            )
        )

    def _wechat_update_activity(self, all_members=False):
        """Set the activity state from the purchase dates, in one UPDATE.

        new: first purchase within the company's "new" period; active: last
        purchase within its active period; dormant until its lost period,
        lost after it; to_activate: a member who never bought.  Periods come
        from the partner's company (else the current one).

        Only the contacts whose state changes are written, and their members'
        copy with them, in the same statement: the nightly run over every
        member (``all_members``) reads no id into Python.
        """
        self.env.flush_all()
        where = SQL("p.wechat_is_member") if all_members else SQL("p.id = ANY(%s)", self.ids)
        activity = _activity_state_sql(
            "p.wechat_first_purchase",
            "p.wechat_last_purchase",
            "p.wechat_purchase_count",
            fields.Datetime.now(),
        )
        self.env.cr.execute(
            SQL(
                """
            WITH changed AS (
                UPDATE res_partner p SET wechat_activity_state = %(activity)s
                  FROM res_company c
                 WHERE c.id = COALESCE(p.company_id, %(company)s) AND %(where)s
                   AND p.wechat_activity_state IS DISTINCT FROM (%(activity)s)
                RETURNING p.id, p.wechat_activity_state
            ), members AS (
                UPDATE wechat_member m SET activity_state = changed.wechat_activity_state
                  FROM changed
                 WHERE m.partner_id = changed.id AND m.activity_state IS DISTINCT FROM changed.wechat_activity_state
                RETURNING m.id
            )
            SELECT (SELECT count(*) FROM changed), (SELECT count(*) FROM members)
            """,
                activity=activity,
                company=self.env.company.id,
                where=where,
            )
        )
        changed, members = self.env.cr.fetchone()
        if changed:
            self.env["res.partner"].invalidate_model(["wechat_activity_state"])
        if members:
            self.env["wechat.member"].invalidate_model(["activity_state"])
        if not all_members:
            # A member whose copy was out of step with an unchanged contact (written before this code).
            self._wechat_sync_member_activity()
        return True

    def _wechat_sync_member_activity(self):
        """The members' stored copy of the activity state follows (group by activity in member reports)."""
        self.env.cr.execute(
            """
            UPDATE wechat_member m SET activity_state = p.wechat_activity_state
              FROM res_partner p
             WHERE m.partner_id = p.id AND p.id = ANY(%s)
               AND m.activity_state IS DISTINCT FROM p.wechat_activity_state
            """,
            [self.ids],
        )
        if self.env.cr.rowcount:
            self.env["wechat.member"].invalidate_model(["activity_state"])

    @api.model
    def _cron_wechat_activity(self):
        """Daily: activity states move with time; RFM quintiles over buying members."""
        self._wechat_update_activity(all_members=True)
        self._wechat_update_rfm()

    @api.model
    def _wechat_update_rfm(self):
        """RFM scores 1–5 by quintile (NTILE) among members with purchases, in SQL.

        Ties are split by id, so that a run gives the same scores as the
        previous one on the same data; only the changed scores are written,
        and a member with no purchase left (all refunded) loses the score.
        """
        self.env.flush_all()
        self.env.cr.execute(
            """
            WITH scored AS (
                SELECT id,
                       NTILE(5) OVER (ORDER BY wechat_last_purchase, id) AS r,
                       NTILE(5) OVER (ORDER BY wechat_purchase_count, id) AS f,
                       NTILE(5) OVER (ORDER BY wechat_purchase_amount, id) AS m
                  FROM res_partner
                 WHERE wechat_is_member AND wechat_purchase_count > 0
            )
            UPDATE res_partner p
               SET wechat_rfm_recency = s.r, wechat_rfm_frequency = s.f, wechat_rfm_monetary = s.m,
                   wechat_rfm_score = s.r::text || s.f::text || s.m::text
              FROM scored s
             WHERE p.id = s.id
               AND (p.wechat_rfm_recency, p.wechat_rfm_frequency, p.wechat_rfm_monetary)
                   IS DISTINCT FROM (s.r, s.f, s.m)
            """
        )
        self.env.cr.execute(
            """
            UPDATE res_partner
               SET wechat_rfm_recency = NULL, wechat_rfm_frequency = NULL, wechat_rfm_monetary = NULL,
                   wechat_rfm_score = NULL
             WHERE wechat_is_member AND NOT COALESCE(wechat_purchase_count > 0, false)
               AND wechat_rfm_score IS NOT NULL
            """
        )
        self.env["res.partner"].invalidate_model(
            ["wechat_rfm_recency", "wechat_rfm_frequency", "wechat_rfm_monetary", "wechat_rfm_score"]
        )

    # ------------------------------------------------------------------ self-service texts
    def _wechat_points_cards(self):
        """The member's points cards (``loyalty.card`` records), a hook: ``wechat_coupon`` returns
        those of every loyalty program, ``wechat_referral`` those of its referral points programs;
        none (an empty list) without them."""
        self.ensure_one()
        return []

    def _wechat_points_text(self):
        """What "my points" answers: the points of each of ``_wechat_points_cards()``."""
        self.ensure_one()
        cards = self._wechat_points_cards()
        if not cards:
            return _("Member code: %(code)s. No points yet.", code=self.wechat_member_code or "-")
        # self.env._: a comprehension's frame has no ``self`` for ``_()`` to find the language with.
        lines = [
            self.env._("%(program)s: %(points)s points", program=card.program_id.name, points=format(card.points, "g"))
            for card in cards
        ]
        return "\n".join([_("Member code: %(code)s", code=self.wechat_member_code or "-")] + lines)

    def _wechat_points_balance(self):
        """The member's points balance, on ``_wechat_points_cards()``."""
        self.ensure_one()
        return sum(card.points for card in self._wechat_points_cards())

    def _wechat_purchases_text(self):
        self.ensure_one()
        if not self.wechat_purchase_count:
            return _("No purchase yet. Show your member code at the till to collect your purchases.")
        return _(
            "Purchases: %(count)s, total %(amount).2f, last on %(date)s.",
            count=self.wechat_purchase_count,
            amount=self.wechat_purchase_amount,
            date=fields.Date.to_string(self.wechat_last_purchase.date()) if self.wechat_last_purchase else "-",
        )

    def _wechat_coupons_text(self):
        """What "my coupons" answers; ``wechat_coupon`` lists the member's coupons."""
        self.ensure_one()
        return _("You have no coupons yet.")

    def _wechat_offers_text(self):
        self.ensure_one()
        return _("No offer right now. Follow us to hear first about new offers.")

    # ------------------------------------------------------------------ actions
    def _compute_wechat_cs_channel_count(self):
        counts = dict(
            self.env["discuss.channel"]._read_group(
                [("wechat_member_id.partner_id", "in", self.ids)], ["wechat_member_id"], ["__count"]
            )
        )
        for partner in self:
            partner.wechat_cs_channel_count = sum(
                count for member, count in counts.items() if member.sudo().partner_id == partner
            )

    def action_view_wechat_conversation(self):
        """The contact's WeChat conversation in Discuss (a list when they write to several accounts)."""
        self.ensure_one()
        channels = self.env["discuss.channel"].search([("wechat_member_id.partner_id", "=", self.id)])
        if len(channels) == 1:
            return {"type": "ir.actions.client", "tag": "mail.action_discuss", "context": {"active_id": channels.id}}
        return {
            "type": "ir.actions.act_window",
            "name": _("WeChat Conversations"),
            "res_model": "discuss.channel",
            "view_mode": "list,form",
            "domain": [("id", "in", channels.ids)],
        }

    def action_view_wechat_members(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("wechat_member.wechat_member_action")
        action["domain"] = [("partner_id", "=", self.id)]
        action["context"] = {"default_partner_id": self.id}
        return action

    # ------------------------------------------------------------------ POS binding
    # Cashier binding at the till: find a member by member code or phone (also
    # from a scanned member QR), quick-create a member from a phone number, and
    # the member fields the POS shows (receipt, customer display).
    wechat_follower_account_ids = fields.Json(
        "Followed WeChat Accounts",
        compute="_compute_wechat_follower_account_ids",
        compute_sudo=True,
        help="Technical: ids of the WeChat accounts this contact follows (members in state follower).",
    )

    @api.depends("wechat_member_ids.state", "wechat_member_ids.account_id")
    def _compute_wechat_follower_account_ids(self):
        follows = {}
        if self.ids:
            groups = (
                self.env["wechat.member"]
                .sudo()
                ._read_group([("partner_id", "in", self.ids), ("state", "=", "follower")], ["partner_id", "account_id"])
            )
            for partner, account in groups:
                follows.setdefault(partner.id, []).append(account.id)
        for partner in self:
            partner.wechat_follower_account_ids = sorted(follows.get(partner.id, []))

    @api.model
    def _load_pos_data_fields(self, config_id):
        params = super()._load_pos_data_fields(config_id)
        params += [
            "wechat_member_code",
            "wechat_is_member",
            "wechat_purchase_count",
            "wechat_activity_state",
            "wechat_follower_account_ids",
        ]
        return params

    @api.model
    def _wechat_pos_config(self, config_id):
        """The POS of a cashier's call, after the access checks."""
        if not self.env.su and not self.env.user.has_group("point_of_sale.group_pos_user"):
            raise AccessDenied()
        config = self.env["pos.config"].browse(int(config_id or 0)).exists()
        if not config:
            raise UserError(_("This point of sale does not exist anymore."))
        config.check_access("read")
        return config

    @api.model
    def _wechat_normalize_query(self, query):
        """``('dynamic', 'WD…')``, ``('code', 'WM…')``, ``('phone', '…')`` or ``(None, None)``."""
        query = " ".join(str(query or "").split())
        compact = query.replace(" ", "").upper()
        if DYNAMIC_CODE_RE.match(compact):
            return "dynamic", compact
        if MEMBER_CODE_RE.match(query.upper()):
            return "code", query.upper()
        if PHONE_RE.match(query) and sum(c.isdigit() for c in query) >= 5:
            return "phone", query
        return None, None

    def _wechat_pos_read(self, config):
        fields_ = self._load_pos_data_fields(config.id)
        return {"res.partner": self.with_company(config.company_id).read(fields_, load=False)}

    # ------------------------------------------------------------------ verified binding
    @api.model
    def _wechat_bind_token(self, config, partner_id, method):
        """Signed proof, kept by the POS order, that the server verified how its customer was identified."""
        message = f"{config.company_id.id}:{int(partner_id or 0)}:{method}"
        return hmac_sign(self.env(su=True), "wechat-pos-bind", message)[:32]

    @api.model
    def _wechat_check_bind_token(self, config, partner_id, method, token):
        return bool(token and partner_id) and consteq(str(token), self._wechat_bind_token(config, partner_id, method))

    @api.model
    def _wechat_dynamic_member(self, config, code):
        """The WeChat member of a dynamic member code valid at this POS, or ``(None, error message)``."""
        member, error = self.env["wechat.member"]._check_dynamic_code(code)
        if member and member.company_id != config.company_id:
            member, error = None, "invalid"
        if error == "expired":
            return None, _("This member code has expired: ask the customer to refresh their member page.")
        if error or not member:
            return None, _("This member code is not valid: ask the customer to show their member page again.")
        return member, None

    def _wechat_pos_bound(self, config, method):
        """The POS answer for a customer identified with ``method``: the records and the signed proof."""
        self.ensure_one()
        result = self._wechat_pos_read(config)
        result.update(
            wechat_bind_method=method,
            wechat_bind_token=self._wechat_bind_token(config, self.id, method),
            wechat_masked=self._wechat_masked(),
        )
        return result

    @api.model
    def wechat_pos_find_member(self, config_id, query):
        """Contacts of the POS's company whose dynamic code, member code or phone is ``query``.

        Returns ``{'res.partner': [records]}`` with the POS fields, members
        first, or no record.  Contacts of other companies are never returned.
        A dynamic member code (member page) identifies the customer:
        ``wechat_bind_method`` is ``dynamic_code`` with its signed
        ``wechat_bind_token``; an expired or wrong one gives no record and
        ``wechat_error``, the message for the cashier.  A static code or a
        phone gives ``static_code_confirmed`` / ``phone_confirmed``: the
        cashier confirms the customer (masked name, last phone digits).
        """
        config = self._wechat_pos_config(config_id)
        kind, value = self._wechat_normalize_query(query)
        if not kind:
            return {"res.partner": []}
        if kind == "dynamic":
            member, error = self._wechat_dynamic_member(config, value)
            if error:
                return {"res.partner": [], "wechat_error": error}
            return self.browse(member.partner_id.ids)._wechat_pos_bound(config, "dynamic_code")
        domain = [("company_id", "in", [config.company_id.id, False])]
        if kind == "code":
            domain += [("wechat_member_code", "=", value)]
        else:
            domain += [("phone_mobile_search", "=", value)]
        partners = self.sudo().search(domain, order="wechat_is_member desc, id desc", limit=POS_FIND_LIMIT)
        result = self.browse(partners.ids)._wechat_pos_read(config)
        result["wechat_bind_method"] = "static_code_confirmed" if kind == "code" else "phone_confirmed"
        return result

    @api.model
    def _wechat_pos_phone_contacts(self, config, phone):
        return self.sudo().search(
            [("company_id", "in", [config.company_id.id, False]), ("phone_mobile_search", "=", phone)],
            order="wechat_is_member desc, wechat_member_code, id",
        )

    @api.model
    def wechat_pos_create_member(self, config_id, phone, name=None):
        """Quick "new member from phone" at the till: a new contact with this phone and a member code.

        A contact of the company with this phone already is never adopted
        silently: no record is returned, only ``wechat_existing`` (the masked
        name and the last 4 phone digits).  Binding it needs the customer's
        proof: their dynamic member code (``wechat_pos_bind_phone``).
        """
        config = self._wechat_pos_config(config_id)
        kind, value = self._wechat_normalize_query(phone)
        if kind != "phone":
            raise UserError(_("Enter the customer's mobile phone number (digits only) to create a member."))
        existing = self._wechat_pos_phone_contacts(config, value)[:1]
        if existing:
            return {"res.partner": [], "wechat_existing": existing._wechat_masked()}
        name = " ".join(str(name or "").split())[:128]
        # Like a member created by a payment: the input is checked, the company is the POS's.
        partner = (
            self.sudo()
            .with_company(config.company_id)
            .create(
                {
                    "name": name or _("Member %(phone)s", phone=value),
                    "phone": value,
                    "company_id": config.company_id.id,
                }
            )
        )
        partner = self.browse(partner.ids)
        partner._wechat_ensure_member_code()
        return partner._wechat_pos_bound(config, "phone_confirmed")

    @api.model
    def wechat_pos_bind_phone(self, config_id, phone, code):
        """Verified binding of the existing contact with ``phone``: ``code`` is the customer's dynamic code.

        The WeChat member of the code proves who the customer is.  A
        phone-only contact (member code or history, no WeChat identity) is
        merged with the member's own contact into one: the phone contact
        survives with its purchases, points and coupons.  A phone of another
        WeChat member is refused.  Returns the records as
        ``wechat_pos_find_member`` does, or ``wechat_error``.
        """
        config = self._wechat_pos_config(config_id)
        kind, value = self._wechat_normalize_query(phone)
        if kind != "phone":
            raise UserError(_("Enter the customer's mobile phone number (digits only) to create a member."))
        member, error = self._wechat_dynamic_member(config, code)
        if error:
            return {"res.partner": [], "wechat_error": error}
        contacts = self._wechat_pos_phone_contacts(config, value)
        mine = member.partner_id
        if not contacts or mine in contacts:
            return self.browse(mine.ids)._wechat_pos_bound(config, "dynamic_code")
        contact = contacts[0]
        if contact.wechat_member_ids:
            return {
                "res.partner": [],
                "wechat_error": _(
                    "This phone number belongs to another WeChat member: it cannot be bound to this" " customer."
                ),
            }
        self.env["base.partner.merge.automatic.wizard"].sudo()._merge(
            [mine.id, contact.id], dst_partner=contact, extra_checks=False
        )
        contact._wechat_ensure_member_code()
        return self.browse(contact.ids)._wechat_pos_bound(config, "dynamic_code")
