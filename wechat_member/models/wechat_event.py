import json
import logging
from datetime import datetime, timedelta, timezone

from odoo import _, api, fields, models
from odoo.exceptions import AccessError

from .wechat_member import CS_GRANT_EVENT, CS_GRANT_MESSAGE

_logger = logging.getLogger(__name__)

# Events whose sender gets a member record on first contact.
MEMBER_EVENTS = ("subscribe", "SCAN", "CLICK", "VIEW", "unsubscribe")
PAYLOAD_LIMIT = 8000
MAX_RETRIES = 5  # the retry cron's attempts at an event whose processing failed; then it gives up
RETRY_DELAY = timedelta(minutes=10)  # between two attempts of the cron
# What WeChat sent, and what processing it derived (the member, a mass send's msg_id): written by the
# webhook and the event processing only (server code), never through RPC, even by a manager.
RECEIVED_FIELDS = (
    "account_id",
    "dedupe_key",
    "msg_type",
    "event",
    "event_key",
    "openid",
    "content",
    "payload",
    "create_time",
    "signature_checked",
    "mass_msg_id",
    "member_id",
    "channel_id",
    "new_member",
)


class WeChatEvent(models.Model):
    """A message or event pushed by WeChat to the callback, stored once.

    ``dedupe_key`` is the MsgId, or FromUserName + CreateTime + Event +
    EventKey for events: WeChat retries an unanswered push three times and
    every delivery after the first is ignored.
    """

    _name = "wechat.event"
    _description = "WeChat Event"
    _order = "id desc"
    _rec_name = "dedupe_key"

    account_id = fields.Many2one("wechat.account", required=True, ondelete="cascade", index=True, readonly=True)
    company_id = fields.Many2one(related="account_id.company_id", store=True)
    dedupe_key = fields.Char(required=True, readonly=True)
    msg_type = fields.Char("Message Type", readonly=True)
    event = fields.Char(readonly=True, index=True)
    event_key = fields.Char(readonly=True)
    openid = fields.Char("OpenID", readonly=True, index=True)
    content = fields.Text(readonly=True)
    payload = fields.Text(readonly=True)
    create_time = fields.Integer("WeChat Time", readonly=True)
    member_id = fields.Many2one("wechat.member", readonly=True, index=True, ondelete="set null")
    channel_id = fields.Many2one("wechat.qr.channel", readonly=True, index=True, ondelete="set null")
    new_member = fields.Boolean(readonly=True, help="This event created the member.")
    state = fields.Selection(
        [("received", "Received"), ("done", "Done"), ("failed", "Failed"), ("given_up", "Given Up")],
        default="received",
        readonly=True,
        index=True,
    )
    error = fields.Char("Last Error", readonly=True)
    retry_count = fields.Integer(
        "Retries", readonly=True, copy=False, help="Attempts at processing the event again after it failed."
    )
    retry_date = fields.Datetime("Last Retry", readonly=True, copy=False)
    reply_extra = fields.Text(
        "Notices in the Reply",
        readonly=True,
        help="Notices routed as the passive reply to this event, after the rule's reply.",
    )
    mass_msg_id = fields.Char(
        "Mass msg_id", readonly=True, index="btree_not_null", help="The mass send a MASSSENDJOBFINISH event reports on."
    )
    signature_checked = fields.Boolean(
        "Signed by WeChat",
        readonly=True,
        copy=False,
        help="Received by the webhook with a valid WeChat signature: only such events are processed again.",
    )

    _sql_constraints = [
        ("account_dedupe_uniq", "UNIQUE(account_id, dedupe_key)", "This WeChat event was already received."),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_received_write(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._check_received_write(vals)
        return super().write(vals)

    def _check_received_write(self, vals):
        forbidden = sorted(set(vals) & set(RECEIVED_FIELDS))
        if forbidden and not self.env.su:
            raise AccessError(
                _(
                    "A WeChat event is kept as WeChat sent it: %(fields)s cannot be changed.",
                    fields=", ".join(forbidden),
                )
            )

    @api.model
    def _dedupe_key(self, msg):
        if (msg.get("MsgType") or "").lower() != "event" and msg.get("MsgId"):
            return f"msg:{msg['MsgId']}"
        return "evt:{}|{}|{}|{}|{}".format(
            msg.get("FromUserName", ""),
            msg.get("CreateTime", ""),
            msg.get("Event", ""),
            msg.get("EventKey", ""),
            msg.get("MsgID") or msg.get("MsgId") or "",
        )

    @api.model
    def _receive(self, account, msg, signature_checked=False):
        """Store ``msg`` once and process it; return the reply dict, or None.

        ``signature_checked``: the webhook verified WeChat's signature of this
        delivery (only such events are replayed by the retry cron).

        Must run in its own transaction (the webhook opens one in READ
        COMMITTED): the INSERT ... ON CONFLICT DO NOTHING makes a parallel
        duplicate wait for the first delivery and then do nothing.
        """
        event_id = self._insert_delivery(account, msg, signature_checked)
        if not event_id:
            return None  # a retry of a delivery we already have
        record = self.sudo().browse(event_id)
        # A live delivery can be answered: notices routed while processing it may go in the passive reply.
        return record.with_context(wechat_reply_event_id=record.id)._process(msg)

    @api.model
    def _insert_delivery(self, account, msg, signature_checked):
        """Store ``msg`` unless this delivery is already stored; the new event's id, or None.

        One ``INSERT … ON CONFLICT (account_id, dedupe_key) DO NOTHING``;
        the event names of follows and menu clicks are normalised
        (``subscribe``, ``unsubscribe``, ``CLICK``, ``VIEW``).
        """
        msg_type = (msg.get("MsgType") or "").lower()
        event = msg.get("Event") or ""
        if msg_type == "event" and event.lower() in ("subscribe", "unsubscribe", "click", "view"):
            event = event.lower() if event.lower() in ("subscribe", "unsubscribe") else event.upper()
        try:
            create_time = int(msg.get("CreateTime") or 0)
        except ValueError:
            create_time = 0
        now = fields.Datetime.now()
        self.env.cr.execute(
            """
            INSERT INTO wechat_event (account_id, company_id, dedupe_key, msg_type, event, event_key, openid,
                                      content, payload, create_time, state, signature_checked, create_uid,
                                      write_uid, create_date, write_date)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'received', %s, %s, %s, %s, %s)
            ON CONFLICT (account_id, dedupe_key) DO NOTHING
            RETURNING id
            """,
            [
                account.id,
                account.company_id.id,
                self._dedupe_key(msg),
                msg_type,
                event or None,
                msg.get("EventKey") or None,
                msg.get("FromUserName"),
                (msg.get("Content") or "")[:2000] or None,
                json.dumps(msg, ensure_ascii=False)[:PAYLOAD_LIMIT],
                create_time,
                bool(signature_checked),
                self.env.uid,
                self.env.uid,
                now,
                now,
            ],
        )
        row = self.env.cr.fetchone()
        return row[0] if row else None

    def _process(self, msg):
        """Apply the event; returns the passive reply (dict) or None."""
        self.ensure_one()
        handler = getattr(self, f"_handle_{(self.event or self.msg_type or 'unknown').lower()}", None)
        try:
            with self.env.cr.savepoint():
                reply = handler(msg) if handler else None
                if self.reply_extra:
                    text = "\n\n".join(t for t in ((reply or {}).get("content"), self.reply_extra) if t)
                    reply = {"type": "text", "content": text}
                self.state = "done"
        except Exception as exc:  # noqa: BLE001 - the event is kept and retried by the cron
            _logger.exception("WeChat event %s (%s) failed", self.id, self.event or self.msg_type)
            self.write({"state": "failed", "error": str(exc)[:200]})
            return None
        return reply

    # ------------------------------------------------------------------ helpers
    def _member(self, state="follower", touch=True, grant=None):
        """The sender's member (events of the platform itself have no member).

        ``grant``: the customer-service quota this interaction opens
        ("message" or "event"), from WeChat's time of the event.
        """
        member, created = self.env["wechat.member"]._get_or_create(self.account_id, self.openid, state=state)
        self.write({"member_id": member.id, "new_member": created})
        if touch:
            member._touch(when=self._wechat_time(), grant=grant)
        return member, created

    def _wechat_time(self):
        """WeChat's time of the event (CreateTime), never later than now."""
        now = fields.Datetime.now()
        if not self.create_time:
            return now
        when = datetime.fromtimestamp(self.create_time, timezone.utc).replace(tzinfo=None)
        return min(when, now)

    def _add_reply_text(self, text):
        """Add ``text`` (a routed notice) to the passive reply of this event."""
        if text:
            self.reply_extra = "\n".join(t for t in (self.reply_extra, text) if t)

    def _text_reply(self, text):
        return {"type": "text", "content": text} if text else None

    def _channel_from_key(self, key):
        if key and key.startswith("qrscene_"):
            key = key[len("qrscene_") :]
        return self.env["wechat.qr.channel"]._from_scene(self.account_id, key)

    # ------------------------------------------------------------------ handlers
    def _handle_subscribe(self, msg):
        channel = self._channel_from_key(msg.get("EventKey"))
        member, created = self._member(grant=CS_GRANT_EVENT)
        vals = {"state": "follower", "subscribe_date": fields.Datetime.now(), "unsubscribe_date": False}
        if created and channel:
            vals.update(channel_id=channel.id, qr_scene=channel.scene, subscribe_scene="ADD_SCENE_QR_CODE")
        member.write(vals)
        if channel:
            self.channel_id = channel
            channel._member_came(member, created)
        if created:  # unionid and subscribe scene are fetched in the background, a little later
            self.env["wechat.member"]._trigger_fetch_user_info()
        return self._text_reply(channel.welcome_message or self.account_id.welcome_message)

    def _handle_scan(self, msg):
        channel = self._channel_from_key(msg.get("EventKey"))
        member, created = self._member(grant=CS_GRANT_EVENT)
        if created and channel:
            member.channel_id = channel
        if channel:
            self.channel_id = channel
            channel._member_came(member, created)
        return self._text_reply(channel.welcome_message) if channel else None

    def _handle_unsubscribe(self, msg):
        member, __ = self._member(state="unfollowed", touch=False)
        member.write({"state": "unfollowed", "unsubscribe_date": fields.Datetime.now()})
        return None

    def _handle_click(self, msg):
        member, __ = self._member(grant=CS_GRANT_EVENT)
        rule = self.env["wechat.reply.rule"]._match(self.account_id, click_key=msg.get("EventKey"))
        return rule._reply_for(member) if rule else None

    def _handle_view(self, msg):
        self._member()  # a VIEW click opens no customer-service quota
        return None

    def _handle_scancode_push(self, msg):
        self._member(grant=CS_GRANT_EVENT)
        return None

    _handle_scancode_waitmsg = _handle_scancode_push

    def _handle_text(self, msg):
        member, __ = self._member(grant=CS_GRANT_MESSAGE)
        rule = self.env["wechat.reply.rule"]._match(self.account_id, text=msg.get("Content"))
        if rule:
            return rule._reply_for(member)
        return self._text_reply(self.account_id.default_reply)

    def _handle_image(self, msg):
        self._member(grant=CS_GRANT_MESSAGE)
        return None

    _handle_voice = _handle_video = _handle_location = _handle_link = _handle_image

    def _handle_masssendjobfinish(self, msg):
        """WeChat's result of a mass send: the counts go to the campaign chunk.

        The result can arrive before the sending transaction has committed
        the chunk's msg_id: it is kept (``mass_msg_id``) and the chunk picks
        it up after its own commit (``_apply_stored_job_result``).
        """
        self.mass_msg_id = str(msg.get("MsgID") or "")
        # msg_ids are WeChat's per account: the result of another account's send never reaches this chunk.
        chunk = (
            self.env["wechat.campaign.chunk"]
            .sudo()
            .search([("msg_id", "=", self.mass_msg_id), ("campaign_id.account_id", "=", self.account_id.id)], limit=1)
        )
        if chunk:
            chunk._apply_job_result(msg)
        return None

    def _handle_subscribe_msg_popup_event(self, msg):
        """The member accepted (or refused) subscribe notices in WeChat's pop-up: accepts become opt-ins."""
        member, __ = self._member(state="visitor", touch=False)
        items = msg.get("SubscribeMsgPopupEvent") or []
        accepted = [
            i.get("TemplateId") for i in items if i.get("SubscribeStatusString") == "accept" and i.get("TemplateId")
        ]
        if accepted:
            self.env["wechat.notice.optin"]._record(member, accepted, event=self)
        return None

    def _handle_subscribe_msg_change_event(self, msg):
        """The member turned notices off in WeChat's settings: their opt-ins for those templates are gone."""
        member, __ = self._member(state="visitor", touch=False)
        items = msg.get("SubscribeMsgChangeEvent") or msg.get("SubscribeMsgPopupEvent") or []
        rejected = [i.get("TemplateId") for i in items if i.get("SubscribeStatusString") == "reject"]
        if rejected:
            self.env["wechat.notice.optin"]._withdraw(member, rejected)
        return None

    def _handle_subscribe_msg_sent_event(self, msg):
        return None  # the send result; a failure was already answered synchronously

    def _handle_templatesendjobfinish(self, msg):
        """WeChat's delivery result of a template message: a failure sends the notice by the next channel."""
        status = msg.get("Status") or ""
        if status == "success":
            return None
        notice = (
            self.env["wechat.notice"]
            .sudo()
            .search(
                [("account_id", "=", self.account_id.id), ("wechat_msgid", "=", str(msg.get("MsgID") or ""))], limit=1
            )
        )
        if notice:
            notice._delivery_failed(status)
        return None

    # ------------------------------------------------------------------ retry
    @api.model
    def _cron_retry_failed(self, limit=200):
        """Re-process events whose processing failed (only those WeChat signed), ``MAX_RETRIES`` times each,
        ``RETRY_DELAY`` apart; an event failing its last retry is given up (listed as "Failed Events")."""
        domain = [
            ("state", "=", "failed"),
            ("signature_checked", "=", True),
            ("retry_count", "<", MAX_RETRIES),
            "|",
            ("retry_date", "=", False),
            ("retry_date", "<=", fields.Datetime.now() - RETRY_DELAY),
        ]
        Event = self.sudo()
        events = Event.search(domain, limit=limit, order="id")
        events._retry()
        self.env["ir.cron"]._notify_progress(done=len(events), remaining=Event.search_count(domain))
        return True

    def _retry(self):
        for event in self:
            event.write({"retry_count": event.retry_count + 1, "retry_date": fields.Datetime.now()})
            event._process(json.loads(event.payload or "{}"))
            if event.state == "failed" and event.retry_count >= MAX_RETRIES:
                event.state = "given_up"
                _logger.warning("WeChat event %s given up after %s retries: %s", event.id, MAX_RETRIES, event.error)

    def action_retry(self):
        """Process again (a manager's button): only events received with a valid WeChat signature."""
        self.check_access("write")
        self.sudo().filtered(lambda e: e.state != "done" and e.signature_checked)._retry()
        return True
