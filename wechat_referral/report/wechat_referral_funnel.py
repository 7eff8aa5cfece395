from odoo import fields, models, tools
from odoo.tools import SQL

from odoo.addons.wechat_member.const import CHANNEL_TYPES


class WeChatReferralFunnel(models.Model):
    """Acquisition funnel (AARRR) per store, channel and period, as a SQL view.

    One row per fact, measures are 0/1 so that any grouping sums them:
    - a QR event row (``wechat.event`` subscribe/SCAN): *scanned* when it came
      through a QR channel, *followed* when it is a follow;
    - a member row (``wechat.member``, dated by the follow or creation, with
      the channel that brought the member): *member*, *first purchase* (1+
      paid purchases), *repeat purchase* (2+), *referrer* (brought at least
      one friend who was not rejected).
    """

    _name = "wechat.referral.funnel"
    _description = "WeChat Acquisition Funnel"
    _auto = False
    _order = "date desc"

    date = fields.Datetime(readonly=True)
    account_id = fields.Many2one("wechat.account", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    channel_id = fields.Many2one("wechat.qr.channel", string="Channel", readonly=True)
    channel_type = fields.Selection(
        CHANNEL_TYPES,
        string="Channel Type",
        readonly=True,
    )
    store_id = fields.Many2one("pos.config", string="Store", readonly=True)
    scanned = fields.Integer("Scanned", readonly=True, aggregator="sum")
    followed = fields.Integer("Followed", readonly=True, aggregator="sum")
    member = fields.Integer("Members", readonly=True, aggregator="sum")
    first_purchase = fields.Integer("First Purchase", readonly=True, aggregator="sum")
    repeat_purchase = fields.Integer("Repeat Purchase", readonly=True, aggregator="sum")
    referrer = fields.Integer("Referred a Friend", readonly=True, aggregator="sum")

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                "CREATE OR REPLACE VIEW %s AS (%s UNION ALL %s)",
                SQL.identifier(self._table),
                self._select_events(),
                self._select_members(),
            )
        )

    def _select_events(self):
        """The QR events: *scanned* through a QR channel, *followed* for a follow."""
        return SQL(
            """
                SELECT e.id * 2 AS id,
                       e.create_date AS date,
                       e.account_id,
                       a.company_id,
                       e.channel_id,
                       c.channel_type,
                       c.pos_config_id AS store_id,
                       CASE WHEN e.channel_id IS NOT NULL THEN 1 ELSE 0 END AS scanned,
                       CASE WHEN e.event = 'subscribe' THEN 1 ELSE 0 END AS followed,
                       0 AS member,
                       0 AS first_purchase,
                       0 AS repeat_purchase,
                       0 AS referrer
                  FROM wechat_event e
                  JOIN wechat_account a ON a.id = e.account_id
             LEFT JOIN wechat_qr_channel c ON c.id = e.channel_id
                 WHERE e.event IN ('subscribe', 'SCAN')
            """
        )

    def _select_members(self):
        """The members: *member*, *first* and *repeat purchase* (paid purchases not refunded in full, as
        ``pos.order._wechat_purchases_sql`` defines them), *referrer*."""
        return SQL(
            """
                SELECT m.id * 2 + 1 AS id,
                       COALESCE(m.subscribe_date, m.create_date) AS date,
                       m.account_id,
                       a.company_id,
                       m.channel_id,
                       c.channel_type,
                       c.pos_config_id AS store_id,
                       0 AS scanned,
                       0 AS followed,
                       1 AS member,
                       CASE WHEN buy.purchases >= 1 THEN 1 ELSE 0 END AS first_purchase,
                       CASE WHEN buy.purchases >= 2 THEN 1 ELSE 0 END AS repeat_purchase,
                       CASE WHEN EXISTS (
                           SELECT 1 FROM wechat_referral r
                            WHERE r.referrer_member_id = m.id AND r.state != 'rejected'
                       ) THEN 1 ELSE 0 END AS referrer
                  FROM wechat_member m
                  JOIN wechat_account a ON a.id = m.account_id
             LEFT JOIN wechat_qr_channel c ON c.id = m.channel_id
             LEFT JOIN LATERAL (
                   SELECT count(*) FILTER (WHERE b.net_amount > 0) AS purchases
                     FROM (%s) b
                    WHERE b.partner_id = m.partner_id
                   ) buy ON TRUE
            """,
            self.env["pos.order"]._wechat_purchases_sql(net=True),
        )
