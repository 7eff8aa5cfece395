import json
import logging
from datetime import datetime, timedelta, timezone

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL, plaintext2html

from ..tools.orm import cache_inserted_row
from ..tools.wechat_api import MediaTooLarge, WeChatError
from .wechat_member import CS_GRANT_EVENT, CS_GRANT_MESSAGE

_logger = logging.getLogger(__name__)

# Events whose sender gets a member record on first contact.
MEMBER_EVENTS = ("subscribe", "SCAN", "CLICK", "VIEW", "unsubscribe")
PAYLOAD_LIMIT = 8000
LOCATION_SELECT_ECHO_SECONDS = 60  # a location picked from the menu comes back as a message within this
MAX_RETRIES = 5  # the retry cron's attempts at an event whose processing failed; then it gives up
RETRY_DELAY = timedelta(minutes=10)  # between two attempts of the cron
# Inbound media of a conversation: the content type WeChat must answer for each message type, and the size
# allowed (WeChat's own limits for temporary media: image 10 MB, voice 2 MB, video 10 MB).
MEDIA_TYPES = {"image": ("image/",), "voice": ("audio/", "voice/"), "video": ("video/",)}
MEDIA_MAX_SIZE = {"image": 10 * 1024 * 1024, "voice": 2 * 1024 * 1024, "video": 10 * 1024 * 1024}
MEDIA_MAX_ATTEMPTS = 5  # downloads of one media (the first and the cron's retries), then given up
MEDIA_RETRY_DELAY = timedelta(minutes=5)
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
    cs_message_id = fields.Many2one(
        "mail.message", "Conversation Message", readonly=True, index="btree_not_null", ondelete="set null"
    )
    media_state = fields.Selection(
        [("pending", "Download Pending"), ("done", "Downloaded"), ("failed", "Not Available")],
        readonly=True,
        index="btree_not_null",
        copy=False,
    )
    media_attempts = fields.Integer(readonly=True, copy=False)
    media_retry_date = fields.Datetime(readonly=True, copy=False)
    media_error = fields.Char(readonly=True, copy=False)
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
        values = {
            "account_id": account.id,
            "company_id": account.company_id.id,
            "dedupe_key": self._dedupe_key(msg),
            "msg_type": msg_type,
            "event": event or None,
            "event_key": msg.get("EventKey") or None,
            "openid": msg.get("FromUserName"),
            "content": (msg.get("Content") or "")[:2000] or None,
            "payload": json.dumps(msg, ensure_ascii=False)[:PAYLOAD_LIMIT],
            "create_time": create_time,
            "state": "received",
            "signature_checked": bool(signature_checked),
            "create_uid": self.env.uid,
            "write_uid": self.env.uid,
            "create_date": now,
            "write_date": now,
        }
        self.env.cr.execute(
            SQL(
                "INSERT INTO wechat_event (%s) VALUES %s ON CONFLICT (account_id, dedupe_key) DO NOTHING RETURNING id",
                SQL(", ").join(SQL.identifier(fname) for fname in values),
                tuple(values.values()),
            )
        )
        row = self.env.cr.fetchone()
        if not row:
            return None
        cache_inserted_row(self.sudo().browse(row[0]), values)  # the handlers do not read it back
        return row[0]

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
    def _member(self, state="follower", touch=True, grant=None, new_values=None, defer_contact=False):
        """The sender's member (events of the platform itself have no member).

        ``grant``: the customer-service quota this interaction opens
        ("message" or "event"), from WeChat's time of the event;
        ``new_values``: more fields of a member this event creates.  A new
        member is inserted with them and the interaction: no write follows.
        """
        Member = self.env["wechat.member"]
        when = self._wechat_time()
        values = dict(new_values or {}, **(Member._touch_values(when, grant) if touch else {}))
        member, created = Member._get_or_create(
            self.account_id, self.openid, state=state, values=values, defer_contact=defer_contact
        )
        self.write({"member_id": member.id, "new_member": created})
        if touch and not created:
            member._touch(when=when, grant=grant)
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
        now = fields.Datetime.now()
        new_values = {"subscribe_date": now}
        if channel:
            new_values.update(channel_id=channel.id, qr_scene=channel.scene, subscribe_scene="ADD_SCENE_QR_CODE")
        # The new follower's contact is created when the member is first read (its next message, its member
        # page, the profile cron): not in WeChat's 5 seconds.
        member, created = self._member(grant=CS_GRANT_EVENT, new_values=new_values, defer_contact=True)
        if not created:
            member.write({"state": "follower", "subscribe_date": now, "unsubscribe_date": False})
        if channel:
            self.channel_id = channel
            channel._member_came(member, created)
        if created:  # unionid and subscribe scene are fetched in the background, a little later
            self.env["wechat.member"]._trigger_fetch_user_info()
        return self._text_reply(channel._welcome_text(self.account_id.welcome_message))

    def _handle_scan(self, msg):
        channel = self._channel_from_key(msg.get("EventKey"))
        member, created = self._member(grant=CS_GRANT_EVENT)
        if created and channel:
            member.channel_id = channel
        if channel:
            self.channel_id = channel
            channel._member_came(member, created)
        return self._text_reply(channel._welcome_text()) if channel else None

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
        # No self-service answer: the message goes to the staff, in the member's conversation.
        member._cs_post_inbound(self, msg)
        return self._text_reply(self.account_id.default_reply)

    def _handle_image(self, msg):
        member, __ = self._member(grant=CS_GRANT_MESSAGE)
        member._cs_post_inbound(self, msg)
        return None

    _handle_voice = _handle_video = _handle_link = _handle_image

    # ------------------------------------------------------------------ locations: the nearest stores
    def _handle_location(self, msg):
        """A location message (``Location_X``/``Location_Y``) is answered with the nearest stores; the
        ``LOCATION`` event (reported when the member enters the chat) is only kept: WeChat lets no reply
        answer it ("success" only)."""
        if self.msg_type == "event":
            member, __ = self._member()  # entering the chat opens no customer-service quota
            member._set_location(msg.get("Latitude"), msg.get("Longitude"), self._wechat_time())
            return None
        member, __ = self._member(grant=CS_GRANT_MESSAGE)
        point = member._set_location(msg.get("Location_X"), msg.get("Location_Y"), self._wechat_time())
        if point and self._location_just_answered(member):
            return None  # the location picked from the menu, answered a moment ago (``location_select``)
        stores = self.env["pos.config"]._wechat_stores(self.account_id) if point else None
        if not stores:
            member._cs_post_inbound(self, msg)  # nothing to answer with: the staff see it
            return None
        return self._text_reply(self.env["pos.config"]._wechat_nearest_text(self.account_id, *point))

    def _handle_location_select(self, msg):
        """The custom menu's "send my location" button (``location_select``): the nearest stores."""
        member, __ = self._member()  # not one of the menu events that open a customer-service quota
        info = msg.get("SendLocationInfo") if isinstance(msg.get("SendLocationInfo"), dict) else {}
        point = member._set_location(info.get("Location_X"), info.get("Location_Y"), self._wechat_time())
        if not point:
            return None
        return self._text_reply(self.env["pos.config"]._wechat_nearest_text(self.account_id, *point))

    def _location_just_answered(self, member):
        """Whether the member's location was answered from the menu a moment ago: WeChat sends the picked
        location as a message too, which gets no second answer."""
        since = fields.Datetime.subtract(fields.Datetime.now(), seconds=LOCATION_SELECT_ECHO_SECONDS)
        return bool(
            self.sudo().search_count(
                [
                    ("member_id", "=", member.id),
                    ("event", "=", "location_select"),
                    ("state", "=", "done"),
                    ("create_date", ">=", since),
                ],
                limit=1,
            )
        )

    # ------------------------------------------------------------------ conversations
    def _cs_body(self, msg, channel):
        """``(HTML body, attachments)`` of the member's message ``msg`` in ``channel``.

        Images, voice and video are downloaded with ``media/get`` (once here,
        then by the retry cron while WeChat is unreachable).
        """
        self.ensure_one()
        kind = self.msg_type
        if kind == "text":
            return plaintext2html(msg.get("Content") or ""), self.env["ir.attachment"]
        if kind == "location":
            text = _(
                "[location] %(label)s (%(x)s, %(y)s)",
                label=msg.get("Label") or "",
                x=msg.get("Location_X") or "",
                y=msg.get("Location_Y") or "",
            )
            return plaintext2html(text), self.env["ir.attachment"]
        if kind == "link":
            return (
                Markup("<p>%s <a href='%s' target='_blank' rel='noopener noreferrer'>%s</a><br/>%s</p>")
                % (_("[link]"), _safe_url(msg.get("Url")), msg.get("Title") or "", msg.get("Description") or ""),
                self.env["ir.attachment"],
            )
        if kind in MEDIA_TYPES:
            attachments, extra = self._cs_download(msg, channel)
            return self._cs_media_body(msg, extra), attachments
        return plaintext2html(_("[%(type)s message]", type=kind or "?")), self.env["ir.attachment"]

    def _cs_media_label(self):
        return {"image": _("[image]"), "voice": _("[voice]"), "video": _("[video]")}.get(self.msg_type, "")

    def _cs_media_body(self, msg, extra=""):
        label = self._cs_media_label()
        if self.media_state == "pending":
            label = {
                "image": _("[image — download pending]"),
                "voice": _("[voice — download pending]"),
                "video": _("[video — download pending]"),
            }[self.msg_type]
        elif self.media_state == "failed":
            label = _("%(label)s (not available: %(reason)s)", label=label, reason=self.media_error or "")
        body = plaintext2html(label)
        if self.msg_type == "voice" and msg.get("Recognition"):
            body += plaintext2html(_("Recognised text: %(text)s", text=msg["Recognition"]))
        if extra:
            body += extra
        return body

    def _cs_download(self, msg, channel):
        """Download the message's media into an attachment of ``channel``: ``(attachments, extra HTML)``.

        No download on a 4xx, an oversized file or a content type that is not
        the message's (the message is "not available"); a network error or a
        timeout leaves it "pending" for the cron, ``MEDIA_MAX_ATTEMPTS`` times.
        """
        self.ensure_one()
        Attachment = self.env["ir.attachment"].sudo()
        kind = self.msg_type
        media_id = msg.get("MediaId")
        vals = {"media_attempts": self.media_attempts + 1, "media_retry_date": fields.Datetime.now()}
        if not media_id:
            self.write(dict(vals, media_state="failed", media_error=_("no media id")))
            return Attachment, ""
        try:
            content, content_type = self.account_id._api().media_get(media_id, MEDIA_MAX_SIZE[kind])
        except MediaTooLarge as exc:
            self.write(dict(vals, media_state="failed", media_error=_("over %(mb)s MB", mb=_mb(MEDIA_MAX_SIZE[kind]))))
            _logger.info("WeChat event %s: media of %s bytes not downloaded", self.id, exc.size)
            return Attachment, ""
        except WeChatError as exc:
            status = exc.data.get("http_status")
            retry = (isinstance(status, int) and status >= 500) or (status is None and exc.errcode in (-1, -2))
            if retry and vals["media_attempts"] < MEDIA_MAX_ATTEMPTS:
                self.write(dict(vals, media_state="pending", media_error=str(exc)[:200]))
            else:
                self.write(dict(vals, media_state="failed", media_error=str(exc)[:200]))
            return Attachment, ""
        if content is None:  # a video: WeChat answers its download URL
            url = _safe_url(content_type.get("video_url"))
            self.write(dict(vals, media_state="done", media_error=False))
            extra = Markup("<p><a href='%s' target='_blank' rel='noopener noreferrer'>%s</a></p>") % (
                url,
                _("Download the video"),
            )
            return Attachment, extra if url != "#" else ""
        if not content_type.startswith(MEDIA_TYPES[kind]):
            self.write(dict(vals, media_state="failed", media_error=_("unexpected type %(type)s", type=content_type)))
            return Attachment, ""
        self.write(dict(vals, media_state="done", media_error=False))
        extension = (content_type.split("/")[1] if "/" in content_type else "bin")[:8]
        attachment = Attachment.create(
            {
                "name": f"wechat-{kind}-{self.id}.{extension}",
                "raw": content,
                "mimetype": content_type,
                "res_model": "discuss.channel",
                "res_id": channel.id,
            }
        )
        return attachment, ""

    @api.model
    def _cron_retry_media(self, limit=100):
        """Download again the media of conversation messages that WeChat did not serve (network, timeout)."""
        domain = [
            ("media_state", "=", "pending"),
            ("cs_message_id", "!=", False),
            "|",
            ("media_retry_date", "=", False),
            ("media_retry_date", "<=", fields.Datetime.now() - MEDIA_RETRY_DELAY),
        ]
        Event = self.sudo()
        events = Event.search(domain, limit=limit, order="id")
        for event in events:
            event._cs_retry_media()
        self.env["ir.cron"]._notify_progress(done=len(events), remaining=Event.search_count(domain))
        return True

    def _cs_retry_media(self):
        self.ensure_one()
        message = self.cs_message_id
        channel = self.env["discuss.channel"].sudo().browse(message.res_id)
        msg = json.loads(self.payload or "{}")
        attachments, extra = self._cs_download(msg, channel)
        if self.media_state == "pending":
            return
        # The message keeps its place in the thread; its text now says what came of the download.
        channel._message_update_content(
            message.sudo(),
            self._cs_media_body(msg, extra),
            attachment_ids=(message.attachment_ids | attachments).ids,
        )

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


def _safe_url(url):
    """``url`` if it is a web address, else "#" (a link from WeChat is shown, never run)."""
    url = (url or "").strip()
    return url if url.startswith(("http://", "https://")) else "#"


def _mb(size):
    return size // (1024 * 1024)
