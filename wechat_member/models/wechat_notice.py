import json
import logging
import threading
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.tools import SQL
from odoo.tools.misc import formatLang

from ..tools.wechat_api import NETWORK_ERROR, WeChatError
from .utils import call_after_commit
from .wechat_notice_kind import CHANNELS

_logger = logging.getLogger(__name__)

# WeChat's customer-service quotas since June 2023 (../shared/DESIGN.md §3): a member's own message
# opens 5 messages within 48 h; a follow, a QR scan or a menu click opens 3 within 1 minute; a VIEW
# click and a WeChat Pay payment open nothing.  Several open grants: the larger one counts, not a sum.
CS_MESSAGE_WINDOW = timedelta(hours=48)
CS_MESSAGE_LIMIT = 5
CS_EVENT_WINDOW = timedelta(minutes=1)
CS_EVENT_LIMIT = 3
# Notices sent straight after the commit; more wait for the sending cron.
SEND_NOW_LIMIT = 200
NOTICE_STATES = [
    ("queued", "Queued"),
    ("digest", "In the next digest"),
    ("sent", "Sent"),
    ("none", "Not sent"),
]
# A template WeChat no longer knows, or whose keywords changed: the mapping is broken.
TEMPLATE_BROKEN = (40037, 47003)
# Answers that say nothing about the delivery (network, busy, rate limits): the same channel again, later.
RETRY_ERRORS = (NETWORK_ERROR, -1, 45009, 45011)
MAX_ATTEMPTS = 3


