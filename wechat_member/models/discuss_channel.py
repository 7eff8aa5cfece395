import logging
from datetime import timedelta

from markupsafe import Markup

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import html2plaintext, plaintext2html

from odoo.addons.mail.tools.discuss import Store

from ..tools.wechat_api import WeChatError

_logger = logging.getLogger(__name__)


class WeChatCSQuotaError(UserError):
    """A reply the customer-service quota cannot carry: Discuss offers to send it as a notice instead (template
    message or subscribe notice, ``discuss.channel.wechat_send_as_notice``)."""


class DiscussChannel(models.Model):
    """A member's WeChat conversation: one channel per member (and so per account).

    As ``im_livechat``'s visitor channels: the member's messages are posted
    with the member's contact as author; the staff of the "WeChat customer
    service" group are the channel's members (unread counters) and answer in
    the thread; their replies go out as customer-service messages, within the
    quota WeChat grants (``wechat.member._cs_quota``), checked before sending.
    """

    _inherit = "discuss.channel"

    wechat_member_id = fields.Many2one(
        "wechat.member", string="WeChat Member", readonly=True, index="btree_not_null", ondelete="cascade"
    )
    wechat_store_id = fields.Many2one(
        "pos.config", string="WeChat Store", readonly=True, help="The store whose staff answers this conversation."
    )
    wechat_waiting_since = fields.Datetime(
        "Waiting Since", readonly=True, help="The member's first message not answered yet."
    )
    wechat_reminded = fields.Boolean(
        "Follow-Up Sent", readonly=True, help="The store manager was asked to follow up the wait."
    )
    wechat_first_response_date = fields.Datetime("First Response", readonly=True)
    wechat_first_response_uid = fields.Many2one("res.users", "First Responder", readonly=True)

    _sql_constraints = [
        ("wechat_member_uniq", "UNIQUE(wechat_member_id)", "A WeChat member has one conversation."),
    ]

    def _to_store(self, store):
        """Discuss knows the conversation's member (its side panel shows the member card)."""
        super()._to_store(store)
        if not self.env.user._is_internal():
            return
        for channel in self.filtered("wechat_member_id"):
            store.add(channel, {"wechat_member_id": channel.wechat_member_id.id})

    @api.returns("mail.message", lambda value: value.id)
    def message_post(self, *, message_type="notification", **kwargs):
        reply = self._wechat_is_reply(message_type, kwargs)
        if reply:
            # Checked and sent before anything is posted: a refused reply is never shown as sent.
            self._wechat_send_reply(kwargs.get("body"), kwargs.get("attachment_ids") or [])
        message = super().message_post(message_type=message_type, **kwargs)
        if reply:
            self._wechat_replied()
        return message

    def _wechat_post_history(self, **kwargs):
        """Post in the conversation without sending to WeChat (demo data: what was said before)."""
        return super().message_post(**kwargs)

    def _wechat_is_reply(self, message_type, kwargs):
        """Whether this post is a staff reply that goes to the member on WeChat."""
        if len(self) != 1 or not self.wechat_member_id or message_type != "comment":
            return False
        # The member's own messages (posted by the webhook) are not replies; a context key from the client never
        # decides (an agent's post always goes to WeChat, or is refused).
        author_id = kwargs.get("author_id") or self.env.user.partner_id.id
        return author_id != self.wechat_member_id.sudo().partner_id.id and self.env.user._is_internal()

    def _wechat_send_reply(self, body, attachment_ids):
        """Send ``body`` (and its images) to the member as customer-service messages, or raise why not."""
        self.ensure_one()
        member = self.wechat_member_id.sudo()
        text = html2plaintext(body or "").strip() if body else ""
        attachments = self.env["ir.attachment"].sudo().browse(attachment_ids).exists()
        images = attachments.filtered(lambda a: (a.mimetype or "").startswith("image/"))
        if attachments - images:
            raise UserError(
                _(
                    "Only images can be sent to a WeChat member: %(files)s cannot.",
                    files=", ".join((attachments - images).mapped("name")),
                )
            )
        needed = len(images) + (1 if text else 0)
        if not needed:
            return
        left, __ = member._cs_quota()
        if left < needed:
            raise WeChatCSQuotaError(member._cs_refusal_reason(needed))
        api = member.account_id._api()
        try:
            for image in images:
                api.send_image(member.openid, image._wechat_media_id(member.account_id))
                member._cs_consume()
            if text:
                api.send_text(member.openid, text)
                member._cs_consume()
        except WeChatError as exc:
            _logger.info("WeChat member %s: customer-service reply refused (%s)", member.id, exc.errcode)
            quota = exc.errcode in (45015, 45047)  # WeChat's own count says the window is closed or used up
            if quota:
                member._cs_close()
            error = WeChatCSQuotaError if quota else UserError
            raise error(_("WeChat did not take the reply: %(error)s", error=str(exc))) from exc

    # ------------------------------------------------------------------ links and notices from Discuss
    def _wechat_check_agent(self):
        """Only customer-service staff who may read this conversation send from it."""
        self.ensure_one()
        if not self.wechat_member_id or not self.env.user.has_group("wechat_member.group_wechat_customer_service"):
            raise AccessError(_("Only WeChat customer service staff can send to a member from this conversation."))
        self.check_access("read")

    def wechat_send_link(self, key):
        """Send the member one of the links of their card (``wechat.member._cs_links``): the member page, a
        store, the coupon wallet, an offer to claim.  A reply like any other: within the quota, or refused with
        ``WeChatCSQuotaError`` (Discuss then offers the notice).  Returns the message as Discuss inserts it."""
        self._wechat_check_agent()
        link = self._wechat_link(key)
        # As Discuss's composer posts (``/mail/message/post``: the thread in sudo, the agent as author).
        message = self.sudo().message_post(
            body=plaintext2html(link["text"]),
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            author_id=self.env.user.partner_id.id,
        )
        return Store(message, for_current_user=True).get_result()

    def _wechat_link(self, key):
        links = {link["key"]: link for link in self.wechat_member_id.sudo()._cs_links()}
        if key not in links:
            raise UserError(_("This link is no longer available for the member: reopen the member card."))
        return links[key]

    def wechat_send_as_notice(self, body=None, link_key=None):
        """Send a reply the customer-service quota cannot carry as a "Customer-service reply" notice: through
        the notice router, by template message or subscribe notice, as the account maps them.  Its link opens
        the member page on the shop's replies.  Posted in the conversation once WeChat took it; otherwise
        refused with the router's reason (nothing is posted, the agent's text stays in the composer)."""
        self._wechat_check_agent()
        text = self._wechat_link(link_key)["text"] if link_key else html2plaintext(body or "").strip()
        if not text:
            raise UserError(_("Write the reply first."))
        member = self.wechat_member_id.sudo()
        account = member.account_id
        values = {
            "reply": text,
            "member_name": member.partner_id.name or "",
            "store": self.wechat_store_id.name or account.name,
            "date": fields.Datetime.to_string(fields.Datetime.now()),
            "url": f"{account._member_page_url()}#wechat-replies",
        }
        outcome = member._send_notice_now("cs_reply", values)
        if not outcome or outcome[0]["state"] != "sent":
            reason = outcome[0]["reason"] if outcome else ""
            raise UserError(
                _("The notice was not sent: %(reason)s", reason=reason or _("no channel reaches the member."))
            )
        channels = dict(self.env["wechat.notice"]._fields["channel"]._description_selection(self.env))
        how = channels.get(outcome[0]["channel"], outcome[0]["channel"])
        message = self.sudo()._wechat_post_history(
            body=plaintext2html(text)
            + Markup('<p><small class="o_wechat_sent_as">%s</small></p>') % _("Sent as %(channel)s.", channel=how),
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            author_id=self.env.user.partner_id.id,
        )
        self.sudo()._wechat_replied()
        return {"channel": how, "store_data": Store(message, for_current_user=True).get_result()}

    def _wechat_replied(self):
        """A staff reply was sent: the wait is over, the first response recorded, the quota shown updated."""
        vals = {"wechat_waiting_since": False, "wechat_reminded": False}
        if not self.wechat_first_response_date:
            vals.update(wechat_first_response_date=fields.Datetime.now(), wechat_first_response_uid=self.env.uid)
        self.sudo().write(vals)
        self._wechat_update_status()

    def _wechat_update_status(self):
        """The channel's description shows the quota left (updated on each message in and out)."""
        for channel in self.sudo():
            member = channel.wechat_member_id
            text = member.with_context(lang=member._cs_shop_lang())._cs_status_text()
            if channel.description != text:
                channel.description = text

    @api.model
    def _cron_wechat_follow_up(self, limit=200):
        """Conversations waiting for a staff reply longer than their account's delay: an activity for the store
        manager (once per wait)."""
        now = fields.Datetime.now()
        channels = self.sudo().search(
            [("wechat_member_id", "!=", False), ("wechat_waiting_since", "!=", False), ("wechat_reminded", "=", False)],
            order="wechat_waiting_since",
            limit=limit,
        )
        todo = self.env.ref("mail.mail_activity_data_todo")
        done = 0
        for channel in channels:
            member = channel.wechat_member_id
            delay = timedelta(minutes=member.account_id.cs_reply_delay or 30)
            if channel.wechat_waiting_since + delay > now:
                continue
            manager = channel._wechat_manager()
            if manager:
                lang = manager.lang or self.env.lang
                minutes = int((now - channel.wechat_waiting_since).total_seconds() // 60)
                # On the member's contact (wechat.member has no activities): the manager calls or writes back.
                member.partner_id.with_context(lang=lang).activity_schedule(
                    activity_type_id=todo.id,
                    summary=_("WeChat message waiting for a reply"),
                    note=_(
                        "%(member)s has been waiting %(minutes)s minutes for an answer in Discuss (%(channel)s).",
                        member=member.display_name,
                        minutes=minutes,
                        channel=channel.name,
                    ),
                    user_id=manager.id,
                )
            channel.wechat_reminded = True
            done += 1
        self.env["ir.cron"]._notify_progress(done=done, remaining=0)
        return True

    def _wechat_manager(self):
        """Who follows up an unanswered conversation: the store's customer-service manager, else a WeChat
        manager of the member's company."""
        self.ensure_one()
        if self.wechat_store_id.wechat_cs_manager_id:
            return self.wechat_store_id.wechat_cs_manager_id
        company = self.wechat_member_id.company_id
        managers = (
            self.env.ref("wechat_member.group_wechat_manager")
            .sudo()
            .users.filtered(lambda u: u.active and not u.share and u.id != SUPERUSER_ID and company in u.company_ids)
        )
        return managers.sorted("id")[:1]

    def action_wechat_open_member(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "wechat.member",
            "res_id": self.wechat_member_id.id,
            "view_mode": "form",
        }
