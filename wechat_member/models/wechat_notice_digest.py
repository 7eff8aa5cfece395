from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .wechat_campaign import MONTHLY_MASS_LIMIT

FINAL_CAMPAIGN_STATES = ("done", "failed", "cancelled")


class WeChatNoticeDigest(models.AbstractModel):
    """The daily digest: marketing notices WeChat allows by no other channel, in one mass send per account.

    Once a day, from the account's digest hour on, the members with notices
    waiting are sent one openid-list mass send (a ``wechat.campaign`` of
    audience "digest": 2 to 10 000 openids a call, WeChat's monthly cap of
    4, the contact budget and a holdout kept by the campaign machinery); the
    message links to the member page, which shows each member their own
    offers.  Each member is in the digest once whatever the number of their
    notices.  The notices are settled (sent, or not sent with the reason)
    only when the campaign is final: a send paused by WeChat resumes with
    the campaign cron and settles then.
    """

    _name = "wechat.notice.digest"
    _description = "WeChat Notice Digest"

    @api.model
    def _cron_digest(self, force=False):
        Notice = self.env["wechat.notice"].sudo()
        self._settle_finished()
        groups = Notice._read_group([("state", "=", "digest"), ("campaign_id", "=", False)], ["account_id"])
        for (account,) in groups:
            if force or account._is_digest_due():
                self._send_digest(account)
        return True

    @api.model
    def _send_digest(self, account):
        Notice = self.env["wechat.notice"].sudo()
        notices = Notice.search(
            [("account_id", "=", account.id), ("state", "=", "digest"), ("campaign_id", "=", False)]
        )
        gone = notices.filtered(lambda n: n.member_id.state != "follower")
        gone.write({"state": "none", "reason": _("Daily digest: the member no longer follows the account.")})
        notices -= gone
        if len(notices.member_id) < 2:
            # WeChat's openid-list mass send needs 2 followers: wait for the next digest.
            notices.write(
                {"reason": _("Waiting for the next digest: WeChat sends a mass message to 2 followers " "or more.")}
            )
            return self.env["wechat.campaign"]
        account = account.sudo().with_context(lang=account.company_id.partner_id.lang or self.env.lang)
        account.digest_last_date = account._digest_today()
        campaign = (
            self.env["wechat.campaign"]
            .sudo()
            .create(
                {
                    "name": _("Daily digest %(date)s", date=account.digest_last_date),
                    "account_id": account.id,
                    "audience": "digest",
                    "content_type": "text",
                    "text_content": account.digest_message,
                    "link_url": account._member_page_url(),
                    "holdout_percent": account.digest_holdout_percent,
                }
            )
        )
        notices.write({"campaign_id": campaign.id})
        try:
            campaign._send()
        except UserError:
            # Fewer than 2 left after the monthly cap, the budget and the holdout: settle what is known.
            campaign.write({"state": "cancelled"})
        if campaign.state in FINAL_CAMPAIGN_STATES:
            self._settle(campaign)
        return campaign

    @api.model
    def _settle_finished(self):
        """Settle the digests whose campaign ended since (a send paused by WeChat, resumed by its cron)."""
        campaigns = (
            self.env["wechat.notice"]
            .sudo()
            .search(
                [
                    ("state", "=", "digest"),
                    ("campaign_id", "!=", False),
                    ("campaign_id.state", "in", FINAL_CAMPAIGN_STATES),
                ]
            )
            .campaign_id
        )
        for campaign in campaigns:
            self._settle(campaign)

    @api.model
    def _settle(self, campaign):
        """Each notice of a finished digest: sent, in the holdout, refused, or excluded (with the reason)."""
        notices = campaign.notice_ids.filtered(lambda n: n.state == "digest")
        recipients = self.env["wechat.campaign.recipient"].sudo().search([("campaign_id", "=", campaign.id)])
        sent = recipients.filtered(lambda r: not r.holdout and r.chunk_id.state == "sent").member_id
        holdout = recipients.filtered("holdout").member_id
        failed = recipients.filtered(lambda r: not r.holdout and r.chunk_id.state == "failed").member_id
        now = fields.Datetime.now()
        notices.filtered(lambda n: n.member_id in sent).write(
            {"state": "sent", "channel": "digest", "sent_date": now, "reason": False}
        )
        notices.filtered(lambda n: n.member_id in holdout).write(
            {"state": "none", "reason": _("Daily digest: in the holdout group, not sent on purpose.")}
        )
        notices.filtered(lambda n: n.member_id in failed).write(
            {
                "state": "none",
                "reason": _("Daily digest: WeChat refused the mass send (%(error)s).", error=campaign.error or ""),
            }
        )
        if campaign.state == "cancelled" and not recipients:
            # Nothing was sent (fewer than 2 left): the excluded members are told why, the others wait.
            Log = self.env["wechat.message.log"].sudo()
            member_ids = notices.member_id.ids
            excluded = Log._over_monthly_quota(member_ids, MONTHLY_MASS_LIMIT)
            excluded |= Log._over_budget(campaign.account_id, member_ids)
            notices = notices.filtered(lambda n: n.state == "digest")
            notices.filtered(lambda n: n.member_id.id not in excluded).write({"campaign_id": False})
            notices = notices.filtered(lambda n: n.member_id.id in excluded)
        notices.filtered(lambda n: n.state == "digest").write(
            {
                "state": "none",
                "reason": _(
                    "Daily digest: the member already had WeChat's 4 mass messages this month, or the "
                    "week's contact budget."
                ),
            }
        )
