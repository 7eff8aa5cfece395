from datetime import datetime, timedelta

import pytz

from odoo import api, fields, models

MESSAGE_KINDS = [
    ("mass", "Mass send"),
    ("cs", "Customer-service message"),
    ("template", "Template notice"),
    ("coupon", "Coupon notice"),
    ("subscribe", "Subscribe notice"),
    ("notice", "Transactional notice"),
]


class WeChatMessageLog(models.Model):
    """One marketing message to one member: the ledger of the contact budget.

    Every sender (mass sends, customer-service messages, coupon notices)
    writes here and asks ``_over_budget`` first, so a member gets at most
    the account's N marketing messages a week whoever sends them.
    """

    _name = "wechat.message.log"
    _description = "WeChat Message Log"
    _order = "id desc"

    account_id = fields.Many2one("wechat.account", required=True, ondelete="cascade", index=True)
    member_id = fields.Many2one("wechat.member", required=True, ondelete="cascade", index=True)
    kind = fields.Selection(MESSAGE_KINDS, required=True)
    campaign_id = fields.Many2one("wechat.campaign", ondelete="set null")
    date = fields.Datetime(required=True, default=fields.Datetime.now, index=True)

    @api.model
    def _log(self, account, member_ids, kind, campaign=None):
        self.env.flush_all()
        self.env.cr.execute(
            """
            INSERT INTO wechat_message_log (account_id, member_id, kind, campaign_id, date, create_uid, write_uid,
                                            create_date, write_date)
            SELECT %s, unnest(%s::int[]), %s, %s, %s, %s, %s, %s, %s
            """,
            [
                account.id,
                list(member_ids),
                kind,
                campaign.id if campaign else None,
                fields.Datetime.now(),
                self.env.uid,
                self.env.uid,
                fields.Datetime.now(),
                fields.Datetime.now(),
            ],
        )
        self.invalidate_model()

    @api.model
    def _over_budget(self, account, member_ids):
        """Members who already had the account's weekly number of marketing messages."""
        if not member_ids or not account.budget_per_week:
            return set()
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT member_id FROM wechat_message_log
             WHERE member_id = ANY(%s) AND date >= %s AND kind NOT IN ('template', 'notice')
             GROUP BY member_id HAVING count(*) >= %s
            """,
            [list(member_ids), fields.Datetime.now() - timedelta(days=7), account.budget_per_week],
        )
        return {row[0] for row in self.env.cr.fetchall()}

    @api.model
    def _over_monthly_quota(self, member_ids, limit):
        """Members who already received ``limit`` mass sends this calendar month (WeChat's quota)."""
        if not member_ids:
            return set()
        self.env.flush_all()
        # WeChat counts calendar months in Beijing time.
        beijing = pytz.timezone("Asia/Shanghai")
        start = datetime.now(beijing).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        month_start = start.astimezone(pytz.utc).replace(tzinfo=None)
        self.env.cr.execute(
            """
            SELECT member_id FROM wechat_message_log
             WHERE member_id = ANY(%s) AND kind = 'mass' AND date >= %s
             GROUP BY member_id HAVING count(*) >= %s
            """,
            [list(member_ids), month_start, limit],
        )
        return {row[0] for row in self.env.cr.fetchall()}
