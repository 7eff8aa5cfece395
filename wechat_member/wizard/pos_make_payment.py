from odoo import models
from odoo.exceptions import UserError


class PosMakePayment(models.TransientModel):
    _inherit = "pos.make.payment"

    def check(self):
        """A manager paying a refund order back with a WeChat Pay method refunds to the customer's WeChat, through
        the same code as the POS (``pos.payment.method.wechat_pay_refund``); refused when WeChat Pay refuses."""
        self.ensure_one()
        order = self.env["pos.order"].browse(self.env.context.get("active_id", False))
        method = self.payment_method_id
        if method.use_payment_terminal != "wechat_pay" or self.amount >= 0 or not order:
            return super().check()
        # One payment line per refund payment of the order: the same line again (a retry) never refunds twice.
        existing = order.payment_ids.filtered(lambda p: p.payment_method_id == method and p.amount < 0)
        payment_uuid = f"backoffice:{order.id}:{len(existing) + 1}"
        result = method.wechat_pay_refund(
            {
                "order_uuid": order.uuid,
                "payment_uuid": payment_uuid,
                "amount": self.amount,
                "currency": order.currency_id.name,
                "refunded_orderline_ids": order.lines.refunded_orderline_id.ids,
            }
        )
        if result["status"] not in ("done", "processing"):
            raise UserError(result["message"])
        return super(PosMakePayment, self.with_context(wechat_refund_payment_uuid=payment_uuid)).check()
