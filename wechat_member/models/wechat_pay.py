"""WeChat Pay v2 scan-to-pay (付款码支付) for the Point of Sale.

The client of the API is :class:`~odoo.addons.wechat_member.tools.wechat_pay_api.WeChatPayClient`.
``wechat.pay.transaction`` records each charge attempt.  Its
``out_trade_no`` is unique in the database and derived from the POS order
and payment line, so a retried request finds the attempt and queries it
instead of charging twice.
"""

import contextlib
import hashlib
import logging
import re
from datetime import timedelta

from odoo import api, fields, models, sql_db
from odoo.sql_db import TestCursor

from ..tools.wechat_pay_api import ERROR, OK, pay_message
from .wechat_pay_refund import ACTIVE_REFUND_STATES

_logger = logging.getLogger(__name__)

AUTH_CODE_RE = re.compile(r"^1[0-5]\d{16}$")
# WeChat asks to wait 15 s after an order before reversing it; ``charged_at``
# is stored to the second, hence the margin.
REVERSE_MIN_AGE = 15 + 2
# ``recall=Y``: call reverse again, at most this many times.
REVERSE_MAX_CALLS = 5
# 撤销订单: only orders of the last 7 days can be reversed; older ones are refunded.
REVERSE_MAX_AGE = timedelta(days=7)

TXN_STATES = [
    ("pending", "Sent"),
    ("waiting", "Waiting for the customer"),
    ("done", "Paid"),
    ("failed", "Failed"),
    ("cancelled", "Cancelled"),
]


