from odoo import fields, models


class WeChatPreorderReport(models.Model):
    """Bookings made in WeChat, one row per store, product and day of the booking (the shop's day): how
    many were booked, paid, collected and missed, the collection rate, the revenue and the new customers
    (members whose first paid purchase was the booking)."""

    _name = "wechat.preorder.report"
    _description = "WeChat Bookings Analysis"
    _auto = False
    _order = "date desc"

    date = fields.Date("Day", readonly=True)
    config_id = fields.Many2one("pos.config", "Store", readonly=True)
    product_tmpl_id = fields.Many2one("product.template", "Product", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    booking_count = fields.Integer("Bookings", readonly=True, aggregator="sum")
    paid_count = fields.Integer("Paid", readonly=True, aggregator="sum")
    collected_count = fields.Integer("Collected", readonly=True, aggregator="sum")
    no_show_count = fields.Integer("No-Shows", readonly=True, aggregator="sum")
    cancelled_count = fields.Integer("Cancelled", readonly=True, aggregator="sum")
    collection_rate = fields.Float(
        "Collection Rate (%)", readonly=True, aggregator="avg", help="Collected among the paid bookings due."
    )
    revenue = fields.Monetary(
        readonly=True, currency_field="currency_id", aggregator="sum", help="Paid and not cancelled (refunded)."
    )
    new_customer_count = fields.Integer("New Customers", readonly=True, aggregator="sum")

    @property
    def _table_query(self):
        return """
            SELECT min(b.id) AS id,
                   (b.slot_start AT TIME ZONE 'UTC' AT TIME ZONE COALESCE(p.tz, 'Asia/Shanghai'))::date AS date,
                   b.config_id, b.product_tmpl_id, b.company_id, c.currency_id,
                   count(*) AS booking_count,
                   count(*) FILTER (WHERE b.paid_at IS NOT NULL) AS paid_count,
                   count(*) FILTER (WHERE b.state = 'collected') AS collected_count,
                   count(*) FILTER (WHERE b.state = 'no_show') AS no_show_count,
                   count(*) FILTER (WHERE b.state = 'cancelled') AS cancelled_count,
                   CASE WHEN count(*) FILTER (WHERE b.state IN ('collected', 'no_show')) > 0
                        THEN 100.0 * count(*) FILTER (WHERE b.state = 'collected')
                             / count(*) FILTER (WHERE b.state IN ('collected', 'no_show'))
                   END AS collection_rate,
                   COALESCE(sum(b.amount) FILTER (WHERE b.state IN ('confirmed', 'ready', 'collected', 'no_show')), 0)
                       AS revenue,
                   count(*) FILTER (WHERE b.first_purchase) AS new_customer_count
              FROM wechat_preorder b
              JOIN res_company c ON c.id = b.company_id
              JOIN res_partner p ON p.id = c.partner_id
             GROUP BY 2, b.config_id, b.product_tmpl_id, b.company_id, c.currency_id
        """
