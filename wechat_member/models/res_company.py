import pytz

from odoo import api, fields, models, tools


class ResCompany(models.Model):
    _inherit = "res.company"

    wechat_new_days = fields.Integer(
        "New Member Period (days)", default=30, help="A member whose first purchase is this recent is 'new'."
    )
    wechat_active_days = fields.Integer(
        "Active Period (days)", default=90, help="A member who bought within this period is 'active'."
    )
    wechat_lost_days = fields.Integer(
        "Lost After (days)", default=365, help="Dormant until this many days without purchase, then 'lost'."
    )

    _sql_constraints = [
        (
            "wechat_activity_days_order",
            "CHECK(wechat_new_days > 0 AND wechat_active_days > 0 AND wechat_lost_days > wechat_active_days)",
            "Activity periods must be positive and the lost period longer than the active one.",
        ),
    ]

    def _wechat_tz(self):
        """The shop's time zone: its company's address (the company's contact), China's when that has none."""
        company = self[:1] or self.env.company
        return pytz.timezone(self._wechat_tz_name(company.id))

    @api.model
    @tools.ormcache("company_id")
    def _wechat_tz_name(self, company_id):
        """The name of company ``company_id``'s time zone, cached: a follow creates a member's contact in the
        shop's time zone within WeChat's 5 seconds, without reading the company and its contact each time.
        The cache is cleared when a company's contact changes time zone (``res.partner.write``) or a company
        its contact (``write`` below)."""
        return self.sudo().browse(company_id).partner_id.tz or "Asia/Shanghai"

    def write(self, vals):
        res = super().write(vals)
        if "partner_id" in vals:
            self.env.registry.clear_cache()
        return res

    def _wechat_now(self, now=None):
        """``now`` (UTC, naive, default the current time) as an aware datetime of the shop's time zone."""
        return pytz.utc.localize(now or fields.Datetime.now()).astimezone(self._wechat_tz())

    def _wechat_today(self, now=None):
        """Today in the shop.  Birthdays, expiries, validity and levels turn at the shop's midnight: not at the
        server's (UTC) nor at that of whoever runs the job (OdooBot's time zone is the installer's)."""
        return self._wechat_now(now).date()
