from odoo import fields, models


class WeChatCSReport(models.Model):
    """Customer-service conversations, one row per member and day they wrote: when staff first answered
    (minutes after the member's first message of the day, and who) and whether the day ended answered."""

    _name = "wechat.cs.report"
    _description = "WeChat Customer Service Analysis"
    _auto = False
    _order = "date desc"

    date = fields.Date(readonly=True)
    channel_id = fields.Many2one("discuss.channel", "Conversation", readonly=True)
    member_id = fields.Many2one("wechat.member", "Member", readonly=True)
    store_id = fields.Many2one("pos.config", "Store", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    user_id = fields.Many2one("res.users", "First Responder", readonly=True)
    conversation_count = fields.Integer("Conversations", readonly=True, aggregator="sum")
    message_count = fields.Integer("Member Messages", readonly=True, aggregator="sum")
    reply_count = fields.Integer("Staff Replies", readonly=True, aggregator="sum")
    response_minutes = fields.Float("First Response (min)", readonly=True, aggregator="avg")
    resolved = fields.Boolean(readonly=True, help="A staff reply came after the member's last message of the day.")
    resolved_count = fields.Integer("Answered", readonly=True, aggregator="sum")

    @property
    def _table_query(self):
        return """
            WITH inbound AS (
                SELECT m.res_id AS channel_id, (m.date AT TIME ZONE 'UTC')::date AS day,
                       min(m.date) AS first_in, max(m.date) AS last_in, count(*) AS message_count
                  FROM mail_message m
                  JOIN discuss_channel c ON c.id = m.res_id
                  JOIN wechat_member wm ON wm.id = c.wechat_member_id
                 WHERE m.model = 'discuss.channel' AND m.message_type = 'comment' AND m.author_id = wm.partner_id
                 GROUP BY m.res_id, (m.date AT TIME ZONE 'UTC')::date
            ), replies AS (
                SELECT m.res_id AS channel_id, m.date, m.author_id
                  FROM mail_message m
                  JOIN discuss_channel c ON c.id = m.res_id
                  JOIN wechat_member wm ON wm.id = c.wechat_member_id
                 WHERE m.model = 'discuss.channel' AND m.message_type = 'comment' AND m.author_id != wm.partner_id
            )
            SELECT i.channel_id * 100000 + (i.day - DATE '2000-01-01') AS id,
                   i.day AS date,
                   i.channel_id,
                   c.wechat_member_id AS member_id,
                   c.wechat_store_id AS store_id,
                   wm.company_id,
                   first_reply.user_id,
                   1 AS conversation_count,
                   i.message_count,
                   (SELECT count(*) FROM replies r
                     WHERE r.channel_id = i.channel_id AND r.date >= i.first_in
                       AND r.date < i.day + INTERVAL '1 day') AS reply_count,
                   EXTRACT(EPOCH FROM first_reply.date - i.first_in) / 60 AS response_minutes,
                   EXISTS (SELECT 1 FROM replies r WHERE r.channel_id = i.channel_id AND r.date >= i.last_in)
                       AS resolved,
                   CASE WHEN EXISTS (SELECT 1 FROM replies r WHERE r.channel_id = i.channel_id AND r.date >= i.last_in)
                        THEN 1 ELSE 0 END AS resolved_count
              FROM inbound i
              JOIN discuss_channel c ON c.id = i.channel_id
              JOIN wechat_member wm ON wm.id = c.wechat_member_id
              LEFT JOIN LATERAL (
                    SELECT r.date, u.id AS user_id
                      FROM replies r
                      LEFT JOIN res_users u ON u.partner_id = r.author_id
                     WHERE r.channel_id = i.channel_id AND r.date >= i.first_in
                     ORDER BY r.date, u.id
                     LIMIT 1
              ) first_reply ON TRUE
        """
