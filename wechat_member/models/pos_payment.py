from odoo import api, fields, models

# Written by the server only (``_wechat_link_transaction``, from pos.order._wechat_bind_payer), whatever the
# POS or an RPC client sends: a context key would be client-settable, ``self.env.su`` is not.
SERVER_FIELDS = ("wechat_pay_transaction_id", "wechat_openid", "wechat_is_subscribe")


class PosPayment(models.Model):
    _inherit = "pos.payment"

    wechat_pay_transaction_id = fields.Many2one(
        "wechat.pay.transaction",
        string="WeChat Pay Transaction",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Set by the server from its own record of the charge: the payer cannot be forged by the POS.",
    )
    wechat_openid = fields.Char("Payer OpenID", related="wechat_pay_transaction_id.openid")
    wechat_is_subscribe = fields.Boolean("Payer Follows", related="wechat_pay_transaction_id.is_subscribe")

    @api.model_create_multi
    def create(self, vals_list):
        # Only the server links a payment to its WeChat Pay transaction (pos.order._wechat_bind_payer).
        for vals in vals_list:
            for key in SERVER_FIELDS:
                vals.pop(key, None)
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su:
            vals = {k: v for k, v in vals.items() if k not in SERVER_FIELDS}
        return super().write(vals)

    def _wechat_link_transaction(self, txn):
        """Server code only: link these payments to ``txn``, the server's own record of the charge."""
        return self.sudo().write({"wechat_pay_transaction_id": txn.id})