class WeChatPayTransaction(models.Model):
    _name = "wechat.pay.transaction"
    _description = "WeChat Pay Transaction (scan-to-pay)"
    _order = "id desc"
    _rec_name = "out_trade_no"
    _check_company_auto = True

    out_trade_no = fields.Char("Merchant Order No.", required=True, readonly=True, copy=False)
    attempt = fields.Integer(default=1, readonly=True)
    state = fields.Selection(TXN_STATES, default="pending", required=True, readonly=True, index=True)
    amount = fields.Monetary(readonly=True, currency_field="currency_id")
    total_fee = fields.Integer("Amount (fen)", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    account_id = fields.Many2one(
        "wechat.account", required=True, readonly=True, ondelete="restrict", check_company=True
    )
    payment_method_id = fields.Many2one("pos.payment.method", readonly=True, ondelete="set null", check_company=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    pos_order_uuid = fields.Char("POS Order UUID", readonly=True, index=True)
    payment_uuid = fields.Char("Payment Line UUID", readonly=True)
    pos_order_id = fields.Many2one(
        "pos.order", string="POS Order", readonly=True, index="btree_not_null", ondelete="set null"
    )
    openid = fields.Char("Payer OpenID", readonly=True)
    is_subscribe = fields.Boolean("Payer Follows", readonly=True)
    transaction_id = fields.Char("WeChat Transaction ID", readonly=True, index="btree_not_null")
    err_code = fields.Char("Error Code", readonly=True)
    message = fields.Char(readonly=True)
    charged_at = fields.Datetime("Sent On", readonly=True, default=fields.Datetime.now)
    micropay_failed = fields.Boolean(readonly=True, help="The charge got a definite refusal from WeChat Pay.")
    refund_ids = fields.One2many("wechat.pay.refund", "transaction_id", string="Refunds", readonly=True)
    refunded_amount = fields.Monetary(
        compute="_compute_refunded_amount",
        currency_field="currency_id",
        help="Refunded or being refunded (refused and closed refunds not counted).",
    )

    _sql_constraints = [
        ("out_trade_no_uniq", "UNIQUE(out_trade_no)", "This merchant order number was already sent to WeChat Pay."),
    ]

    @api.depends("refund_ids.state", "refund_ids.amount")
    def _compute_refunded_amount(self):
        for txn in self:
            refunds = txn.refund_ids.filtered(lambda r: r.state in ACTIVE_REFUND_STATES)
            txn.refunded_amount = sum(refunds.mapped("amount"))

    @api.model
    def _out_trade_no(self, order_uuid, payment_uuid, attempt=1):
        """Deterministic merchant order number (32 characters) of a payment line's ``attempt``."""
        digest = hashlib.sha1(f"{order_uuid}:{payment_uuid}".encode()).hexdigest()[:27]
        return f"WM{digest}{attempt:03d}"

    def _result(self):
        """What the POS gets for this attempt."""
        self.ensure_one()
        if self.state == "done":
            return {
                "status": "done",
                "transaction_id": self.transaction_id,
                "openid": self.openid,
                "is_subscribe": self.is_subscribe,
                "out_trade_no": self.out_trade_no,
            }
        if self.state in ("failed", "cancelled"):
            return {
                "status": "failed",
                "message": self.message or pay_message(self.env, "PAYERROR"),
                "out_trade_no": self.out_trade_no,
            }
        return {"status": "waiting", "out_trade_no": self.out_trade_no}

    def _apply_order_data(self, data):
        """Write what a verified answer (micropay SUCCESS or orderquery) says about the order."""
        vals = {}
        if data.get("openid"):
            vals["openid"] = data["openid"]
        if data.get("is_subscribe"):
            vals["is_subscribe"] = data["is_subscribe"] == "Y"
        if data.get("transaction_id"):
            vals["transaction_id"] = data["transaction_id"]
        return vals

    def _wechat_is_settled(self):
        """The charge belongs to a validated POS order or to a recorded POS payment: never reversed."""
        self.ensure_one()
        txn = self.sudo()
        if txn.pos_order_id and txn.pos_order_id.state not in ("draft", "cancel"):
            return True
        payment_domain = [("wechat_pay_transaction_id", "=", txn.id)]
        if txn.payment_uuid:
            payment_domain = [
                "|",
                *payment_domain,
                "&",
                ("uuid", "=", txn.payment_uuid),
                ("payment_method_id", "=", txn.payment_method_id.id),
            ]
        if txn.env["pos.payment"].search_count(payment_domain, limit=1):
            return True
        return bool(txn.pos_order_uuid) and bool(
            txn.env["pos.order"].search_count(
                [("uuid", "=", txn.pos_order_uuid), ("state", "not in", ("draft", "cancel"))], limit=1
            )
        )

    def _sync(self, client):
        """Ask WeChat Pay (orderquery) where this attempt stands and record it."""
        self.ensure_one()
        if self.state in ("done", "failed", "cancelled"):
            return self._result()
        res = client.query(self.out_trade_no)
        if res.status == OK:
            trade_state = res.data.get("trade_state")
            vals = self._apply_order_data(res.data)
            if trade_state == "SUCCESS":
                if res.data.get("total_fee") and int(res.data["total_fee"]) != self.total_fee:
                    _logger.error(
                        "WeChat Pay %s: paid %s fen, expected %s",
                        self.out_trade_no,
                        res.data["total_fee"],
                        self.total_fee,
                    )
                vals.update(state="done", err_code=False, message=False)
            elif trade_state in ("PAYERROR", "REVOKED", "CLOSED", "REFUND"):
                vals.update(
                    state="failed" if trade_state in ("PAYERROR", "REFUND") else "cancelled",
                    err_code=trade_state,
                    message=pay_message(self.env, trade_state),
                )
            else:  # USERPAYING, NOTPAY: the customer is still confirming
                vals.update(state="waiting")
            self.write(vals)
        elif res.status == ERROR and res.code == "ORDERNOTEXIST" and self.micropay_failed:
            self.write({"state": "failed"})
        # Network error or an order WeChat does not show yet: still unknown, keep polling.
        return self._result()


@contextlib.contextmanager
def transaction_cursor(method):
    """Where the charge attempts of ``method`` (a payment method) are written: ``(env, own)``.

    An attempt must be recorded (committed) before WeChat is called and kept
    whatever happens to the caller's transaction, or a retried request would
    charge the same ``out_trade_no`` again: when ``own``, ``env.cr`` is a
    cursor of its own, to commit before calling WeChat; it commits on exit.
    When the payment method or the user are not committed yet (tests in one
    transaction), the caller's cursor is used.
    """
    env = method.env
    if isinstance(env.cr, TestCursor):
        yield env, False
        return
    with sql_db.db_connect(env.cr.dbname).cursor() as cr:
        cr.execute(
            "SELECT 1 FROM pos_payment_method m, res_users u WHERE m.id = %s AND u.id = %s", [method.id, env.uid]
        )
        if not cr.rowcount:
            cr.rollback()
            yield env, False
            return
        yield env(cr=cr), True


def reverse_expired(txn):
    """True when ``txn`` is too old for WeChat to accept its reverse (7 days): it must be refunded."""
    return bool(txn.charged_at) and fields.Datetime.now() - txn.charged_at >= REVERSE_MAX_AGE


def reverse_wait(txn):
    """Seconds to wait before WeChat accepts a reverse of ``txn`` (0 when allowed)."""
    age = fields.Datetime.now() - (txn.charged_at or fields.Datetime.now())
    return max(0, int((timedelta(seconds=REVERSE_MIN_AGE) - age).total_seconds() + 0.999))
