from odoo import fields, models

LINE_KINDS = [
    ("missing_odoo", "Missing in Odoo"),
    ("missing_wechat", "Missing in WeChat"),
    ("amount", "Amount differs"),
]


class WeChatPayReconciliationLine(models.Model):
    _name = "wechat.pay.reconciliation.line"
    _description = "WeChat Pay Reconciliation Mismatch"
    _order = "id"

    reconciliation_id = fields.Many2one(
        "wechat.pay.reconciliation", required=True, readonly=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="reconciliation_id.company_id", store=True)
    currency_id = fields.Many2one(related="reconciliation_id.currency_id")
    kind = fields.Selection(LINE_KINDS, required=True, readonly=True)
    is_refund = fields.Boolean("Refund", readonly=True)
    out_trade_no = fields.Char("Merchant Order No.", readonly=True)
    wechat_transaction_id = fields.Char("WeChat Transaction ID", readonly=True)
    out_refund_no = fields.Char("Merchant Refund No.", readonly=True)
    refund_id = fields.Char("WeChat Refund ID", readonly=True)
    transaction_id = fields.Many2one("wechat.pay.transaction", string="Charge", readonly=True, ondelete="set null")
    refund_record_id = fields.Many2one("wechat.pay.refund", string="Refund Record", readonly=True, ondelete="set null")
    pos_order_id = fields.Many2one("pos.order", string="POS Order", readonly=True, ondelete="set null")
    trade_time = fields.Char("Time in the Bill", readonly=True, help="As WeChat writes it (Beijing time).")
    odoo_amount = fields.Monetary("Odoo Amount", readonly=True)
    wechat_amount = fields.Monetary("WeChat Amount", readonly=True)
