from odoo import _, api, fields, models
from odoo.exceptions import UserError


class WeChatNoticeDigest(models.AbstractModel):
    """The daily digest: marketing notices WeChat allows by no other channel, in one mass send per account.

    At the account's digest hour the members with notices waiting are sent
    one openid-list mass send (a ``wechat.campaign`` of audience "digest": 2
    to 10 000 openids a call, WeChat's monthly cap of 4, the contact budget
    and a holdout kept by the campaign machinery); the message links to the
    member page, which shows each member their own offers.  Each member is
    in the digest once whatever the number of their notices.
    """

    _name = "wechat.notice.digest"
    _description = "WeChat Notice Digest"

    @api.model
    def _cron_digest(self, force=False):
        Notice = self.env["wechat.notice"]
        groups = Notice._read_group([("state", "=", "digest"), ("campaign_id", "=", False)], ["account_id"])
        for (account,) in groups:
            if force or account._is_digest_hour():
                self._send_digest(account)
        return True

    @api.model
    def _send_digest(self, account):
        Notice = self.env["wechat.notice"]
        notices = Notice.search(
            [("account_id", "=", account.id), ("state", "=", "digest"), ("campaign_id", "=", False)])
        gone = notices.filtered(lambda n: n.member_id.state != "follower")
        gone.write({"state": "none", "reason": _("Daily digest: the member no longer follows the account.")})
        notices -= gone
        if len(notices.member_id) < 2:
            # WeChat's openid-list mass send needs 2 followers: wait for the next digest.
            notices.write({"reason": _("Waiting for the next digest: WeChat sends a mass message to 2 followers "
                                       "or more.")})
            return self.env["wechat.campaign"]
        account = account.with_context(lang=account.company_id.partner_id.lang or self.env.lang)
        campaign = self.env["wechat.campaign"].sudo().create({
            "name": _("Daily digest %(date)s", date=fields.Date.context_today(self)),
            "account_id": account.id,
            "audience": "digest",
            "content_type": "text",
            "text_content": account.digest_message,
            "link_url": account._member_page_url(),
            "holdout_percent": account.digest_holdout_percent,
        })
        notices.write({"campaign_id": campaign.id})
        try:
            campaign._send()
        except UserError as exc:  # nobody left after the monthly cap and the budget
            campaign.write({"state": "failed", "error": str(exc)})
        recipients = self.env["wechat.campaign.recipient"].search([("campaign_id", "=", campaign.id)])
        sent_members = recipients.filtered(lambda r: not r.holdout and r.chunk_id.state == "sent").member_id
        holdout = recipients.filtered("holdout").member_id
        now = fields.Datetime.now()
        notices.filtered(lambda n: n.member_id in sent_members).write(
            {"state": "sent", "channel": "digest", "sent_date": now, "reason": False})
        notices.filtered(lambda n: n.member_id in holdout).write(
            {"state": "none", "reason": _("Daily digest: in the holdout group, not sent on purpose.")})
        failed = recipients.filtered(lambda r: not r.holdout and r.chunk_id.state == "failed").member_id
        notices.filtered(lambda n: n.member_id in failed).write(
            {"state": "none", "reason": _("Daily digest: WeChat refused the mass send (%(error)s).",
                                          error=campaign.error or "")})
        left = notices.filtered(lambda n: n.state == "digest")
        left.write({"state": "none", "reason": _("Daily digest: the member already had WeChat's 4 mass messages "
                                                 "this month, or the week's contact budget.")})
        return campaign
