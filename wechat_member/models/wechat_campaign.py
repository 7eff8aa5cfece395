import hashlib
import json
import logging
from datetime import timedelta

import psycopg2
from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, consteq, split_every
from odoo.tools.misc import hmac as hmac_sign

from ..tools.wechat_api import NETWORK_ERROR, WeChatError

_logger = logging.getLogger(__name__)

CHUNK_SIZE = 10000  # message/mass/send takes 2 to 10 000 openids
MONTHLY_MASS_LIMIT = 4  # WeChat: 4 mass messages per follower per month
TEXT_LIMIT = 600
# WeChat answers that mean "later": the campaign pauses and the cron resumes it.
TRANSIENT_ERRORS = (-1, NETWORK_ERROR, 45009, 45011, 45066)
RESUME_DELAY = timedelta(minutes=5)  # a send paused by WeChat's "later" resumes after this
# What the campaigns cron sends: due scheduled campaigns, those being sent, paused ones whose delay is over.
DUE_SQL = """
    (c.state = 'scheduled' AND (c.schedule_date IS NULL OR c.schedule_date <= %(now)s))
    OR c.state = 'sending'
    OR (c.state = 'paused' AND (c.resume_date IS NULL OR c.resume_date <= %(now)s))
"""


class WeChatCampaign(models.Model):
    """A segmented mass send, within WeChat's rules.

    Preparation freezes the audience as recipients (holdout drawn, members
    over the monthly quota or the contact budget excluded and counted),
    then cuts them into chunks of at most 10 000 openids, each with its own
    ``clientmsgid``: a crash or a retry is answered 45065 by WeChat instead
    of sending twice.  An audience that is exactly a WeChat tag goes out as
    one ``sendall`` by tag.
    """

    _name = "wechat.campaign"
    _description = "WeChat Campaign"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    account_id = fields.Many2one("wechat.account", required=True, check_company=True, tracking=True)
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("scheduled", "Scheduled"),
            ("sending", "Sending"),
            ("paused", "Paused"),
            ("done", "Sent"),
            ("failed", "Failed"),
            ("cancelled", "Cancelled"),
        ],
        default="draft",
        required=True,
        tracking=True,
        index=True,
        copy=False,
    )
    content_type = fields.Selection(
        [("text", "Text"), ("news", "Article (news)"), ("image", "Image")],
        string="Content",
        default="text",
        required=True,
    )
    text_content = fields.Text("Message", translate=False)
    media_id = fields.Char("WeChat Media ID", help="The article (news) or image media_id from WeChat's library.")
    link_url = fields.Char("Link", help="Appended to a text message through a click-tracking link.")
    audience = fields.Selection(
        [
            ("segment", "Segment"),
            ("tag", "WeChat Tag"),
            ("all", "All Followers"),
            ("digest", "Daily digest of notices"),
        ],
        default="segment",
        required=True,
        help="Daily digest: the members whose marketing notices no other channel could carry (made by the notice "
        "router).",
    )
    notice_ids = fields.One2many("wechat.notice", "campaign_id", string="Notices", readonly=True)
    segment_id = fields.Many2one("wechat.segment", check_company=True)
    tag_id = fields.Many2one("wechat.tag", string="Tag", check_company=True)
    schedule_date = fields.Datetime("Send On", help="Leave empty to send now.", copy=False)
    repeat = fields.Selection(
        [("none", "Once"), ("weekly", "Every week"), ("monthly", "Every month")],
        default="none",
        required=True,
        help="Recurring campaigns are copied after each send.",
    )
    holdout_percent = fields.Integer(
        "Holdout (%)", default=0, help="Share of the audience not sent, to measure the real uplift."
    )
    attribution_days = fields.Integer("Attribution Window (days)", default=7)
    sent_date = fields.Datetime(readonly=True, copy=False)
    error = fields.Text(readonly=True, copy=False)
    resume_date = fields.Datetime(
        "Resume On", readonly=True, copy=False, help="WeChat asked to send later: the send resumes from then on."
    )
    processed_count = fields.Integer(
        "Processed", readonly=True, copy=False, help="Recipients of the chunks sent (or refused by WeChat) so far."
    )
    chunk_ids = fields.One2many("wechat.campaign.chunk", "campaign_id", readonly=True, copy=False)
    recipient_ids = fields.One2many("wechat.campaign.recipient", "campaign_id", readonly=True, copy=False)
    # Audience figures, frozen at preparation.
    audience_count = fields.Integer(readonly=True, copy=False)
    excluded_quota_count = fields.Integer("Over Monthly Quota", readonly=True, copy=False)
    excluded_budget_count = fields.Integer("Over Contact Budget", readonly=True, copy=False)
    holdout_count = fields.Integer(readonly=True, copy=False)
    recipient_count = fields.Integer("To Send", readonly=True, copy=False)
    # WeChat's results (MASSSENDJOBFINISH and mass/get), summed over chunks.
    total_count = fields.Integer("WeChat Total", compute="_compute_results")
    filter_count = fields.Integer("WeChat After Filter", compute="_compute_results")
    sent_count = fields.Integer("Delivered", compute="_compute_results")
    error_count = fields.Integer("Errors", compute="_compute_results")
    click_count = fields.Integer("Clicks", readonly=True, copy=False)
    # Attribution: orders of recipients vs holdout after the send.
    sent_buyers = fields.Integer(compute="_compute_attribution")
    sent_revenue = fields.Float(digits="Account", compute="_compute_attribution")
    holdout_buyers = fields.Integer(compute="_compute_attribution")
    holdout_revenue = fields.Float(digits="Account", compute="_compute_attribution")
    sent_purchase_rate = fields.Float("Purchase Rate (sent, %)", compute="_compute_attribution")
    holdout_purchase_rate = fields.Float("Purchase Rate (holdout, %)", compute="_compute_attribution")
    incremental_revenue = fields.Float(digits="Account", compute="_compute_attribution")

    # Reach before sending (not stored: quotas change with every send).
    reach_summary = fields.Char(
        "Reach",
        compute="_compute_reach",
        help="Before sending: the members of the audience a mass send reaches now (followers who have not had "
        "WeChat's 4 mass messages this month nor the account's weekly contact budget; the holdout is drawn from "
        "them), and those it does not reach (not following, over the monthly cap, over the budget).",
    )
    reach_count = fields.Integer("Reachable Members", compute="_compute_reach")
    unreachable_count = fields.Integer("Unreachable Members", compute="_compute_reach")

    @api.constrains("holdout_percent", "attribution_days")
    def _check_percent(self):
        for campaign in self:
            if not 0 <= campaign.holdout_percent <= 50:
                raise ValidationError(_("The holdout is between 0 and 50 %."))
            if campaign.attribution_days < 0:
                raise ValidationError(_("The attribution window cannot be negative."))

    @api.depends("chunk_ids.total_count", "chunk_ids.filter_count", "chunk_ids.sent_count", "chunk_ids.error_count")
    def _compute_results(self):
        for campaign in self:
            chunks = campaign.chunk_ids
            campaign.total_count = sum(chunks.mapped("total_count"))
            campaign.filter_count = sum(chunks.mapped("filter_count"))
            campaign.sent_count = sum(chunks.mapped("sent_count"))
            campaign.error_count = sum(chunks.mapped("error_count"))

    def _compute_attribution(self):
        self.env.flush_all()
        for campaign in self:
            values = dict.fromkeys(("sent_buyers", "holdout_buyers"), 0)
            values.update(dict.fromkeys(("sent_revenue", "holdout_revenue"), 0.0))
            if campaign.sent_date and campaign.recipient_ids:
                recipients = SQL(
                    """SELECT m.partner_id FROM wechat_campaign_recipient r
                         JOIN wechat_member m ON m.id = r.member_id WHERE r.campaign_id = %s""",
                    campaign.id,
                )
                purchases = self.env["pos.order"]._wechat_purchases_sql(
                    partners=recipients,
                    date_from=campaign.sent_date,
                    net=True,
                    date_to=campaign.sent_date + timedelta(days=campaign.attribution_days),
                )
                self.env.cr.execute(
                    SQL(
                        """
                    SELECT r.holdout, count(DISTINCT o.partner_id), COALESCE(sum(o.net_amount), 0)
                      FROM wechat_campaign_recipient r
                      JOIN wechat_member m ON m.id = r.member_id
                      JOIN (%s) o ON o.partner_id = m.partner_id
                     WHERE r.campaign_id = %s
                     GROUP BY r.holdout
                    """,
                        purchases,
                        campaign.id,
                    )
                )
                for holdout, buyers, revenue in self.env.cr.fetchall():
                    key = "holdout" if holdout else "sent"
                    values[f"{key}_buyers"], values[f"{key}_revenue"] = buyers, revenue
            sent_size = campaign.recipient_count or 0
            holdout_size = campaign.holdout_count or 0
            campaign.update(values)
            campaign.sent_purchase_rate = 100.0 * values["sent_buyers"] / sent_size if sent_size else 0.0
            campaign.holdout_purchase_rate = 100.0 * values["holdout_buyers"] / holdout_size if holdout_size else 0.0
            expected = values["holdout_revenue"] * sent_size / holdout_size if holdout_size else 0.0
            campaign.incremental_revenue = values["sent_revenue"] - expected if holdout_size else 0.0

    @api.depends("state", "account_id", "audience", "segment_id", "tag_id")
    def _compute_reach(self):
        Log = self.env["wechat.message.log"].sudo()
        for campaign in self:
            campaign.reach_count = campaign.unreachable_count = 0
            campaign.reach_summary = False
            if (
                campaign.state not in ("draft", "scheduled")
                or not campaign.account_id
                or (campaign.audience == "segment" and not campaign.segment_id)
                or (campaign.audience == "tag" and not campaign.tag_id)
            ):
                continue
            member_ids = campaign._audience_all_member_ids()
            self.env.flush_all()
            self.env.cr.execute(
                "SELECT id FROM wechat_member WHERE id = ANY(%s) AND state = 'follower' ORDER BY id", [member_ids]
            )
            followers = [row[0] for row in self.env.cr.fetchall()]
            over_quota = Log._over_monthly_quota(followers, MONTHLY_MASS_LIMIT)
            over_budget = Log._over_budget(campaign.account_id, set(followers) - over_quota)
            reach = len(followers) - len(over_quota) - len(over_budget)
            campaign.reach_count = reach
            campaign.unreachable_count = len(member_ids) - reach
            if not member_ids:
                campaign.reach_summary = _("nobody")
                continue
            campaign.reach_summary = _(
                "Mass send %(reach)s · not reachable %(none)s (not following %(unfollowed)s, over WeChat's %(limit)s "
                "a month %(quota)s, over the contact budget %(budget)s)",
                reach=reach,
                none=len(member_ids) - reach,
                unfollowed=len(member_ids) - len(followers),
                limit=MONTHLY_MASS_LIMIT,
                quota=len(over_quota),
                budget=len(over_budget),
            )

    def _audience_all_member_ids(self):
        """The audience's members whatever their state (``_audience_member_ids``: its followers), by SQL."""
        self.ensure_one()
        campaign = self._origin or self
        if self.audience == "segment":
            return self.segment_id._origin._member_ids()
        if self.audience == "tag":
            return self.tag_id._origin.member_ids.ids
        self.env.flush_all()
        if self.audience == "digest":
            self.env.cr.execute(
                "SELECT DISTINCT member_id FROM wechat_notice WHERE campaign_id = %s", [campaign.id or 0]
            )
        else:
            self.env.cr.execute(
                "SELECT id FROM wechat_member WHERE account_id = %s AND state = 'follower'",
                [self.account_id._origin.id],
            )
        return [row[0] for row in self.env.cr.fetchall()]

    # ------------------------------------------------------------------ content
    def _click_url(self):
        self.ensure_one()
        sig = hmac_sign(self.env(su=True), "wechat-campaign-click", str(self.id))[:16]
        return f"{self.get_base_url()}/wechat/c/{self.id}/{sig}"

    def _check_click_signature(self, sig):
        if not isinstance(sig, str) or not sig.isascii():
            return False
        return consteq(sig, hmac_sign(self.env(su=True), "wechat-campaign-click", str(self.id))[:16])

    def _message_payload(self):
        """The ``msgtype`` part of a mass send."""
        self.ensure_one()
        if self.content_type == "text":
            text = self.text_content or ""
            if self.link_url:
                text = f"{text}\n{self._click_url()}"
            return {"msgtype": "text", "text": {"content": text}}
        if self.content_type == "news":
            return {"msgtype": "mpnews", "mpnews": {"media_id": self.media_id}, "send_ignore_reprint": 0}
        return {"msgtype": "image", "images": {"media_ids": [self.media_id]}}

    def _check_content(self):
        for campaign in self:
            if campaign.content_type == "text":
                if not (campaign.text_content or "").strip():
                    raise UserError(_("The campaign %(name)s has no message.", name=campaign.name))
                if len(campaign.text_content) > TEXT_LIMIT:
                    raise UserError(_("A WeChat text message has at most %(limit)s characters.", limit=TEXT_LIMIT))
            elif not campaign.media_id:
                raise UserError(_("Articles and images need the WeChat media ID."))
            if campaign.audience == "segment" and not campaign.segment_id:
                raise UserError(_("Choose the segment to send to."))
            if campaign.audience == "tag" and not campaign.tag_id:
                raise UserError(_("Choose the tag to send to."))

    # ------------------------------------------------------------------ audience
    def _audience_member_ids(self):
        """The audience's followers, by id, in SQL (a million members are never read by the ORM)."""
        self.ensure_one()
        if self.audience == "all":
            self.env.flush_all()
            self.env.cr.execute(
                "SELECT id FROM wechat_member WHERE account_id = %s AND state = 'follower' ORDER BY id",
                [self.account_id.id],
            )
        else:
            member_ids = self._audience_all_member_ids()
            self.env.flush_all()
            self.env.cr.execute(
                "SELECT id FROM wechat_member WHERE id = ANY(%s) AND state = 'follower' ORDER BY id", [member_ids]
            )
        return [row[0] for row in self.env.cr.fetchall()]

    def _prepare(self):
        """Freeze the audience into recipients and chunks (idempotent: done once)."""
        self.ensure_one()
        if self.chunk_ids:
            return
        self._check_content()
        member_ids = self._audience_member_ids()
        Log = self.env["wechat.message.log"]
        over_quota = Log._over_monthly_quota(member_ids, MONTHLY_MASS_LIMIT)
        over_budget = Log._over_budget(self.account_id, set(member_ids) - over_quota)
        eligible = [m for m in member_ids if m not in over_quota and m not in over_budget]
        holdout = {m for m in eligible if self._in_holdout(m)} if self.holdout_percent else set()
        to_send = [m for m in eligible if m not in holdout]
        by_tag = self.audience == "tag" and not (over_quota or over_budget or holdout)
        if not to_send:
            raise UserError(_("Nobody to send to: the audience is empty or everyone is excluded."))
        if len(to_send) < 2 and not by_tag:
            raise UserError(_("WeChat sends a mass message to at least 2 followers; this audience has 1."))
        self.write(
            {
                "audience_count": len(member_ids),
                "excluded_quota_count": len(over_quota),
                "excluded_budget_count": len(over_budget),
                "holdout_count": len(holdout),
                "recipient_count": len(to_send),
            }
        )
        Chunk = self.env["wechat.campaign.chunk"]
        chunks = [to_send] if by_tag else list(split_every(CHUNK_SIZE, to_send, list))
        if not by_tag and len(chunks[-1]) < 2 and len(chunks) > 1:  # WeChat refuses a list of 1
            chunks[-2:] = [chunks[-2][:-1], [chunks[-2][-1]] + chunks[-1]]
        for sequence, ids in enumerate(chunks, start=1):
            chunk = Chunk.create(
                {
                    "campaign_id": self.id,
                    "sequence": sequence,
                    "by_tag": by_tag,
                    "clientmsgid": f"wm{self.env.cr.dbname[:20]}-{self.id}-{sequence}"[:64],
                    "member_count": len(ids),
                }
            )
            self._insert_recipients(ids, chunk.id, holdout=False)
        if holdout:
            self._insert_recipients(sorted(holdout), None, holdout=True)

    def _in_holdout(self, member_id):
        digest = hashlib.sha256(f"{self.id}:{member_id}".encode()).digest()
        return int.from_bytes(digest[:4], "big") % 100 < self.holdout_percent

    def _insert_recipients(self, member_ids, chunk_id, holdout):
        self.env.flush_all()
        for batch in split_every(5000, member_ids, list):
            self.env.cr.execute(
                """
                INSERT INTO wechat_campaign_recipient (campaign_id, member_id, chunk_id, holdout, create_uid,
                                                       write_uid, create_date, write_date)
                SELECT %s, unnest(%s::int[]), %s, %s, %s, %s, now() at time zone 'UTC', now() at time zone 'UTC'
                """,
                [self.id, batch, chunk_id, holdout, self.env.uid, self.env.uid],
            )
        self.env["wechat.campaign.recipient"].invalidate_model()
        self.invalidate_recordset(["recipient_ids"])

    # ------------------------------------------------------------------ queue
    def _cron(self):
        return self.env.ref("wechat_member.ir_cron_wechat_campaigns")

    def action_schedule(self):
        for campaign in self:
            campaign._check_content()
            campaign.state = "scheduled"
        self._cron()._trigger_list([c.schedule_date or fields.Datetime.now() for c in self])
        return True

    def action_send_now(self):
        """Queue the campaigns for now (a paused one resumes now): the campaigns cron sends them."""
        todo = self.filtered(lambda c: c.state in ("draft", "scheduled", "paused"))
        for campaign in todo.filtered(lambda c: not c.chunk_ids):
            campaign._check_content()
            campaign._check_reach()
        todo.filtered(lambda c: c.state == "paused").write({"state": "sending", "resume_date": False})
        todo.filtered(lambda c: c.state != "sending").write(
            {"state": "scheduled", "schedule_date": fields.Datetime.now()}
        )
        if todo:
            self._cron()._trigger()
        return True

    def _check_reach(self):
        """Refuse now what the preparation would refuse: nobody reachable, or a single follower."""
        self.ensure_one()
        if self.reach_count == 0:
            raise UserError(_("Nobody to send to: the audience is empty or everyone is excluded."))
        if self.reach_count < 2 and self.audience != "tag":
            raise UserError(_("WeChat sends a mass message to at least 2 followers; this audience has 1."))

    def action_cancel(self):
        self.filtered(lambda c: c.state in ("draft", "scheduled", "paused")).state = "cancelled"
        return True

    def action_reset_draft(self):
        self.filtered(lambda c: c.state == "cancelled" and not c.chunk_ids).state = "draft"
        return True

    @api.model
    def _lock_for_sending(self, limit=1, ids=None):
        """Lock due campaigns for this transaction, skipping those another sender holds.

        ``SELECT … FOR NO KEY UPDATE SKIP LOCKED`` (as ``ir.cron`` acquires its
        jobs): two cron workers, or a cron and a digest, never get the same
        campaign.  ``ids``: only among those (any sendable state).  A row
        changed since this transaction's snapshot cannot be locked
        (REPEATABLE READ): it is skipped too, the next run sees it.
        """
        self.env.flush_all()
        where = (
            SQL("c.id = ANY(%s) AND c.state IN ('draft', 'scheduled', 'sending', 'paused')", list(ids))
            if ids is not None
            else SQL(DUE_SQL, now=fields.Datetime.now())
        )
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    SQL(
                        """
                        SELECT c.id FROM wechat_campaign c WHERE %s
                         ORDER BY c.state = 'sending' DESC, COALESCE(c.schedule_date, c.create_date), c.id
                         LIMIT %s FOR NO KEY UPDATE SKIP LOCKED
                        """,
                        where,
                        limit,
                    )
                )
                return self.browse([row[0] for row in self.env.cr.fetchall()])
        except psycopg2.errors.SerializationFailure:
            return self.browse()

    @api.model
    def _queue_remaining(self):
        """The steps left: a step per chunk still to send of the due campaigns (one for a campaign to prepare)."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                SELECT COALESCE(sum(GREATEST(1, (SELECT count(*) FROM wechat_campaign_chunk k
                                                  WHERE k.campaign_id = c.id AND k.state = 'pending'))), 0)
                  FROM wechat_campaign c WHERE %s
                """,
                SQL(DUE_SQL, now=fields.Datetime.now()),
            )
        )
        return self.env.cr.fetchone()[0]

    @api.model
    def _cron_send(self):
        """The campaigns cron: one step of the first due campaign it can lock, then report the progress.

        ``ir.cron`` commits the step and calls again while steps remain (up
        to 10 times a run, then it runs again at once): a chunk sent is
        committed before the next one goes.  Called directly (tests, "Run
        Manually"), it does one step and commits nothing.
        """
        campaign = self._lock_for_sending()
        if campaign:
            try:
                campaign._send_step()
            except UserError as exc:
                campaign.write({"state": "failed", "error": str(exc)})
        # Results that crossed the sending transaction's commit.
        self.env["wechat.campaign.chunk"].search(
            [("state", "=", "sent"), ("wechat_status", "=", False), ("msg_id", "!=", False)]
        )._apply_stored_job_result()
        remaining = self._queue_remaining()
        self.env["ir.cron"]._notify_progress(done=len(campaign), remaining=remaining)
        if campaign and remaining:
            self._cron()._trigger()  # wake a cron worker when this run stops after its 10 steps
        return True

    # ------------------------------------------------------------------ sending
    def _send(self):
        """Send the whole campaign in this transaction (the daily digest's cron), unless another sender has it."""
        self.ensure_one()
        if self.state not in ("draft", "scheduled", "sending", "paused") or not self._lock_for_sending(ids=self.ids):
            return
        self._send_step()
        while self.state == "sending":
            self._send_step()

    def _send_step(self):
        """One step of a locked campaign: prepare it, or send its next chunk (finish after the last one).

        WeChat's "later" errors pause the send for ``RESUME_DELAY``.
        """
        self.ensure_one()
        if self.state not in ("draft", "scheduled", "sending", "paused"):
            return
        if not self.chunk_ids:
            self._prepare()
            self.write({"state": "sending", "error": False, "resume_date": False})
            return
        if self.state != "sending":
            self.write({"state": "sending", "error": False, "resume_date": False})
        chunk = self.chunk_ids._lock_pending(limit=1)
        if chunk:
            try:
                chunk._send()
            except WeChatError as exc:
                if exc.errcode in TRANSIENT_ERRORS:
                    resume = fields.Datetime.now() + RESUME_DELAY
                    self.write({"state": "paused", "error": str(exc), "resume_date": resume})
                    self._cron()._trigger(resume)
                    return
                chunk.write({"state": "failed", "error": str(exc)})
            chunk._apply_stored_job_result()
            done = self.chunk_ids.filtered(lambda c: c.state != "pending")
            self.processed_count = sum(done.mapped("member_count"))
        if not self.chunk_ids.filtered(lambda c: c.state == "pending"):
            self._finish()

    def _finish(self):
        failed = self.chunk_ids.filtered(lambda c: c.state == "failed")
        self.write(
            {
                "state": "failed" if failed and len(failed) == len(self.chunk_ids) else "done",
                "sent_date": fields.Datetime.now(),
                "error": "\n".join(failed.mapped("error")) or False,
                "resume_date": False,
            }
        )
        if self.repeat != "none":
            self._schedule_next()

    def _schedule_next(self):
        step = relativedelta(weeks=1) if self.repeat == "weekly" else relativedelta(months=1)
        following = self.copy(
            {
                "state": "scheduled",
                "schedule_date": (self.schedule_date or fields.Datetime.now()) + step,
                "name": self.name,
            }
        )
        self._cron()._trigger(following.schedule_date)

    def action_preview(self):
        """Send the content to the account's test followers (``mass/preview``)."""
        self.ensure_one()
        self._check_content()
        openids = [o.strip() for o in (self.account_id.preview_openids or "").split(",") if o.strip()]
        if not openids:
            raise UserError(_("Set the preview openids on the WeChat account first."))
        for openid in openids:
            self.account_id._api().post("message/mass/preview", dict(self._message_payload(), touser=openid))
        return True

    def action_refresh_results(self):
        """Ask WeChat for each sent chunk's status (``mass/get``); apply job results received meanwhile."""
        self.chunk_ids._apply_stored_job_result()
        for chunk in self.chunk_ids.filtered("msg_id"):
            res = chunk.campaign_id.account_id._api().post("message/mass/get", {"msg_id": int(chunk.msg_id)})
            chunk.wechat_status = res.get("msg_status")
        return True

    # ------------------------------------------------------------------ demo
    def _demo_sent(self, days_ago):
        """Demo (``demo/wechat_member_demo.xml``): this campaign as sent ``days_ago`` days ago.

        The audience frozen as by a real send (recipients, holdout, chunks),
        then each chunk sent and WeChat's MASSSENDJOBFINISH stored and applied:
        one follower filtered out (blocked the account) and one error per
        chunk.  No message leaves Odoo.
        """
        for campaign in self.filtered(lambda c: c.state == "draft"):
            campaign._prepare()
            sent_date = fields.Datetime.now() - timedelta(days=days_ago)
            for chunk in campaign.chunk_ids:
                msg_id = f"{3147483600 + chunk.id}"
                total = chunk.member_count
                result = {
                    "Status": "send success",
                    "TotalCount": total,
                    "FilterCount": max(total - 1, 0),
                    "SentCount": max(total - 2, 0),
                    "ErrorCount": min(total, 1),
                    "MsgID": msg_id,
                }
                self.env["wechat.event"].sudo().create(
                    {
                        "account_id": campaign.account_id.id,
                        "dedupe_key": f"evt:{campaign.account_id.appid}|{int(sent_date.timestamp())}"
                        f"|MASSSENDJOBFINISH||{msg_id}",
                        "msg_type": "event",
                        "event": "MASSSENDJOBFINISH",
                        "openid": campaign.account_id.appid,
                        "create_time": int(sent_date.timestamp()),
                        "create_date": sent_date,
                        "payload": json.dumps(result),
                        "mass_msg_id": msg_id,
                        "state": "done",
                    }
                )
                chunk.write({"state": "sent", "msg_id": msg_id})
                chunk._apply_job_result(result)
            campaign.write(
                {
                    "state": "done",
                    "sent_date": sent_date,
                    "processed_count": sum(campaign.chunk_ids.mapped("member_count")),
                }
            )
        return True