class WeChatNotice(models.Model):
    """One notice to one member, and the channel WeChat allowed for it: the notice router.

    Every message the product sends to a member (mass sends aside, which stay
    campaigns) is routed here: ``_notify(kind, members, values)`` records
    one notice per member and picks, in the order the manager set for the
    kind, the first channel WeChat allows for that member now: a passive
    reply (answering the member's own message or event), a customer-service
    message only with real quota left, a template message (transactional
    kinds, through the account's mapping), a subscribe notice (when the
    member opted in for that template), or the next daily digest (marketing
    kinds).  Routing is one SQL statement for any number of members; sending
    is done after the commit (a few) or by the cron (many).  A channel
    refused by WeChat falls back to the next one; a notice no channel can
    carry is kept with the reason.  Nothing is dropped silently.
    """

    _name = "wechat.notice"
    _description = "WeChat Notice"
    _order = "id desc"
    _rec_name = "kind_id"

    account_id = fields.Many2one("wechat.account", required=True, ondelete="cascade", index=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    member_id = fields.Many2one("wechat.member", required=True, ondelete="cascade", index=True, readonly=True)
    partner_id = fields.Many2one("res.partner", index=True, readonly=True, ondelete="cascade")
    kind_id = fields.Many2one(
        "wechat.notice.kind", string="Kind", required=True, index=True, readonly=True, ondelete="cascade"
    )
    category = fields.Selection(related="kind_id.category")
    key = fields.Char(readonly=True, help="Idempotency key: a notice of this kind and key reaches a member once.")
    values = fields.Json(readonly=True)
    state = fields.Selection(NOTICE_STATES, required=True, default="queued", index=True, readonly=True)
    channel = fields.Selection(CHANNELS, readonly=True)
    mapping_id = fields.Many2one(
        "wechat.notice.template", string="Template Mapping", readonly=True, ondelete="set null"
    )
    error_code = fields.Integer("WeChat Error", readonly=True)
    attempts = fields.Integer(readonly=True, help="Sends that got no clear answer from WeChat (retried later).")
    reason = fields.Text(readonly=True)
    date = fields.Datetime(default=fields.Datetime.now, required=True, readonly=True, index=True)
    sent_date = fields.Datetime(readonly=True)
    wechat_msgid = fields.Char("WeChat msgid", readonly=True, index="btree_not_null")
    campaign_id = fields.Many2one("wechat.campaign", string="Digest", readonly=True, ondelete="set null", index=True)

    def init(self):
        self.env.cr.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS wechat_notice_key_uniq ON wechat_notice (kind_id, member_id, key) "
            "WHERE key IS NOT NULL"
        )

    # ------------------------------------------------------------------ routing
    @api.model
    def _notify(self, kind_code, members, values=None, key=None, reply_event=None, send=True, account=None):
        """Route a notice of kind ``kind_code`` to each of ``members``; returns the new notices.

        ``values``: a dict for all, or ``{member_id: dict}``; JSON values
        (amount, points, store, coupon name, expiry date as ISO text…), the
        same values feed the template keywords and the texts.  ``key``: a
        string for all, or ``{member_id: str}``; a notice with the same kind,
        member and key is never recorded twice.  ``reply_event``: the
        ``wechat.event`` being answered: its member gets the notice as the
        passive reply when the kind allows it (``_reply_text`` of the event).
        ``account``: all ``members`` belong to it (spares reading theirs).
        """
        # Notices are server records: managers read them, only the router writes them.
        router = self.sudo()
        kind = router.env["wechat.notice.kind"]._get(kind_code)
        members = members.sudo()
        if reply_event is None and router.env.context.get("wechat_reply_event_id"):
            reply_event = router.env["wechat.event"].sudo().browse(self.env.context["wechat_reply_event_id"])
        if not members or not kind.active:
            return router.browse()
        notices = router.browse()
        groups = (
            [(account, members)]
            if account
            else [(a, members.filtered(lambda m, a=a: m.account_id == a)) for a in members.account_id]
        )
        for group_account, group in groups:
            # Reasons are written in the language of whoever routes, else the company's (crons, hooks).
            lang = router.env.context.get("lang") or group_account.company_id.partner_id.lang or router.env.user.lang
            notices |= router.with_context(lang=lang)._route(
                kind, group_account.sudo(), group, values, key, reply_event
            )
        if send and notices:
            # In SQL, at most one more than sent now: a filtered() would go through 100 000s of records.
            router.flush_model(["state"])
            router.env.cr.execute(
                "SELECT id FROM wechat_notice WHERE id = ANY(%s) AND state = 'queued' ORDER BY id LIMIT %s",
                [notices.ids, SEND_NOW_LIMIT + 1],
            )
            queued_ids = [row[0] for row in router.env.cr.fetchall()]
            if 0 < len(queued_ids) <= SEND_NOW_LIMIT:
                call_after_commit(router.env, "wechat.notice", "_send_ids", queued_ids)
            elif queued_ids:
                router.env.ref("wechat_member.ir_cron_wechat_notice_send")._trigger()
        return notices

    def _route(self, kind, account, members, values, key, reply_event):
        """Record one notice of ``kind`` per member of ``account``, on the first channel allowed now.

        One ``INSERT … SELECT`` for all the members (see ``_notify``); the
        notices routed as the passive reply are added to ``reply_event``.
        Returns the new notices, their state and channel in the cache.
        """
        channels = kind._channels()
        # The notice keeps the member's contact, read in SQL below: a follower of a moment ago gets it now.
        self.env["wechat.member"]._create_missing_contacts([("id", "in", members.ids)])
        mappings = (
            self.env["wechat.notice.template"]
            .sudo()
            .search(
                [
                    ("account_id", "=", account.id),
                    ("kind_id", "=", kind.id),
                    ("state", "=", "ok"),
                ]
            )
        )
        by_channel = {m.channel: m for m in mappings}
        reply_member = reply_event.member_id if reply_event and "reply" in channels else None
        rows_sql, vals_sql = self._route_input_sql(members.ids, values, key)
        now = fields.Datetime.now()
        channel_sql, mapping_sql = self._route_channel_sql(kind, account, channels, by_channel, reply_member, now)
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
            WITH input AS (
                SELECT t.member_id, %(vals)s AS vals, t.key, t.ord FROM %(rows)s
            ), route AS (
                SELECT i.*, m.partner_id, %(channel)s AS channel
                  FROM input i JOIN wechat_member m ON m.id = i.member_id
            )
            INSERT INTO wechat_notice (account_id, company_id, member_id, partner_id, kind_id, key, values, state,
                                       channel, mapping_id, reason, date, create_uid, write_uid, create_date,
                                       write_date)
            SELECT %(account)s, %(company)s, route.member_id, route.partner_id, %(kind)s, route.key, route.vals,
                   CASE WHEN route.channel IS NULL THEN 'none'
                        WHEN route.channel = 'digest' THEN 'digest'
                        WHEN route.channel = 'reply' THEN 'sent'
                        ELSE 'queued' END,
                   route.channel, %(mapping)s,
                   CASE WHEN route.channel IS NULL THEN %(none_reason)s END,
                   %(now)s, %(uid)s, %(uid)s, %(now)s, %(now)s
              FROM route
             ORDER BY route.ord
            ON CONFLICT (kind_id, member_id, key) WHERE key IS NOT NULL DO NOTHING
            RETURNING id, state, channel
            """,
                rows=rows_sql,
                vals=vals_sql,
                channel=channel_sql,
                account=account.id,
                company=account.company_id.id,
                kind=kind.id,
                mapping=mapping_sql,
                none_reason=self._none_reason(kind, channels, by_channel),
                now=now,
                uid=self.env.uid,
            )
        )
        return self._route_inserted(self.env.cr.fetchall(), reply_event, now)

    def _route_inserted(self, rows, reply_event, now):
        """The notices inserted, from their ``(id, state, channel)`` ``rows``; the replies go in ``reply_event``.

        Their state and channel are put in the cache; the notices routed as
        the passive reply are sent (their text added to the event's reply).
        """
        notices = self.browse([row[0] for row in rows])
        # What the callers look at, in the cache: no fetch of 100 000s of notices for a filtered().
        self.env.cache.update(notices, self._fields["state"], [row[1] for row in rows])
        self.env.cache.update(notices, self._fields["channel"], [row[2] for row in rows])
        replied = self.browse([row[0] for row in rows if row[2] == "reply"])
        if replied:
            reply_event._add_reply_text("\n".join(replied.mapped(lambda n: n._text())))
            replied.write({"sent_date": now})
        return notices

    @api.model
    def _route_input_sql(self, ids, values, key):
        """``(rows, vals)``: the SQL of the input rows ``t(member_id, [vals,] key, ord)`` and of their values.

        ``values`` and ``key`` as in ``_notify`` (one for all, or per member).
        """
        # One JSON text and one array for all the rows (not a json.dumps per row): read back in lockstep with
        # the ids by ROWS FROM below.
        keys = [key.get(i) for i in ids] if isinstance(key, dict) else [key] * len(ids)
        if _per_member(values):
            rows_sql = SQL(
                "ROWS FROM (unnest(%s::int[]), jsonb_array_elements(%s::jsonb), unnest(%s::varchar[]))"
                " WITH ORDINALITY AS t(member_id, vals, key, ord)",
                ids,
                json.dumps([values.get(i, {}) for i in ids]),
                keys,
            )
            vals_sql = SQL("t.vals")
        else:
            rows_sql = SQL(
                "ROWS FROM (unnest(%s::int[]), unnest(%s::varchar[])) WITH ORDINALITY AS t(member_id, key, ord)",
                ids,
                keys,
            )
            vals_sql = SQL("%s::jsonb", json.dumps(values or {}))
        return rows_sql, vals_sql

    def _route_channel_sql(self, kind, account, channels, by_channel, reply_member, now):
        """``(channel, mapping)``: the SQL ``CASE`` picking each member's channel (on ``m``) and its mapping."""
        cases = [self._channel_condition(c, kind, account, by_channel, reply_member, now) for c in channels]
        cases = [(c, cond) for c, cond in zip(channels, cases, strict=True) if cond is not None]
        channel_sql = (
            SQL(
                "CASE %s ELSE NULL END", SQL(" ").join(SQL("WHEN %s THEN %s", cond, channel) for channel, cond in cases)
            )
            if cases
            else SQL("NULL")
        )
        mapping_sql = (
            SQL(
                "CASE %s ELSE NULL END",
                SQL(" ").join(
                    SQL("WHEN %s = %s THEN %s", SQL.identifier("route", "channel"), c, m.id)
                    for c, m in by_channel.items()
                ),
            )
            if by_channel
            else SQL("NULL::int")
        )
        return channel_sql, mapping_sql

    def _channel_condition(self, channel, kind, account, by_channel, reply_member, now):
        """The SQL condition (on ``m``, the member) under which ``channel`` can carry the notice now, or None."""
        follows = SQL("m.state = 'follower'")
        if channel == "reply":
            return SQL("m.id = %s", reply_member.id) if reply_member else None
        if channel == "cs":
            cond = SQL(
                "(%s AND ((m.cs_message_at > %s AND m.cs_message_used < %s)"
                " OR (m.cs_event_at > %s AND m.cs_event_used < %s)))",
                follows,
                now - CS_MESSAGE_WINDOW,
                CS_MESSAGE_LIMIT,
                now - CS_EVENT_WINDOW,
                CS_EVENT_LIMIT,
            )
            if kind.uses_budget and account.budget_per_week:
                cond = SQL("(%s AND NOT %s)", cond, self._over_budget_sql(account, now))
            return cond
        if channel == "template":
            return follows if "template" in by_channel else None
        if channel == "subscribe":
            mapping = by_channel.get("subscribe")
            if not mapping:
                return None
            return SQL(
                "EXISTS (SELECT 1 FROM wechat_notice_optin o WHERE o.member_id = m.id AND o.template_id = %s"
                " AND o.state = 'available')",
                mapping.template_id,
            )
        if channel == "digest":
            return follows
        return None

    def _over_budget_sql(self, account, now):
        return SQL(
            "(SELECT count(*) FROM wechat_message_log l WHERE l.member_id = m.id AND l.date >= %s"
            " AND l.kind NOT IN ('template', 'notice')) >= %s",
            now - timedelta(days=7),
            account.budget_per_week,
        )

    def _none_reason(self, kind, channels, by_channel):
        labels = dict(self._fields["channel"]._description_selection(self.env))
        missing = [labels[c] for c in ("template", "subscribe") if c in channels and c not in by_channel]
        reason = _(
            "No channel WeChat allows reaches this member now (tried: %(channels)s).",
            channels=", ".join(labels[c] for c in channels) or _("none"),
        )
        if missing:
            reason += " " + _("Not mapped on this account: %(channels)s.", channels=", ".join(missing))
        return reason

    @api.model
    def _reachability(self, kind_code, members):
        """How many of ``members`` each channel would reach now: ``{channel or 'none': count}``."""
        kind = self.env["wechat.notice.kind"]._get(kind_code)
        result = {}
        now = fields.Datetime.now()
        if not members:
            return result
        # The accounts in SQL: reading ``members.account_id`` would fetch every member through the ORM.
        self.env.flush_all()
        self.env.cr.execute("SELECT DISTINCT account_id FROM wechat_member WHERE id = ANY(%s)", [members.ids])
        for account in self.env["wechat.account"].sudo().browse([row[0] for row in self.env.cr.fetchall()]):
            mappings = (
                self.env["wechat.notice.template"]
                .sudo()
                .search(
                    [
                        ("account_id", "=", account.id),
                        ("kind_id", "=", kind.id),
                        ("state", "=", "ok"),
                    ]
                )
            )
            by_channel = {m.channel: m for m in mappings}
            channels = kind._channels()
            cases = [(c, self._channel_condition(c, kind, account, by_channel, None, now)) for c in channels]
            cases = [(c, cond) for c, cond in cases if cond is not None]
            channel_sql = (
                SQL("CASE %s ELSE 'none' END", SQL(" ").join(SQL("WHEN %s THEN %s", cond, c) for c, cond in cases))
                if cases
                else SQL("'none'")
            )
            self.env.flush_all()
            self.env.cr.execute(
                SQL(
                    "SELECT %s AS channel, count(*) FROM wechat_member m WHERE m.id = ANY(%s) AND m.account_id = %s"
                    " GROUP BY 1",
                    channel_sql,
                    members.ids,
                    account.id,
                )
            )
            for channel, count in self.env.cr.fetchall():
                result[channel] = result.get(channel, 0) + count
        return result

    @api.model
    def _reachability_text(self, kind_code, members, counts=None):
        """The reachability as one line for a form: "Template message 120 · Subscribe notice 3 · not reachable 15".

        Each channel of the kind (a passive reply aside: it answers an event,
        never a campaign) with its count, zeros included, then those none
        reaches.  ``counts``: the result of ``_reachability`` when the
        caller has it already.
        """
        if counts is None:
            counts = self._reachability(kind_code, members)
        if not any(counts.values()):
            return _("nobody")
        labels = dict(self._fields["channel"]._description_selection(self.env))
        channels = [c for c in self.env["wechat.notice.kind"]._get(kind_code)._channels() if c != "reply"]
        channels += [c for c in counts if c not in channels and c != "none"]  # reached otherwise (a passive reply)
        parts = [f"{labels[c]} {counts.get(c, 0)}" for c in channels]
        parts.append(_("not reachable %(count)s", count=counts.get("none", 0)))
        return " · ".join(parts)

    # ------------------------------------------------------------------ sending
    @api.model
    def _send_ids(self, ids):
        self.browse(ids).exists()._send()

    def _send(self):
        """Send the queued notices, each through its channel, falling back in the kind's order.

        Each notice in a savepoint of its own, committed once sent (outside
        tests): a failure or a crash never undoes a notice WeChat already
        delivered, so the cron never sends it again.
        """
        if not self:
            return
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT id FROM wechat_notice WHERE id = ANY(%s) AND state = 'queued' ORDER BY id FOR UPDATE SKIP LOCKED",
            [self.ids],
        )
        todo = self.sudo().browse([row[0] for row in self.env.cr.fetchall()])
        for notice in todo:
            lang = self.env.context.get("lang") or notice.account_id.company_id.partner_id.lang or "en_US"
            try:
                with self.env.cr.savepoint():
                    notice.with_context(lang=lang)._send_one()
            except Exception as exc:  # noqa: BLE001 - one notice must not stop the others
                _logger.exception("WeChat notice %s could not be sent", notice.id)
                attempts = notice.attempts + 1
                notice.write(
                    {"attempts": attempts, "reason": str(exc)[:500]}
                    if attempts < MAX_ATTEMPTS
                    else {"attempts": attempts, "state": "none", "reason": str(exc)[:500]}
                )
            self._commit_progress()

    def _send_one(self):
        self.ensure_one()
        channels = self.kind_id._channels()
        start = channels.index(self.channel) if self.channel in channels else 0
        errors = []
        for channel in channels[start:]:
            try:
                outcome = self._try_channel(channel)
            except _RetryLater as later:
                self.write({"channel": channel, "attempts": self.attempts + 1, "reason": str(later)})
                return
            if outcome is True:
                return
            if outcome:
                errors.append(outcome)
        self.write(
            {
                "state": "none",
                "channel": False,
                "reason": "\n".join(errors) or self._none_reason(self.kind_id, channels, {}),
            }
        )

    def _channel_label(self, channel):
        return dict(self._fields["channel"]._description_selection(self.env))[channel]

    def _try_channel(self, channel):
        """Send through ``channel``: True when sent (or handed to the digest), else the reason it could not.

        Raises :class:`_RetryLater` when WeChat's answer is unknown or
        temporary (network, busy, rate limits): a message that timed out may
        have been delivered, so the next channel is not tried; the notice
        stays queued for the cron, a few times, then falls back.
        """
        member = self.member_id
        try:
            if channel == "cs":
                return self._try_cs(member)
            if channel in ("template", "subscribe"):
                return self._try_mapping(channel, member)
            if channel == "digest":
                if member.state != "follower":
                    return _("Daily digest: the member does not follow the account.")
                self.write({"state": "digest", "channel": "digest", "reason": False})
                return True
        except WeChatError as exc:
            self.error_code = exc.errcode
            message = _(
                "%(channel)s: WeChat error %(code)s (%(message)s).",
                channel=self._channel_label(channel),
                code=exc.errcode,
                message=str(exc),
            )
            if exc.errcode in RETRY_ERRORS and self.attempts < MAX_ATTEMPTS:
                raise _RetryLater(message) from exc
            if exc.errcode == 43004:
                member.sudo().state = "unfollowed"  # WeChat's own answer: server code
            return message
        return None  # reply: only at routing time

    def _try_cs(self, member):
        if member.state != "follower" or not member._cs_quota_left():
            return _(
                "Customer service: no quota left (a member's message opens 5 within 48 h, a follow, scan or "
                "menu click 3 within 1 minute)."
            )
        if self.kind_id.uses_budget and self.env["wechat.message.log"]._over_budget(self.account_id, member.ids):
            return _("Customer service: the member had the week's marketing messages.")
        text = self._text()
        if not text:
            return _("Customer service: no text for this notice.")
        try:
            self.account_id._api().send_text(member.openid, text)
        except WeChatError as exc:
            if exc.errcode in (45015, 45047):
                member._cs_close()
            raise
        member._cs_consume()
        self._mark_sent("cs")
        return True

    def _try_mapping(self, channel, member):
        mapping = (
            self.env["wechat.notice.template"]
            .sudo()
            .search(
                [
                    ("account_id", "=", self.account_id.id),
                    ("kind_id", "=", self.kind_id.id),
                    ("channel", "=", channel),
                    ("state", "=", "ok"),
                ],
                limit=1,
            )
        )
        label = self._channel_label(channel)
        if not mapping:
            return _("%(channel)s: no working template mapped for this kind.", channel=label)
        optin = None
        if channel == "template" and member.state != "follower":
            return _("%(channel)s: the member does not follow the account.", channel=label)
        if channel == "subscribe":
            optin = member._take_optin(mapping.template_id)
            if not optin:
                return _("%(channel)s: the member has not opted in for this notice.", channel=label)
        values = self._render_values()
        try:
            res = mapping._send(member, values, url=values.get("url") or self._url(), key=f"wn{self.id}")
        except WeChatError as exc:
            if exc.errcode in TEMPLATE_BROKEN:
                mapping._mark_broken(exc)
            if optin and exc.errcode != 43101:  # WeChat did not use the opt-in: the member keeps it
                optin.write({"state": "available", "used_date": False, "notice_id": False})
            raise
        if optin:
            optin.notice_id = self
        self.write({"mapping_id": mapping.id, "wechat_msgid": str((res or {}).get("msgid") or "") or False})
        self._mark_sent(channel)
        return True

    def _delivery_failed(self, status):
        """WeChat could not deliver the template message (``failed:user block``…): try the next channel."""
        self.ensure_one()
        channels = self.kind_id._channels()
        reason = _("Template message not delivered by WeChat: %(status)s.", status=status)
        following = channels[channels.index(self.channel) + 1 :] if self.channel in channels else []
        if not following:
            self.write({"state": "none", "reason": reason})
            return
        self.write({"state": "queued", "channel": following[0], "reason": reason})
        self._send_one()

    def _mark_sent(self, channel):
        self.write(
            {"state": "sent", "channel": channel, "sent_date": fields.Datetime.now(), "reason": False, "error_code": 0}
        )
        # Notices that use the contact budget are counted in it (``cs`` / ``subscribe``); the others are not.
        log_kind = ("cs" if channel == "cs" else "subscribe") if self.kind_id.uses_budget else "notice"
        self.env["wechat.message.log"]._log(self.account_id, self.member_id.ids, log_kind)

    @api.model
    def _cron_send(self, limit=5000):
        """Send queued notices (large routings, retries, and those whose after-commit send did not run)."""
        queued = self.search_count([("state", "=", "queued")])
        notices = self.search([("state", "=", "queued")], limit=limit, order="id")
        for batch in range(0, len(notices), 100):
            notices[batch : batch + 100]._send()
        # Those beyond the limit: ir.cron calls again at once (a notice left queued waits for the next run).
        self.env["ir.cron"]._notify_progress(done=len(notices), remaining=queued - len(notices))
        return True

    def _commit_progress(self):
        """A sent notice is never sent again: commit it (not in tests, see sms._process_queue)."""
        if not getattr(threading.current_thread(), "testing", False):
            self.env.cr.commit()  # pylint: disable=invalid-commit

    # ------------------------------------------------------------------ content
    def _lang(self):
        partner = self.member_id.partner_id
        return partner.lang or self.account_id.company_id.partner_id.lang or self.env.lang

    def _render_values(self):
        """The notice's values for the template keywords (dates back to datetimes)."""
        values = dict(self.values or {})
        for name in ("expiry_date", "date"):
            if isinstance(values.get(name), str):
                try:
                    values[name] = fields.Datetime.to_datetime(values[name])
                except ValueError:
                    pass
        values.setdefault("date", self.date)
        values.setdefault("member_name", self.member_id.partner_id.name)
        refresh = getattr(self, f"_values_{self.kind_id.code}", None)
        return refresh(values) if refresh else values

    def _url(self):
        return (self.values or {}).get("url") or self.account_id._member_page_url()

    def _text(self):
        """The notice as a text (customer service, passive reply), in the member's language.

        Kinds add their wording with a ``_text_<code>(values)`` method; the
        default is the ``text`` value.
        """
        self.ensure_one()
        notice = self.with_context(lang=self._lang())
        method = getattr(notice, f"_text_{self.kind_id.code}", None)
        values = dict(self.values or {})
        return method(values) if method else values.get("text", "")

    # ------------------------------------------------------------------ kinds of wechat_member
    def _values_pos_thanks(self, values):
        """The balance when sent, after the order's points (confirmed after the sync)."""
        values["balance"] = self.member_id.partner_id._wechat_points_balance()
        return values

    def _text_points_change(self, values):
        points = values.get("points") or 0
        moved = f"+{points:g}" if points > 0 else f"{points:g}"
        balance = f"{values.get('balance') or 0:g}"
        return _(
            "%(points)s points: %(reason)s. Balance: %(balance)s points.",
            points=moved,
            reason=values.get("reason") or "",
            balance=balance,
        )

    def _text_pos_thanks(self, values):
        partner = self.member_id.partner_id
        amount = formatLang(self.env, values.get("amount") or 0.0, currency_obj=self.account_id.company_id.currency_id)
        return "\n".join(
            line
            for line in (
                self.account_id.pos_thanks_message,
                _("Paid %(amount)s at %(store)s.", amount=amount, store=values.get("store") or ""),
                partner._wechat_points_text(),
            )
            if line
        )


class _RetryLater(Exception):
    """WeChat's answer was unknown or temporary: keep the notice queued on the same channel."""


def _per_member(values):
    return isinstance(values, dict) and values and all(isinstance(k, int) for k in values)
