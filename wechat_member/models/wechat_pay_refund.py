"""Refunds of WeChat Pay scan-to-pay charges (v2 ``secapi/pay/refund``, v3 ``/v3/refund/domestic/refunds``).

One ``wechat.pay.refund`` per refund payment line of a POS refund order (or
per back-office refund payment).  Its ``out_refund_no`` is unique in the
database and derived from the refund order and payment line, so a retried or
re-synced refund finds the record and queries WeChat instead of refunding
twice.  Several refunds may be made against one charge
(``wechat.pay.transaction``), up to the amount charged.
"""

import hashlib

from odoo import api, fields, models

REFUND_STATES = [
    ("pending", "Sent"),
    ("processing", "Processing"),
    ("done", "Refunded"),
    ("change", "Refund failed (to handle on the merchant platform)"),
    ("closed", "Closed"),
    ("failed", "Refused"),
]
# States whose amount is (or may still be) refunded: counted against what is left to refund.
ACTIVE_REFUND_STATES = ("pending", "processing", "done", "change")


class WeChatPayRefund(models.Model):
    _name = "wechat.pay.refund"
    _description = "WeChat Pay Refund"
    _order = "id desc"
    _rec_name = "out_refund_no"
    _check_company_auto = True

    out_refund_no = fields.Char("Merchant Refund No.", required=True, readonly=True, copy=False)
    transaction_id = fields.Many2one(
        "wechat.pay.transaction",
        string="Charge",
        required=True,
        readonly=True,
        index=True,
        ondelete="restrict",
        check_company=True,
        help="The WeChat Pay charge this refund pays back.",
    )
    account_id = fields.Many2one(related="transaction_id.account_id", store=True)
    payment_method_id = fields.Many2one("pos.payment.method", readonly=True, ondelete="set null", check_company=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    currency_id = fields.Many2one(related="transaction_id.currency_id")
    amount = fields.Monetary(readonly=True, currency_field="currency_id")
    refund_fee = fields.Integer("Amount (fen)", readonly=True)
    state = fields.Selection(REFUND_STATES, default="pending", required=True, readonly=True, index=True)
    refund_id = fields.Char("WeChat Refund ID", readonly=True, index="btree_not_null")
    err_code = fields.Char("Error Code", readonly=True)
    message = fields.Char(readonly=True)
    pos_order_uuid = fields.Char("Refund Order UUID", readonly=True, index=True)
    payment_uuid = fields.Char("Refund Payment Line UUID", readonly=True)
    pos_order_id = fields.Many2one(
        "pos.order", string="Refund Order", readonly=True, index="btree_not_null", ondelete="set null"
    )
    charge_order_id = fields.Many2one(related="transaction_id.pos_order_id", string="Paid Order")
    requested_at = fields.Datetime("Sent On", readonly=True, default=fields.Datetime.now)
    done_at = fields.Datetime("Refunded On", readonly=True)

    _sql_constraints = [
        (
            "out_refund_no_uniq",
            "UNIQUE(out_refund_no)",
            "This merchant refund number was already sent to WeChat Pay.",
        ),
    ]

    @api.model
    def _out_refund_no(self, order_uuid, payment_uuid):
        """Deterministic merchant refund number (32 characters) of a refund payment line."""
        digest = hashlib.sha1(f"refund:{order_uuid}:{payment_uuid}".encode()).hexdigest()[:30]
        return f"WR{digest}"
