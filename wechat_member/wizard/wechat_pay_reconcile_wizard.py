from odoo import api, fields, models

from ..models.wechat_pay_reconciliation import last_bill_day


class WeChatPayReconcileWizard(models.TransientModel):
    _name = "wechat.pay.reconcile.wizard"
    _description = "Reconcile a Day of WeChat Pay"

    payment_method_id = fields.Many2one(
        "pos.payment.method",
        string="Payment Method",
        required=True,
        default=lambda self: self._default_payment_method(),
        domain="[('use_payment_terminal', '=', 'wechat_pay')]",
    )
    bill_date = fields.Date(
        "Bill Day",
        required=True,
        default=lambda self: self._default_bill_date(),
        help="The day, in Beijing time (UTC+8). WeChat publishes the bill of a day after 10:00 the next day.",
    )

    @api.model
    def _default_payment_method(self):
        """The company's WeChat Pay method when it has only one (most shops)."""
        methods = self.env["pos.payment.method"].search(
            [("use_payment_terminal", "=", "wechat_pay"), ("company_id", "in", (False, self.env.company.id))], limit=2
        )
        return methods if len(methods) == 1 else False

    @api.model
    def _default_bill_date(self):
        return last_bill_day()

    def action_reconcile(self):
        """Download the bill of the day, match it with the Point of Sale and show the result."""
        self.ensure_one()
        Reconciliation = self.env["wechat.pay.reconciliation"]
        Reconciliation._check_manager()
        self.payment_method_id.check_access("read")
        rec = Reconciliation._reconcile(self.payment_method_id, self.bill_date)
        return {
            "type": "ir.actions.act_window",
            "res_model": "wechat.pay.reconciliation",
            "res_id": rec.id,
            "view_mode": "form",
            "target": "current",
        }
