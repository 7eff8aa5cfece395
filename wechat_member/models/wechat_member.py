import logging
import re
import threading
import time
import zlib
from collections import defaultdict
from datetime import timedelta

from markupsafe import Markup
from psycopg2 import errors

from odoo import Command, _, api, fields, models, modules
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, consteq, mute_logger
from odoo.tools.misc import format_datetime
from odoo.tools.misc import hmac as hmac_sign

from ..tools.geo import geo_point
from ..tools.orm import cache_inserted_row
from ..tools.wechat_api import WeChatError
from .wechat_notice import CS_EVENT_LIMIT, CS_EVENT_WINDOW, CS_MESSAGE_LIMIT, CS_MESSAGE_WINDOW
from .wechat_tag import MAX_TAGS_PER_MEMBER

_logger = logging.getLogger(__name__)

MEMBER_STATES = [
    ("follower", "Follower"),
    ("unfollowed", "Unfollowed"),
    ("payer", "Payer, not follower"),
    ("visitor", "Page visitor"),
]
# Interactions that open a customer-service grant (since June 2023): a member's own message
# (5 within 48 h), a follow, a QR scan or a menu click (3 within 1 minute). VIEW and payments: none.
CS_GRANT_MESSAGE = "message"
CS_GRANT_EVENT = "event"
# The fields of each customer-service grant: when it was opened, how many messages of it were sent.
GRANT_FIELDS = {
    CS_GRANT_MESSAGE: ("cs_message_at", "cs_message_used"),
    CS_GRANT_EVENT: ("cs_event_at", "cs_event_used"),
}
# Who the member is: written by server code only (``sudo()``), after its own checks (webhook, OAuth,
# WeChat Pay answer, ...), never through RPC: a forged openid or partner would reach another member's
# points, coupons and money.
IDENTITY_FIELDS = ("openid", "unionid", "account_id", "partner_id", "state")

# The dynamic member code of the member page: "WD" + 8 signed digits + the time slot (4 digits) + the member id.
# It changes every DYNAMIC_CODE_STEP seconds; the till accepts the code of the current and the previous slot
# (so a code lives at most 2 slots = 120 s) and refuses an older one (a screenshot).
DYNAMIC_CODE_STEP = 60
DYNAMIC_CODE_SLOTS = 2
DYNAMIC_CODE_CYCLE = 10000  # slots kept in the code: about a week
DYNAMIC_CODE_RE = re.compile(r"^WD(\d{8})(\d{4})(\d{1,12})$")
# New followers' profiles (unionid, subscribe scene) are fetched this long after the follow, by one run of the
# user-info cron for all the follows of that moment: a follow neither plans a run of its own nor wakes the cron
# workers (a connection to the ``postgres`` database per request).
FETCH_INFO_DELAY = timedelta(seconds=30)
# Contacts of members inserted without one (follows) created at once, at most.
CONTACT_BATCH = 1000
# dbname -> until when a user-info cron run is planned, as this worker last saw (_trigger_fetch_user_info).
_fetch_info_planned = {}


def _now():
    """The clock of the dynamic codes (UNIX time; tests patch it)."""
    return time.time()


# The note Discuss adds to a reply sent as a notice (``discuss.channel.wechat_send_as_notice``).
SENT_AS_RE = re.compile(r'<p><small class="o_wechat_sent_as">.*?</small></p>', re.S)


