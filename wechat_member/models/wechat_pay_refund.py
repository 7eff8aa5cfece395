"""Refunds of WeChat Pay scan-to-pay charges (v2 ``secapi/pay/refund``, v3 ``/v3/refund/domestic/refunds``).

One ``wechat.pay.refund`` per refund payment line of a POS refund order (or
per back-office refund payment).  Its ``out_refund_no`` is unique in the
database and derived from the refund order and payment line, so a retried or
re-synced refund finds the record and queries WeChat instead of refunding
twice.  Several refunds may be made against one charge
(``wechat.pay.transaction``), up to the amount charged.

A refund line whose amount spans two charges (an order paid by two WeChat
payments, or refunds of lines of two orders) makes one refund per charge: the
first is numbered ``_out_refund_no(order_uuid, payment_uuid)``, the next ones
``_out_refund_no(order_uuid, f"{payment_uuid}/{n}")`` (n = 2, 3 ...), in the
order of the charges (oldest first).
"""

import hashlib
import logging

from odoo import api, fields, models

from ..tools.wechat_pay_api import ERROR, OK, refund_message

_logger = logging.getLogger(__name__)

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
# States a refund payment of a POS order may be recorded with (the money is, or is being, paid back).
PAID_REFUND_STATES = ("processing", "done")
# WeChat's refund_status -> state.
REFUND_STATUS_STATES = {
    "SUCCESS": "done",
    "PROCESSING": "processing",
    "CHANGE": "change",
    "REFUNDCLOSE": "closed",
}


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
    pos_payment_id = fields.Many2one(
        "pos.payment",
        string="Refund Payment",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="The negative WeChat Pay payment of the refund order this refund was recorded with (set by the server).",
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

    def _refund_number(self, order_uuid, payment_uuid, part):
        """``out_refund_no`` of part ``part`` (1, 2 ...) of a refund payment line (see the module docstring)."""
        return self._out_refund_no(order_uuid, payment_uuid if part == 1 else f"{payment_uuid}/{part}")

    def _send(self, client, reason=None):
        """Ask WeChat Pay for this (recorded, committed) refund; record the answer, then query while PROCESSING."""
        self.ensure_one()
        txn = self.transaction_id
        res = client.refund(txn.out_trade_no, self.out_refund_no, txn.total_fee, self.refund_fee, reason=reason)
        if res.status == OK:
            self.write({"state": "processing", "refund_id": res.data.get("refund_id"), "err_code": False})
            _logger.info("WeChat Pay refund %s accepted (%s fen)", self.out_refund_no, self.refund_fee)
            return self._sync(client)
        if res.status == ERROR:
            _logger.info("WeChat Pay refund %s refused: %s", self.out_refund_no, res.code)
            self.write({"state": "failed", "err_code": res.code, "message": res.message})
            return self
        # Unknown outcome (network error, SYSTEMERROR ...): stays pending, queried with the same number.
        _logger.warning("WeChat Pay refund %s: outcome unknown (%s), querying", self.out_refund_no, res.code)
        self.write({"err_code": res.code, "message": res.message})
        return self._sync(client, resend=False)

    def _sync(self, client, resend=True):
        """Ask WeChat Pay (refundquery) where this refund stands and record it.

        A ``pending`` refund that WeChat does not know (the request never
        reached it) is sent again with the same ``out_refund_no`` when
        ``resend``: WeChat never refunds one number twice.
        """
        self.ensure_one()
        if self.state in ("done", "change", "closed"):
            return self
        if self.state == "failed":
            if self.err_code == "NOTENOUGH" and resend:
                # The merchant may have topped up the balance: the same number may be sent again.
                self.state = "pending"
                return self._send(client)
            return self
        res = client.refund_query(self.out_refund_no)
        if res.status == OK:
            state = REFUND_STATUS_STATES.get(res.data.get("refund_status"), "processing")
            vals = {"state": state, "err_code": False, "message": False}
            if res.data.get("refund_id"):
                vals["refund_id"] = res.data["refund_id"]
            if res.data.get("refund_fee") and res.data["refund_fee"] != self.refund_fee:
                _logger.error(
                    "WeChat Pay refund %s: %s fen refunded, %s asked",
                    self.out_refund_no,
                    res.data["refund_fee"],
                    self.refund_fee,
                )
            if state == "done":
                vals["done_at"] = fields.Datetime.now()
            elif state in ("change", "closed"):
                vals.update(
                    err_code=res.data["refund_status"], message=refund_message(self.env, res.data["refund_status"])
                )
            self.write(vals)
        elif res.status == ERROR and res.code == "REFUNDNOTEXIST" and self.state == "pending" and resend:
            return self._send(client)
        return self

    @api.model
    def _cron_sync(self, limit=200):
        """Ask WeChat Pay where the refunds not settled yet stand (sent, processing): a refund the POS saw
        as processing becomes refunded (or CHANGE / closed, for the manager) without anyone asking again.

        Oldest first, ``limit`` a run; the rest at once in the next run (``_notify_progress``).
        """
        Refund = self.sudo()  # refunds are written by the server only
        domain = [("state", "in", ("pending", "processing"))]
        pending = Refund.search_count(domain)
        refunds = Refund.search(domain, order="requested_at, id", limit=limit)
        clients = {}  # one client per payment method for the run (a v3 client loads keys and certificates)
        for refund in refunds:
            method = refund.payment_method_id or refund.transaction_id.payment_method_id
            if not method:
                continue
            if method.id not in clients:
                clients[method.id] = method._wechat_pay_client()
            refund._sync(clients[method.id], resend=False)
        self.env["ir.cron"]._notify_progress(done=len(refunds), remaining=pending - len(refunds))

    def _refunds_result(self, left=None):
        """What the POS (or the back-office wizard) gets for these refunds of one refund payment line.

        ``status``: ``done`` (all refunded), ``processing`` (accepted, WeChat
        still paying back), ``pending`` (outcome not known yet: ask again),
        ``change`` / ``closed`` / ``failed`` (not refunded: ``message`` says
        what to do).
        """
        states = set(self.mapped("state"))
        for status in ("failed", "closed", "change", "pending", "processing"):
            if status in states:
                break
        else:
            status = "done"
        refunds = self.filtered(lambda r: r.state == status)
        if status == "done":
            message = refund_message(self.env, "SUCCESS")
        elif status == "processing":
            message = refund_message(self.env, "PROCESSING")
        elif status == "pending":
            message = refunds[:1].message or refund_message(self.env, "NETWORK")
        else:
            message = refunds[:1].message or refund_message(self.env, refunds[:1].err_code)
        result = {
            "status": status,
            "message": message,
            "amount": sum(self.mapped("amount")),
            "out_refund_nos": self.mapped("out_refund_no"),
        }
        if left is not None:
            result["left"] = left
        return result
