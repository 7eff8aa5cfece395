from odoo import fields, models


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