class WeChatMember(models.Model):
    _name = "wechat.member"
    _description = "WeChat Member"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _rec_names_search = ["partner_id", "openid", "member_code", "phone"]
    _check_company_auto = True

    account_id = fields.Many2one("wechat.account", required=True, ondelete="restrict", index=True, check_company=True)
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    openid = fields.Char("OpenID", required=True, readonly=True, copy=False)
    unionid = fields.Char("UnionID", index="btree_not_null", readonly=True, copy=False)
    # Every member has its contact; a follower's is created when the member is first read, not in the
    # follow itself (WeChat's 5 seconds; most followers are read again only by the profile cron, in batch):
    # see ``_fetch_query``.
    partner_id = fields.Many2one("res.partner", string="Contact", ondelete="restrict", index=True, tracking=True)
    name = fields.Char(related="partner_id.name", readonly=False)
    member_code = fields.Char(related="partner_id.wechat_member_code")
    phone = fields.Char(related="partner_id.phone", readonly=False)
    city = fields.Char(related="partner_id.city", readonly=False)
    birthday = fields.Date(related="partner_id.wechat_birthday", readonly=False)
    gender = fields.Selection(related="partner_id.wechat_gender", readonly=False)
    state = fields.Selection(MEMBER_STATES, default="follower", required=True, tracking=True, index=True)
    subscribe_date = fields.Datetime("Followed On", readonly=True)
    unsubscribe_date = fields.Datetime("Unfollowed On", readonly=True)
    last_interaction = fields.Datetime(readonly=True, help="Last message, menu click, scan, follow or payment.")
    # Where the member last was, as WeChat told (a location sent, picked from the menu, or reported when
    # entering the chat): the stores page sorts the stores by distance from it.  Personal data: managers only.
    last_latitude = fields.Float(
        "Last Latitude", digits=(10, 6), readonly=True, groups="wechat_member.group_wechat_manager"
    )
    last_longitude = fields.Float(
        "Last Longitude", digits=(10, 6), readonly=True, groups="wechat_member.group_wechat_manager"
    )
    last_location_at = fields.Datetime("Last Location On", readonly=True, groups="wechat_member.group_wechat_manager")
    # The customer-service quota WeChat grants, kept from the events received (like WeChat does).
    cs_message_at = fields.Datetime(
        "Last Message",
        readonly=True,
        copy=False,
        help="The member's last own message: 5 customer-service messages within 48 h.",
    )
    cs_message_used = fields.Integer(readonly=True, copy=False)
    cs_event_at = fields.Datetime(
        "Last Follow/Scan/Click",
        readonly=True,
        copy=False,
        help="Follow, QR scan or menu click: 3 customer-service messages within 1 minute.",
    )
    cs_event_used = fields.Integer(readonly=True, copy=False)
    notice_ids = fields.One2many("wechat.notice", "member_id", string="Notices", readonly=True)
    notice_count = fields.Integer(compute="_compute_notice_count")
    subscribe_scene = fields.Char(readonly=True, help="WeChat's subscribe_scene, e.g. ADD_SCENE_QR_CODE.")
    qr_scene = fields.Char("QR Scene", readonly=True)
    channel_id = fields.Many2one(
        "wechat.qr.channel",
        string="Source Channel",
        readonly=True,
        index=True,
        ondelete="set null",
        help="The QR channel through which the member first came.",
    )
    store_id = fields.Many2one(
        related="channel_id.pos_config_id",
        string="Source Store",
        store=True,
        index=True,
        help="The store whose QR code brought the member.",
    )
    tag_ids = fields.Many2many("wechat.tag", "wechat_member_tag_rel", "member_id", "tag_id", string="Tags")
    info_state = fields.Selection(
        [("pending", "Pending"), ("done", "Fetched"), ("failed", "Failed")],
        string="WeChat Profile",
        default="pending",
        readonly=True,
        index=True,
    )
    # Statistics live on the contact (one person, several accounts).
    purchase_count = fields.Integer(related="partner_id.wechat_purchase_count")
    purchase_amount = fields.Float(related="partner_id.wechat_purchase_amount")
    last_purchase = fields.Datetime(related="partner_id.wechat_last_purchase")
    activity_state = fields.Selection(related="partner_id.wechat_activity_state", store=True)
    in_service_window = fields.Boolean(
        "Customer-Service Quota",
        compute="_compute_in_service_window",
        help="WeChat allows a customer-service message to this member now.",
    )
    cs_quota_text = fields.Char("Customer-Service Quota Left", compute="_compute_in_service_window")
    cs_channel_id = fields.Many2one(
        "discuss.channel",
        string="Conversation",
        compute="_compute_cs_channel_id",
        groups="wechat_member.group_wechat_customer_service",
    )

    _sql_constraints = [
        ("account_openid_uniq", "UNIQUE(account_id, openid)", "This openid is already a member of this account."),
    ]

    @api.constrains("tag_ids")
    def _check_tag_count(self):
        for member in self:
            if len(member.tag_ids) > MAX_TAGS_PER_MEMBER:
                raise ValidationError(
                    _(
                        "%(member)s would have more than %(max)s tags, WeChat's limit.",
                        member=member.display_name,
                        max=MAX_TAGS_PER_MEMBER,
                    )
                )

    @api.depends("partner_id.name", "openid")
    def _compute_display_name(self):
        for member in self:
            member.display_name = member.partner_id.name or member.openid

    @api.depends("cs_message_at", "cs_message_used", "cs_event_at", "cs_event_used", "state")
    def _compute_in_service_window(self):
        for member in self:
            left, until = member._cs_quota()
            member.in_service_window = bool(left)
            member.cs_quota_text = (
                _("%(count)s until %(date)s", count=left, date=format_datetime(self.env, until, dt_format="short"))
                if left
                else _("none")
            )

    def _compute_cs_channel_id(self):
        channels = self.env["discuss.channel"].search([("wechat_member_id", "in", self.ids)])
        by_member = {c.wechat_member_id.id: c for c in channels}
        for member in self:
            member.cs_channel_id = by_member.get(member.id, False)

    def _compute_notice_count(self):
        counts = dict(
            self.env["wechat.notice"]._read_group([("member_id", "in", self.ids)], ["member_id"], ["__count"])
        )
        for member in self:
            member.notice_count = counts.get(member, 0)

    # ------------------------------------------------------------------ dynamic member code
    def _dynamic_digits(self, slot):
        self.ensure_one()
        digest = hmac_sign(self.env(su=True), "wechat-member-dynamic-code", f"{self.id}:{slot}")
        return f"{int(digest[:15], 16) % 10**8:08d}"

    def _dynamic_code(self, at=None):
        """The member's dynamic code at ``at`` (a UNIX time, default now): shown on the member page."""
        self.ensure_one()
        slot = int((_now() if at is None else at) // DYNAMIC_CODE_STEP)
        return f"WD{self._dynamic_digits(slot)}{slot % DYNAMIC_CODE_CYCLE:04d}{self.id}"

    @api.model
    def _dynamic_code_expires_in(self, at=None):
        """Seconds until the code shown now changes."""
        now = _now() if at is None else at
        return DYNAMIC_CODE_STEP - int(now) % DYNAMIC_CODE_STEP

    @api.model
    def _check_dynamic_code(self, code, at=None):
        """``(member, None)`` for a valid dynamic code, else ``(member or None, "expired" | "invalid")``.

        The slot is the most recent one (within a few weeks) with the code's
        last 4 slot digits whose signature matches; a code older than
        ``DYNAMIC_CODE_SLOTS`` slots is "expired".
        """
        match = DYNAMIC_CODE_RE.match(" ".join(str(code or "").split()).replace(" ", "").upper())
        if not match:
            return None, "invalid"
        digits, residue, member_id = match.groups()
        member = self.sudo().browse(int(member_id)).exists()
        if not member:
            return None, "invalid"
        now_slot = int((_now() if at is None else at) // DYNAMIC_CODE_STEP)
        # One slot ahead is tolerated (the phone's clock does not matter, but the request may cross a slot).
        slot = now_slot + 1 - (now_slot + 1 - int(residue)) % DYNAMIC_CODE_CYCLE
        for cycle in range(5):
            candidate = slot - cycle * DYNAMIC_CODE_CYCLE
            if consteq(digits, member._dynamic_digits(candidate)):
                if now_slot - candidate >= DYNAMIC_CODE_SLOTS:
                    return member, "expired"
                return member, None
        return member, "invalid"

    # ------------------------------------------------------------------ identity
    def _check_identity_write(self, fields_):
        """Refuse identity fields outside server code (``sudo()``)."""
        forbidden = sorted(set(fields_) & set(IDENTITY_FIELDS))
        if forbidden and not self.env.su:
            raise AccessError(
                _(
                    "The WeChat identity of a member (%(fields)s) is set by WeChat itself, through the server: "
                    "it cannot be entered or changed by hand.",
                    fields=", ".join(forbidden),
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_identity_write(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._check_identity_write(vals)
        return super().write(vals)

    @api.model
    def _lock_identity(self, account, openid):
        """Serialise work on one (account, openid) across workers for this transaction."""
        self.env.cr.execute("SELECT pg_advisory_xact_lock(%s, %s)", [account.id, zlib.crc32(openid.encode()) - 2**31])

    def _fetch_query(self, query, fields):
        """The members as read, every one with its contact: a member inserted without one (a follow) gets
        it here, when it is first read, with the other members of that read (one batch)."""
        fetched = super()._fetch_query(query, fields)
        if self._fields["partner_id"] in fields:
            pending = fetched.filtered(lambda member: not member.partner_id)
            if pending:
                pending.sudo()._create_contacts()
        return fetched

    @api.model
    def _create_missing_contacts(self, domain=()):
        """Create the contacts the members of ``domain`` still lack (followers of a moment ago), before SQL
        reads the members' ``partner_id`` column (an ORM read creates them itself)."""
        pending = self.sudo().search([*domain, ("partner_id", "=", False)], order="id")
        for start in range(0, len(pending), CONTACT_BATCH):
            pending[start : start + CONTACT_BATCH]._create_contacts()
        return True

    def _create_contacts(self):
        """Create the contacts of these members, inserted without one (server code).

        The rows are locked and read in SQL (an ORM read of a member without
        contact would create it again): a member another transaction gave its
        contact meanwhile keeps that one (READ COMMITTED: the webhook), or
        this transaction is retried (a serialization failure).
        """
        self.env.cr.execute(
            SQL(
                "SELECT id, partner_id, account_id, openid FROM wechat_member WHERE id = ANY(%s)"
                " ORDER BY id FOR NO KEY UPDATE",
                self.ids,
            ),
            log_exceptions=False,  # a serialization failure is retried, not a bad query
        )
        rows = self.env.cr.fetchall()
        contacts = {member_id: partner_id for member_id, partner_id, __, __ in rows}
        todo = defaultdict(list)  # account id -> [(member id, openid)] of the members without contact
        for member_id, partner_id, account_id, openid in rows:
            if not partner_id:
                todo[account_id].append((member_id, openid))
        new_partners = self.env["res.partner"]
        for account_id, members in todo.items():
            account = self.env["wechat.account"].sudo().browse(account_id)
            partners = self._new_member_partners(account, [openid for __, openid in members])
            member_ids = [member_id for member_id, __ in members]
            contacts.update(zip(member_ids, partners.ids, strict=True))
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE wechat_member m SET partner_id = t.partner_id
                      FROM unnest(%s::int[], %s::int[]) AS t(id, partner_id)
                     WHERE m.id = t.id
                    """,
                    member_ids,
                    partners.ids,
                )
            )
            new_partners |= partners
        self.env.cache.update(self.browse(contacts), self._fields["partner_id"], list(contacts.values()))
        if todo:
            new_partners.invalidate_recordset(["wechat_member_ids"])
            new_partners.modified(["wechat_member_ids"])
            self.browse(member_id for members in todo.values() for member_id, __ in members).modified(["partner_id"])
        return True

    def _with_contacts(self):
        """These members, their contacts created; without those another transaction gave a contact after
        this one's snapshot (REPEATABLE READ: a cron), which this one cannot read: the next run reads them."""
        self.env.flush_all()
        self.env.cr.execute("SELECT id FROM wechat_member WHERE id = ANY(%s) AND partner_id IS NULL", [self.ids])
        pending = [row[0] for row in self.env.cr.fetchall()]
        skipped = set()
        if pending:
            try:
                with self.env.cr.savepoint():
                    self.browse(pending)._create_contacts()
            except (errors.SerializationFailure, errors.LockNotAvailable):
                for member_id in pending:  # one of them changed meanwhile: the others one by one
                    try:
                        with self.env.cr.savepoint():
                            self.browse(member_id)._create_contacts()
                    except (errors.SerializationFailure, errors.LockNotAvailable):
                        skipped.add(member_id)
        if skipped:
            _logger.info("WeChat members %s given a contact meanwhile: read again by the next run", sorted(skipped))
        # A new recordset: its prefetching reads none of the skipped members.
        return self.browse([member_id for member_id in self.ids if member_id not in skipped])

    @api.model
    def _get_or_create(self, account, openid, state="follower", partner=None, values=None, defer_contact=False):
        """The member of ``openid`` on ``account``, created once whatever the concurrency.

        Under an advisory lock per (account, openid); the row itself is
        inserted with ``ON CONFLICT DO NOTHING``: in a transaction that
        cannot see a member another one just committed, PostgreSQL raises a
        serialization failure and Odoo retries the request, so two workers
        never create two members.  ``values``: more fields of a member this
        call creates, in its INSERT.  ``defer_contact``: a member this call
        creates gets its contact when it is first read (``_fetch_query``),
        not now (a follow: WeChat waits 5 seconds).  Returns ``(member, created)``.
        """
        account.ensure_one()
        if not openid or len(openid) > 64:
            raise UserError(_("Invalid openid."))
        self._lock_identity(account, openid)
        member = (
            self.sudo()
            .with_context(active_test=False)
            .search([("account_id", "=", account.id), ("openid", "=", openid)], limit=1)
        )
        if member:
            return member, False
        if partner is None:
            partner = self.env["res.partner"] if defer_contact else self._new_member_partners(account, [openid])
        partner._wechat_ensure_member_code()
        ids = self._insert_members(
            account,
            [openid],
            [partner.id or None],
            state=state,
            activity_states=[partner.wechat_activity_state or "to_activate"],
            values=values,
            cache=True,
        )
        if not ids:  # visible conflict: same transaction created it meanwhile
            return self.sudo().search([("account_id", "=", account.id), ("openid", "=", openid)], limit=1), False
        member = self.sudo().browse(ids[0])
        partner.invalidate_recordset(["wechat_member_ids"])
        partner.modified(["wechat_member_ids"])
        return member, True

    @api.model
    def _new_member_partners(self, account, openids):
        """The contacts of new members of ``account``, named after their ``openid`` until the members say more."""
        # Created by the webhook, in WeChat's 5 seconds, or in batch when the members are first read: no
        # "contact created" log nor tracking (as the followers import), and the member codes in the INSERT.
        # In the account's company: its company-dependent defaults (receivable account, stock locations), and
        # no read of the webhook user for ``env.company``.
        Partner = (
            self.env["res.partner"]
            .sudo()
            .with_company(account.company_id)
            .with_context(tracking_disable=True, mail_create_nolog=True)
        )
        # The shop's time zone, not the webhook user's (OdooBot's is the installer's: Europe/Brussels).
        tz = account.company_id._wechat_tz().zone
        codes = Partner._wechat_new_member_codes(len(openids))
        name = _("WeChat member %(suffix)s")  # translated once for the batch
        return Partner.create(
            [
                {
                    "name": name % {"suffix": openid[-6:]},
                    "company_id": account.company_id.id,
                    "tz": tz,
                    "wechat_member_code": code,
                }
                for openid, code in zip(openids, codes, strict=True)
            ]
        )

    @api.model
    def _insert_members(
        self, account, openids, partner_ids, state="follower", activity_states=None, now=None, values=None, cache=False
    ):
        """Insert the members of ``openids`` (contacts ``partner_ids``, None: created when the member is
        first read) on ``account``; the new ids.

        One raw INSERT for any number of members (no ORM create, no
        tracking); an openid that already has a member is skipped (``ON
        CONFLICT DO NOTHING``).  ``activity_states``: the contacts' activity
        state, one per openid (default ``to_activate``); ``now``: the
        creation date (default now); ``values``: more stored fields of every
        new member, in the INSERT (the fields computed from them are
        recomputed by the ORM); ``cache``: put the new rows in the cache (a
        member the request goes on with), else the caller invalidates the
        caches.
        """
        now = now or fields.Datetime.now()
        if activity_states is None:
            activity_states = ["to_activate"] * len(openids)
        extra = {}
        for fname, value in (values or {}).items():
            field = self._fields[fname]
            if not field.store or field.type in ("one2many", "many2many", "binary") or field.translate:
                raise ValueError(f"wechat.member._insert_members: {fname} is not a column")
            extra[fname] = field.convert_to_column_insert(value, self)
        self.env.flush_all()
        columns = SQL(", ").join(SQL.identifier(fname) for fname in extra)
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO wechat_member (account_id, company_id, openid, partner_id, state, info_state,
                                           activity_state, create_uid, write_uid, create_date, write_date%s)
                SELECT %s, %s, t.openid, t.partner_id, %s, 'pending', t.activity_state, %s, %s, %s, %s%s
                  FROM unnest(%s::varchar[], %s::int[], %s::varchar[]) AS t(openid, partner_id, activity_state)
                ON CONFLICT (account_id, openid) DO NOTHING
                RETURNING id, openid
                """,
                SQL(", %s", columns) if extra else SQL(),
                account.id,
                account.company_id.id,
                state,
                self.env.uid,
                self.env.uid,
                now,
                now,
                SQL(", %s", SQL(", ").join(extra.values())) if extra else SQL(),
                list(openids),
                list(partner_ids),
                list(activity_states),
            )
        )
        rows = self.env.cr.fetchall()
        ids = [row[0] for row in rows]
        if cache:
            # A member without a contact is left to a read: reading it creates the contact (``_fetch_query``).
            inserted = {o: (p, a) for o, p, a in zip(openids, partner_ids, activity_states, strict=True)}
            common = {
                "account_id": account.id,
                "company_id": account.company_id.id,
                "state": state,
                "info_state": "pending",
                "create_uid": self.env.uid,
                "write_uid": self.env.uid,
                "create_date": now,
                "write_date": now,
                **(values or {}),
            }
            for member_id, openid in rows:
                partner_id, activity_state = inserted[openid]
                row = dict(common, openid=openid, partner_id=partner_id, activity_state=activity_state)
                cache_inserted_row(self.browse(member_id), row, skip=() if partner_id else ("partner_id",))
        if extra and ids:
            # What depends on these fields (the source store of a QR channel, ...) is computed by the ORM.
            self.browse(ids).modified(list(extra), create=True)
        return ids

    @api.model
    def _bulk_create(self, account, openids, batch_size=1000):
        """Members for the ``openids`` that have none yet; returns how many were created."""
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT openid FROM wechat_member WHERE account_id = %s AND openid = ANY(%s)", [account.id, list(openids)]
        )
        known = {row[0] for row in self.env.cr.fetchall()}
        new = list(dict.fromkeys(o for o in openids if o and o not in known))
        Partner = self.env["res.partner"].sudo().with_context(tracking_disable=True, mail_create_nolog=True)
        now = fields.Datetime.now()
        # Translated here: ``_()`` inside the list comprehension below finds no language (its own frame, Python
        # < 3.12) and logs a warning per member outside an HTTP request (crons, shell).
        name = _("WeChat member %(suffix)s")
        for start in range(0, len(new), batch_size):
            batch = new[start : start + batch_size]
            codes = Partner._wechat_new_member_codes(len(batch))
            partners = Partner.create(
                [
                    {"name": name % {"suffix": o[-6:]}, "company_id": account.company_id.id, "wechat_member_code": code}
                    for o, code in zip(batch, codes, strict=True)
                ]
            )
            self._insert_members(account, batch, partners.ids, now=now)
            partners.invalidate_recordset(["wechat_member_ids"])
            partners.modified(["wechat_member_ids"])
        self.invalidate_model()
        return len(new)

    @api.model
    def _touch_values(self, when, grant=None):
        """What an interaction at ``when`` sets on a new member (see ``_touch``)."""
        vals = {"last_interaction": when}
        stamp, used = GRANT_FIELDS.get(grant, (None, None))
        if stamp:
            vals.update({stamp: when, used: 0})
        return vals

    def _touch(self, when=None, grant=None):
        """Record an interaction; ``grant`` ("message" or "event") opens WeChat's customer-service quota.

        ``when`` is WeChat's time of the interaction (the event's
        CreateTime): a follow received late opens no more than WeChat did.
        """
        when = when or fields.Datetime.now()
        for member in self.sudo():
            vals = {}
            if not member.last_interaction or member.last_interaction < when:
                vals["last_interaction"] = when
            # Only a newer interaction opens a grant: an event retried or received out of order never
            # gives back quota already used, nor replaces a newer grant.
            stamp, used = GRANT_FIELDS.get(grant, (None, None))
            if stamp and (not member[stamp] or member[stamp] < when):
                vals.update({stamp: when, used: 0})
            if vals:
                member.write(vals)
            if stamp in vals:
                # A conversation's header shows the quota: a new grant opens it again.
                self.env["discuss.channel"].sudo().search(
                    [("wechat_member_id", "=", member.id)]
                )._wechat_update_status()

    def _set_location(self, latitude, longitude, when=None):
        """Keep the member's location (WeChat's texts ``latitude``, ``longitude``); ``(lat, lng)`` as floats,
        or None when they are not a point on Earth."""
        self.ensure_one()
        point = geo_point(latitude, longitude)
        if not point:
            return None
        member = self.sudo()
        when = when or fields.Datetime.now()
        if not member.last_location_at or member.last_location_at <= when:
            member.write({"last_latitude": point[0], "last_longitude": point[1], "last_location_at": when})
        return point

    @api.model
    def _from_oauth(self, account, openid, unionid=None):
        """The member a web-page OAuth names (a "page visitor" if new), with the unionid WeChat gave.

        A unionid seen for the first time links the member to the same
        person's other accounts (``_link_same_person``).  Returns
        ``(member, created)``.
        """
        member, created = self._get_or_create(account, openid, state="visitor")
        if unionid and not member.unionid:
            member.unionid = unionid
            member._link_same_person()
        return member, created

    # ------------------------------------------------------------------ customer-service quota
    def _cs_quota(self, now=None):
        """``(messages left, until when)``: the larger of the open grants, not their sum."""
        self.ensure_one()
        now = now or fields.Datetime.now()
        best = (0, None)
        grants = (
            (self.cs_message_at, CS_MESSAGE_WINDOW, CS_MESSAGE_LIMIT - self.cs_message_used),
            (self.cs_event_at, CS_EVENT_WINDOW, CS_EVENT_LIMIT - self.cs_event_used),
        )
        for opened, window, left in grants:
            if opened and opened + window > now and left > best[0]:
                best = (left, opened + window)
        return best if self.state == "follower" else (0, None)

    def _cs_quota_left(self):
        return self._cs_quota()[0]

    def _cs_consume(self):
        """One customer-service message sent: it counts against every open grant."""
        self.ensure_one()
        now = fields.Datetime.now()
        self.env.flush_all()
        self.env.cr.execute(
            """
            UPDATE wechat_member
               SET cs_message_used = cs_message_used + CASE WHEN cs_message_at > %s THEN 1 ELSE 0 END,
                   cs_event_used = cs_event_used + CASE WHEN cs_event_at > %s THEN 1 ELSE 0 END
             WHERE id = %s
            """,
            [now - CS_MESSAGE_WINDOW, now - CS_EVENT_WINDOW, self.id],
        )
        self.invalidate_recordset(["cs_message_used", "cs_event_used"])

    def _cs_close(self):
        """WeChat says there is no quota (45015/45047): believe it until the member's next interaction."""
        self.sudo().write({"cs_message_used": CS_MESSAGE_LIMIT, "cs_event_used": CS_EVENT_LIMIT})

    def _take_optin(self, template_id):
        """Claim one of the member's available opt-ins for ``template_id`` (under a row lock), or None."""
        self.ensure_one()
        self.env.flush_all()
        self.env.cr.execute(
            """
            UPDATE wechat_notice_optin SET state = 'used', used_date = now() at time zone 'UTC'
             WHERE id = (SELECT id FROM wechat_notice_optin
                          WHERE member_id = %s AND template_id = %s AND state = 'available'
                          ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING id
            """,
            [self.id, template_id],
        )
        row = self.env.cr.fetchone()
        Optin = self.env["wechat.notice.optin"].sudo()
        Optin.invalidate_model(["state", "used_date"])
        return Optin.browse(row[0]) if row else None

    # ------------------------------------------------------------------ customer-service conversations
    def _cs_channel(self):
        """The member's conversation in Discuss (a ``discuss.channel``), created on first use."""
        self.ensure_one()
        Channel = self.env["discuss.channel"].sudo()
        channel = Channel.search([("wechat_member_id", "=", self.id)], limit=1)
        if channel:
            return channel
        # One conversation per member: a parallel first message waits for this one.
        self.env.cr.execute("SELECT id FROM wechat_member WHERE id = %s FOR UPDATE", [self.id])
        channel = Channel.search([("wechat_member_id", "=", self.id)], limit=1)
        if channel:
            return channel
        store = self._cs_store()
        agents = self._cs_agents(store)
        channel = Channel.create(
            {
                "name": self._cs_channel_name(),
                "channel_type": "channel",
                "group_public_id": self.env.ref("wechat_member.group_wechat_customer_service").id,
                "wechat_member_id": self.id,
                "wechat_store_id": store.id,
                "channel_member_ids": [Command.create({"partner_id": pid}) for pid in agents.partner_id.ids],
            }
        )
        # Discuss makes the creating user (the webhook's superuser) a member too: only the agents are.
        channel.channel_member_ids.filtered(lambda m: m.partner_id not in agents.partner_id).unlink()
        return channel

    def _cs_channel_name(self):
        return _("WeChat: %(member)s", member=self.display_name)

    def _cs_store(self):
        """The store whose staff answers the member first: the store of their QR channel, else their last
        purchase's point of sale."""
        self.ensure_one()
        if self.store_id:
            return self.store_id
        order = (
            self.env["pos.order"]
            .sudo()
            .search(
                [("partner_id", "=", self.partner_id.id), ("company_id", "=", self.company_id.id)],
                order="date_order desc, id desc",
                limit=1,
            )
        )
        return order.config_id

    def _cs_agents(self, store=None):
        """The users who answer the member: the store's customer-service staff, else the whole group (of the
        member's company)."""
        self.ensure_one()
        group = self.env.ref("wechat_member.group_wechat_customer_service")
        users = group.sudo().users.filtered(lambda u: self.company_id in u.company_ids and u.active)
        if store:
            staff = store.sudo().wechat_cs_user_ids & users
            if staff:
                return staff
        return users

    def _cs_post_inbound(self, event, msg):
        """Post the member's message ``msg`` (of ``event``) in their conversation, once per event."""
        self.ensure_one()
        if event.cs_message_id:
            return event.cs_message_id
        channel = self._cs_channel()
        lang = self.account_id.company_id.partner_id.lang or self.env.lang
        body, attachments = event.with_context(lang=lang)._cs_body(msg, channel)
        message = channel.with_context(mail_create_nosubscribe=True).message_post(
            author_id=self.partner_id.id,
            body=body,
            attachment_ids=attachments.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        event.cs_message_id = message
        vals = {}
        if not channel.wechat_waiting_since:
            vals.update(wechat_waiting_since=fields.Datetime.now(), wechat_reminded=False)
        if vals:
            channel.write(vals)
        channel._wechat_update_status()
        return message

    def _cs_tz(self):
        """Quota dates are shown in the shop's time zone (the conversation's header is the same for every agent)."""
        return self.account_id.company_id._wechat_tz().zone

    def _cs_status_text(self):
        """One line on the quota left, shown in the conversation's header."""
        self.ensure_one()
        left, until = self._cs_quota()
        if left:
            return _(
                "WeChat customer service: %(left)s message(s) left until %(until)s.",
                left=left,
                until=format_datetime(self.env, until, tz=self._cs_tz(), dt_format="short"),
            )
        return _("WeChat customer service: closed. Send a notice (template or subscribe notice) instead.")

    def _cs_refusal_reason(self, needed=1):
        """Why a reply of ``needed`` customer-service messages cannot go out now."""
        self.ensure_one()
        hint = _(
            "Send a transactional template or subscribe notice through the notice router instead, or wait for "
            "the member's next message."
        )
        if self.state != "follower":
            return _("The member does not follow the WeChat account: no customer-service message is allowed.") + (
                " " + hint
            )
        left, until = self._cs_quota()
        now = fields.Datetime.now()
        if not self.cs_message_at or self.cs_message_at + CS_MESSAGE_WINDOW <= now:
            if not self.cs_message_at:
                reason = _("The member has never written: no customer-service window is open.")
            else:
                reason = _(
                    "The 48-hour window closed on %(closed)s (the member's last message: %(last)s).",
                    closed=format_datetime(
                        self.env, self.cs_message_at + CS_MESSAGE_WINDOW, tz=self._cs_tz(), dt_format="short"
                    ),
                    last=format_datetime(self.env, self.cs_message_at, tz=self._cs_tz(), dt_format="short"),
                )
        elif left:
            reason = _(
                "This reply needs %(needed)s customer-service messages; %(left)s left until %(until)s.",
                needed=needed,
                left=left,
                until=format_datetime(self.env, until, tz=self._cs_tz(), dt_format="short"),
            )
        else:
            reason = _(
                "The %(limit)s customer-service messages allowed after the member's last message are used "
                "(%(used)s/%(limit)s, window open until %(until)s).",
                limit=CS_MESSAGE_LIMIT,
                used=min(self.cs_message_used, CS_MESSAGE_LIMIT),
                until=format_datetime(
                    self.env, self.cs_message_at + CS_MESSAGE_WINDOW, tz=self._cs_tz(), dt_format="short"
                ),
            )
        return reason + " " + hint

    def _cs_member_card(self):
        """What the agent sees of the member beside the conversation (other modules add their lines)."""
        self.ensure_one()
        member = self.sudo()
        partner = member.partner_id
        orders = (
            self.env["pos.order"]
            .sudo()
            .search([("partner_id", "=", partner.id), ("state", "!=", "cancel")], order="date_order desc", limit=3)
        )
        left, until = member._cs_quota()
        activity = dict(partner._fields["wechat_activity_state"]._description_selection(self.env))
        return {
            "id": member.id,
            "name": member.display_name,
            "member_code": member.member_code or "",
            "activity": activity.get(partner.wechat_activity_state, ""),
            "purchase_count": partner.wechat_purchase_count,
            "quota_left": left,
            "quota_until": format_datetime(self.env, until, dt_format="short") if until else "",
            "status": member._cs_status_text(),
            "last_purchases": [
                {
                    "name": order.name,
                    "date": format_datetime(self.env, order.date_order, dt_format="short"),
                    "amount": order.currency_id.format(order.amount_total),
                    "store": order.config_id.name,
                }
                for order in orders
            ],
            "lines": [],  # [{"label": ..., "value": ...}]: points, coupons, level (wechat_coupon)
            "links": [{"key": link["key"], "label": link["label"]} for link in self._cs_links()],
        }

    def _cs_links(self):
        """What an agent sends the member from the conversation, with one click: a list of ``key``, ``label``
        (for the agent) and ``text`` (the message, in the member's language).  The member page and the
        account's stores here; ``wechat_coupon`` adds the coupon wallet and the offers the member can claim."""
        self.ensure_one()
        member = self.sudo()
        to_member = member.with_context(lang=member._cs_lang())
        links = [{"key": "member_page", "label": _("Member page"), "text": to_member._cs_text_member_page()}]
        stores = self.env["pos.config"].sudo().search([("wechat_account_id", "=", member.account_id.id)], order="name")
        for store in stores:
            address = store._wechat_store_address()
            if address:
                links.append(
                    {
                        "key": f"store_{store.id}",
                        "label": _("Store: %(name)s", name=store.name),
                        "text": to_member._cs_text_store(
                            store.name, address, store._wechat_store_url() if store.wechat_store_published else ""
                        ),
                    }
                )
        return links

    def _cs_recent_replies(self, limit=5):
        """The shop's last replies in the member's conversation, newest first, for the member page (a notice
        sent instead of a customer-service message links there: the whole answer shows)."""
        self.ensure_one()
        member = self.sudo()
        channel = self.env["discuss.channel"].sudo().search([("wechat_member_id", "=", member.id)], limit=1)
        if not channel:
            return []
        messages = (
            self.env["mail.message"]
            .sudo()
            .search(
                [
                    ("model", "=", "discuss.channel"),
                    ("res_id", "=", channel.id),
                    ("message_type", "=", "comment"),
                    ("author_id", "!=", member.partner_id.id),
                ],
                order="id desc",
                limit=limit,
            )
        )
        tz = member.account_id.company_id._wechat_tz().zone
        return [
            {
                "date": format_datetime(self.env, message.date, tz=tz, dt_format="short"),
                "author": message.author_id.name or "",
                # The agent's note of how it went out ("Sent as Template message.") is for the shop only.
                "body": Markup(SENT_AS_RE.sub("", message.body or "")),
            }
            for message in messages
        ]

    def _cs_lang(self):
        """The language the member is written to in: theirs, else the company's."""
        return self.partner_id.lang or self._cs_shop_lang()

    def _cs_shop_lang(self):
        """The language of what the shop's agents all read of the conversation (its name, its header): the
        company's."""
        return self.account_id.company_id.partner_id.lang or self.env.lang

    def _cs_text_member_page(self):
        return _("Your member page (member code, points, coupons): %(url)s", url=self.account_id._member_page_url())

    def _cs_text_store(self, name, address, url=""):
        text = _("Our store %(name)s: %(address)s", name=name, address=address)
        if url:
            text += "\n" + _("Store page and directions: %(url)s", url=url)
        return text

    def cs_member_card(self):
        """The member card for Discuss's side panel (whoever may read the member)."""
        self.ensure_one()
        self.check_access("read")
        return self._cs_member_card()

    def action_view_cs_channel(self):
        """Open the member's conversation in Discuss."""
        self.ensure_one()
        channel = self.env["discuss.channel"].search([("wechat_member_id", "=", self.id)], limit=1)
        if not channel:
            raise UserError(_("%(member)s has not written to the account yet.", member=self.display_name))
        return {"type": "ir.actions.client", "tag": "mail.action_discuss", "context": {"active_id": channel.id}}

    # ------------------------------------------------------------------ notices
    def _send_service_text(self, text):
        """Send the customer-service ``text`` from a manager to each of these members.

        Routed as a "service message" notice (customer service only, with the
        real quota WeChat grants); every attempt is recorded on the member.
        Returns ``(members sent to, {member: reason})``: the dict holds the
        members WeChat refused; the others, not reached, had no quota.
        """
        outcomes = self._send_notice_now("service_message", {"text": text})
        sent = self.browse([o["member_id"] for o in outcomes if o["state"] == "sent"])
        refused = {self.browse(o["member_id"]): o["reason"] for o in outcomes if o["state"] != "sent" and o["error"]}
        return sent, refused

    def _send_notice_now(self, kind_code, values):
        """Route a notice of ``kind_code`` to each of these members and send it now, for a user who waits
        for the outcome; returns a dict per notice: ``member_id``, ``state``, ``channel``, ``reason``, ``error``.

        The notices are sent in a transaction of their own, committed notice
        by notice (a message WeChat took is never sent again): the user's
        HTTP request commits nothing itself.
        """
        if getattr(threading.current_thread(), "testing", False):  # tests: one transaction, nothing committed
            return self._send_notice_now_in(self.env, kind_code, values)
        with self.env.registry.cursor() as cr:
            return self._send_notice_now_in(self.env(cr=cr), kind_code, values)

    def _send_notice_now_in(self, env, kind_code, values):
        notices = env["wechat.notice"].sudo()._notify(kind_code, self.with_env(env), values, send=False)
        notices._send()
        return [
            {
                "member_id": notice.member_id.id,
                "state": notice.state,
                "channel": notice.channel,
                "reason": notice.reason or "",
                "error": notice.error_code,
            }
            for notice in notices
        ]

    # ------------------------------------------------------------------ WeChat profile
    def _fetch_user_info(self):
        """Fetch unionid, subscribe scene and follow state, 100 members a call."""
        for account in self.account_id:
            members = self.filtered(lambda m, a=account: m.account_id == a)
            by_openid = {m.openid: m for m in members}
            try:
                infos = account._api().user_info_batch(list(by_openid))
            except WeChatError as exc:
                _logger.warning("WeChat account %s: user info failed: %s", account.id, exc.errcode)
                members._write_profiles({member: {"info_state": "failed"} for member in members})
                continue
            profiles = {member: {"info_state": "failed"} for member in members}  # those WeChat did not answer
            for info in infos:
                member = by_openid.get(info.get("openid"))
                if not member:
                    continue
                vals = {"info_state": "done"}
                if info.get("unionid"):
                    vals["unionid"] = info["unionid"]
                if info.get("subscribe_scene"):
                    vals["subscribe_scene"] = info["subscribe_scene"]
                if info.get("qr_scene_str") or info.get("qr_scene"):
                    vals["qr_scene"] = info.get("qr_scene_str") or str(info.get("qr_scene"))
                if str(info.get("subscribe")) == "0" and member.state == "follower":
                    vals["state"] = "unfollowed"
                profiles[member] = vals
            written = members._write_profiles(profiles)
            written.filtered("unionid")._link_same_person()
        return True

    def _write_profiles(self, profiles):
        """Write WeChat's answer (``{member: vals}``, server code); the members written.

        A member the webhook changed while WeChat answered (the member wrote,
        followed again ...) cannot be written by this transaction (a
        serialization failure): that one keeps its profile to fetch, and the
        next run fetches it, instead of the whole job failing.
        """
        written = self.browse()
        for member, vals in profiles.items():
            try:
                with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
                    member.sudo().write(vals)
            except (errors.SerializationFailure, errors.LockNotAvailable):
                _logger.info("WeChat member %s changed meanwhile: its profile is fetched again later", member.id)
                continue
            written |= member
        return written

    def _link_same_person(self):
        """One contact per person: members of one company with the same unionid share one contact.

        WeChat gives the same ``unionid`` to a person on every account of the
        company's open platform.  The member's contact is merged into the
        contact of the other account's member (Odoo's partner merge: orders,
        loyalty cards and members move, statistics add up); the contact with
        a history survives, else the older one.
        """
        Wizard = self.env["base.partner.merge.automatic.wizard"].sudo()
        for member in self.sudo().filtered("unionid"):
            other = self.sudo().search(
                [
                    ("company_id", "=", member.company_id.id),
                    ("unionid", "=", member.unionid),
                    ("id", "!=", member.id),
                    ("partner_id", "!=", member.partner_id.id),
                ],
                order="id",
                limit=1,
            )
            if not other:
                continue
            src, dst = member.partner_id, other.partner_id
            if src._wechat_has_history() and not dst._wechat_has_history():
                src, dst = dst, src
            _logger.info(
                "WeChat members %s and %s: same unionid, contact %s merged into %s", member.id, other.id, src.id, dst.id
            )
            Wizard._merge([src.id, dst.id], dst_partner=dst, extra_checks=False)
            self.invalidate_model(["partner_id"])
        return True

    @api.model
    @api.model
    def _trigger_fetch_user_info(self):
        """Plan the user-info cron in ``FETCH_INFO_DELAY``, unless a run is already planned by then.

        Each worker remembers until when a run is planned (``_fetch_info_planned``): the follows
        until then do not look for triggers again (that run fetches their members too).
        """
        now = fields.Datetime.now()
        dbname = self.env.cr.dbname
        if _fetch_info_planned.get(dbname, now) > now:
            return
        # The cron's id from the (cached) xmlid: the cron itself is read only when a run is planned.
        cron_id = self.env["ir.model.data"]._xmlid_to_res_id("wechat_member.ir_cron_wechat_fetch_user_info")
        if not cron_id:
            return
        at = now + FETCH_INFO_DELAY
        planned = (
            self.env["ir.cron.trigger"]
            .sudo()
            .search_fetch(
                [("cron_id", "=", cron_id), ("call_at", ">", now), ("call_at", "<=", at)],
                ["call_at"],
                order="call_at desc",
                limit=1,
            )
        )
        if planned:
            at = planned.call_at
        else:
            self.env["ir.cron"].sudo().browse(cron_id)._trigger(at)
        if not modules.module.current_test:  # tests roll back their triggers
            # Should this transaction roll back, its trigger is gone: the members of the next
            # FETCH_INFO_DELAY then wait for the cron's own schedule.
            _fetch_info_planned[dbname] = at

    def _cron_fetch_user_info(self, limit=1000):
        domain = [("info_state", "=", "pending"), ("state", "=", "follower")]
        pending = self.search_count(domain)
        # Their contacts first (followers are inserted without: read now, all at once).
        members = self.search(domain, limit=limit, order="id")._with_contacts()
        members._fetch_user_info()
        # Those beyond the limit: ir.cron calls again at once (a member WeChat did not answer waits for the next run).
        self.env["ir.cron"]._notify_progress(done=len(members), remaining=pending - len(members))
        return True

    # ------------------------------------------------------------------ actions
    def action_fetch_user_info(self):
        self.check_access("write")  # managers; the answer itself is written by server code
        self._fetch_user_info()
        return True

    def _wechat_recent_thanks(self, days=7):
        """The thanks of the member's last WeChat Pay purchase of the last ``days`` days, for the member page.

        A payment opens no customer-service window: whatever channel carried
        the "POS thanks" notice (or none), the member page shows it.
        """
        self.ensure_one()
        notice = (
            self.env["wechat.notice"]
            .sudo()
            .search(
                [
                    ("member_id", "=", self.id),
                    ("kind_id.code", "=", "pos_thanks"),
                    ("date", ">=", fields.Datetime.now() - timedelta(days=days)),
                ],
                order="id desc",
                limit=1,
            )
        )
        return notice.with_context(lang=self.env.lang)._text() if notice else ""

    def action_view_notices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("wechat_member.wechat_notice_action")
        action["domain"] = [("member_id", "=", self.id)]
        return action

    def action_view_partner(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "res.partner",
            "res_id": self.partner_id.id,
            "view_mode": "form",
        }

    # ------------------------------------------------------------------ demo
    @api.model
    def _demo_members(self, account_id, count):
        """Demo members with a deterministic history (``demo/wechat_member_demo.xml``).

        Each member followed through a QR channel of the account (a
        ``subscribe`` event with the scene, dated like the follow); some
        scanned again at the counter later (``SCAN``), some unfollowed and
        followed again, so that the acquisition funnel reads scanned ≥
        followed ≥ members ≥ first purchase ≥ repeat purchase at every level.
        Their purchases are paid POS orders of their channel's store (the
        Shanghai store for the other channels), in a closed session of each
        store.
        """
        account = self.env["wechat.account"].browse(account_id)
        channels = self.env["wechat.qr.channel"].search([("account_id", "=", account.id)], order="id")
        stores = channels.pos_config_id.sorted("id")
        surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
        given = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "杰", "娟", "涛"]
        cities = ["上海", "北京", "杭州", "苏州", "Shanghai", "Beijing"]
        now = fields.Datetime.now()
        purchases = []
        events = []
        for i in range(count):
            openid = f"oDEMO{i:023d}"
            member, created = self._get_or_create(account, openid)
            if not created:
                continue
            partner = member.partner_id
            partner.write(
                {
                    "name": surnames[i % len(surnames)] + given[(i * 7) % len(given)],
                    "phone": f"+86 138 {1000 + i:04d} {5000 + i * 3:04d}",
                    "city": cities[i % len(cities)],
                    "wechat_gender": ("female", "male")[i % 2],
                    "wechat_birthday": fields.Date.to_date(f"{1975 + i % 30}-{1 + i % 12:02d}-{1 + i % 28:02d}"),
                    "wechat_consent": i % 3 != 0,
                }
            )
            channel = channels[i % len(channels)] if channels else channels
            followed = now - timedelta(days=3 + i * 11)
            member.write(
                {
                    "channel_id": channel.id,
                    "subscribe_date": followed,
                    "info_state": "done",
                    "state": "unfollowed" if i % 9 == 8 else "follower",
                }
            )
            if channel:
                events.append((member, channel, "subscribe", followed, True))
                if i % 5 == 2:  # followed a first time through the same QR, unfollowed, came back
                    events.append((member, channel, "subscribe", followed - timedelta(days=1), False))
                    events.append((member, False, "unsubscribe", followed - timedelta(hours=20), False))
                if i % 4 == 1:  # scanned the store's QR again at the counter, as a follower
                    events.append((member, channel, "SCAN", followed + timedelta(days=2), False))
            if i % 9 == 8:
                events.append((member, False, "unsubscribe", followed + timedelta(days=1), False))
            # 0 to 5 purchases, spread between the follow and now.
            store = channel.pos_config_id or stores[:1]
            purchase_count = i % 6
            for k in range(purchase_count):
                amount = 199.0 + (i * 37 + k * 113) % 1800
                when = followed + (now - followed) * (k + 1) / (purchase_count + 1)
                purchases.append((partner.id, amount, when, store))
        self._demo_events(account, events)
        self.env["pos.order"]._demo_orders(purchases)
        self.env["res.partner"]._wechat_register_purchases([(p, a, d) for p, a, d, _s in purchases])
        self.env["res.partner"]._wechat_update_rfm()
        return True

    @api.model
    def _demo_events(self, account, events):
        """The demo's WeChat events: ``(member, channel, event, date, new member)`` as the webhook stores them."""
        Event = self.env["wechat.event"].sudo()
        vals_list = []
        for member, channel, event, date, new_member in events:
            key = ("qrscene_" if event == "subscribe" else "") + channel.scene if channel else ""
            create_time = int(date.timestamp())
            vals_list.append(
                {
                    "account_id": account.id,
                    "dedupe_key": f"evt:{member.openid}|{create_time}|{event}|{key}|",
                    "msg_type": "event",
                    "event": event,
                    "event_key": key,
                    "openid": member.openid,
                    "create_time": create_time,
                    "create_date": date,
                    "member_id": member.id,
                    "channel_id": channel.id if channel else False,
                    "new_member": new_member,
                    "state": "done",
                }
            )
        return Event.create(vals_list)

    @api.model
    def _demo_conversations(self, account_id, agent_id):
        """Two demo conversations in Discuss: one answered by ``agent_id``, one waiting for a reply."""
        account = self.env["wechat.account"].browse(account_id)
        members = self.search([("account_id", "=", account.id), ("state", "=", "follower")], order="id", limit=2)
        questions = [
            "你好，我上周买的衬衫可以换尺码吗？Hello, can I exchange the shirt I bought last week for another size?",
            "请问周末有会员活动吗？Is there a member event this weekend?",
        ]
        agent = self.env["res.users"].browse(agent_id)
        for index, (member, question) in enumerate(zip(members, questions, strict=False)):
            msg = {
                "ToUserName": "gh_demo",
                "FromUserName": member.openid,
                "CreateTime": str(int(time.time()) - 600 * (2 - index)),
                "MsgType": "text",
                "Content": question,
                "MsgId": f"demo{member.id:010d}",
            }
            self.env["wechat.event"].sudo()._receive(account, msg, signature_checked=True)
            if index == 0:
                channel = member._cs_channel().with_user(agent)
                channel._wechat_post_history(
                    body="可以的，请带上小票到任一门店，我们为您更换。"
                    "Yes: bring the receipt to any store and we will exchange it.",
                    message_type="comment",
                    subtype_xmlid="mail.mt_comment",
                )
                channel._wechat_replied()

    @api.model
    def _demo_tags(self, tags):
        """Tag the demo members: ``tags`` maps 新客 (``new``), 老客户 (``regular``), ``vip`` and ``shanghai``
        to ``wechat.tag`` ids.  New: followed in the last 60 days, else regular; VIP: 4+ purchases;
        Shanghai: came through the Shanghai store."""
        now = fields.Datetime.now()
        members = self.search(
            [
                ("openid", "=like", "oDEMO%"),
                ("account_id", "=", self.env["wechat.tag"].browse(tags["new"]).account_id.id),
            ]
        )
        for member in members:
            ids = [tags["new"] if member.subscribe_date > now - timedelta(days=60) else tags["regular"]]
            if member.partner_id.wechat_purchase_count >= 4:
                ids.append(tags["vip"])
            if member.channel_id.scene == "store_shanghai":
                ids.append(tags["shanghai"])
            member.tag_ids = [Command.set(ids)]
        return True
