from odoo import models


class PosOrder(models.Model):
    _inherit = "pos.order"

    def _wechat_count_purchase(self):
        """After the member statistics: a friend's first purchase pays the referrer, a refund claws it back.

        Idempotent: the referral state machine (under a row lock) decides,
        so an order synced or processed twice changes nothing.
        """
        res = super()._wechat_count_purchase()
        self.env["wechat.referral"].sudo()._process_orders(self)
        return res
