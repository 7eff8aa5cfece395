from odoo import fields, models, tools


class WeChatMemberLevelReport(models.Model):
    """Members per level at the end of each month, from the level history."""

    _name = "wechat.member.level.report"
    _description = "WeChat Members per Level by Month"
    _auto = False
    _order = "month desc"

    month = fields.Date(readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    level_id = fields.Many2one("wechat.member.level", readonly=True)
    member_count = fields.Integer("Members", readonly=True, aggregator="sum")

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            f"""
            CREATE OR REPLACE VIEW {self._table} AS (
                SELECT row_number() OVER (ORDER BY m.month, h.company_id, h.to_level_id) AS id,
                       m.month::date AS month, h.company_id, h.to_level_id AS level_id, count(*) AS member_count
                  FROM generate_series(
                           date_trunc('month', COALESCE((SELECT min(date) FROM wechat_member_level_history), now())),
                           date_trunc('month', now()), interval '1 month') AS m(month)
                 CROSS JOIN LATERAL (
                       SELECT DISTINCT ON (l.partner_id, l.company_id) l.company_id, l.to_level_id
                         FROM wechat_member_level_history l
                        WHERE l.date < m.month + interval '1 month'
                     ORDER BY l.partner_id, l.company_id, l.date DESC, l.id DESC
                 ) h
                 WHERE h.to_level_id IS NOT NULL
              GROUP BY m.month, h.company_id, h.to_level_id
            )
            """
        )
