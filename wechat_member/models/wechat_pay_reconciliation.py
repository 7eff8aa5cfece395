"""Day-end reconciliation of a WeChat Pay payment method with WeChat's trade bill.

One ``wechat.pay.reconciliation`` per payment method and Beijing day: the
trade bill of that day (``pos.payment.method._wechat_pay_client().download_bill``)
is matched with what Odoo recorded, the paid charges (``wechat.pay.transaction``
of a POS order) and the refunds WeChat accepted (``wechat.pay.refund``).
Each difference is a ``wechat.pay.reconciliation.line``: missing in Odoo,
missing in WeChat, amount differs.  Running a day again replaces its result.
A daily cron reconciles the last day WeChat has published (its bills come
out after 09:00 Beijing the next day) and the managers get an activity
when a day does not match.
"""

import logging
from datetime import datetime, time, timedelta

import pytz

from odoo import Command, _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..tools.wechat_pay_api import ERROR, OK

_logger = logging.getLogger(__name__)

BEIJING = pytz.timezone("Asia/Shanghai")
# WeChat publishes the bill of a day from 09:00 Beijing the next day and advises to fetch it after 10:00.
BILL_HOUR = 10
# Refunds WeChat accepted: they are in the bill of the day they were asked.
BILLED_REFUND_STATES = ("processing", "done", "change")

TOTAL_FIELDS = (
    "odoo_count",
    "odoo_amount",
    "odoo_refund_count",
    "odoo_refund_amount",
    "wechat_count",
    "wechat_amount",
    "wechat_refund_count",
    "wechat_refund_amount",
)

RECONCILIATION_STATES = [
    ("matched", "Matched"),
    ("mismatch", "Mismatches"),
    ("no_bill", "No Bill"),
    ("error", "Failed"),
]


def beijing_day_bounds(day):
    """The UTC datetimes (naive, as Odoo stores them) where the Beijing day ``day`` starts and ends."""
    start = BEIJING.localize(datetime.combine(day, time.min)).astimezone(pytz.utc).replace(tzinfo=None)
    return start, start + timedelta(days=1)


def beijing_now(now=None):
    now = now or fields.Datetime.now()
    return pytz.utc.localize(now).astimezone(BEIJING).replace(tzinfo=None)


def last_bill_day(now=None):
    """The last Beijing day whose bill WeChat has published at ``now`` (UTC): yesterday after 10:00."""
    local = beijing_now(now)
    return local.date() - timedelta(days=1 if local.hour >= BILL_HOUR else 2)


class WeChatPayReconciliation(models.Model):
    _name = "wechat.pay.reconciliation"
    _description = "WeChat Pay Day-End Reconciliation"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "bill_date desc, id desc"
    _check_company_auto = True
    # Written by the server only: the managers (read access) discuss it and handle its to-dos.
    _mail_post_access = "read"

    name = fields.Char(compute="_compute_name", store=True)
    payment_method_id = fields.Many2one(
        "pos.payment.method", required=True, readonly=True, ondelete="cascade", index=True, check_company=True
    )
    account_id = fields.Many2one("wechat.account", string="WeChat Account", readonly=True, check_company=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    bill_date = fields.Date("Bill Day", required=True, readonly=True, help="The day, in Beijing time (UTC+8).")
    state = fields.Selection(RECONCILIATION_STATES, required=True, readonly=True, tracking=True)
    message = fields.Char(readonly=True)
    reconciled_at = fields.Datetime("Reconciled On", readonly=True)
    odoo_count = fields.Integer("Odoo Payments", readonly=True)
    odoo_amount = fields.Monetary("Odoo Paid", readonly=True)
    odoo_refund_count = fields.Integer("Odoo Refunds", readonly=True)
    odoo_refund_amount = fields.Monetary("Odoo Refunded", readonly=True)
    wechat_count = fields.Integer("WeChat Payments", readonly=True)
    wechat_amount = fields.Monetary("WeChat Paid", readonly=True)
    wechat_refund_count = fields.Integer("WeChat Refunds", readonly=True)
    wechat_refund_amount = fields.Monetary("WeChat Refunded", readonly=True)
    line_ids = fields.One2many("wechat.pay.reconciliation.line", "reconciliation_id", string="Mismatch Lines")
    mismatch_count = fields.Integer("Mismatches", compute="_compute_mismatch_count", store=True)

    _sql_constraints = [
        (
            "method_day_uniq",
            "UNIQUE(payment_method_id, bill_date)",
            "This payment method already has a reconciliation of that day.",
        ),
    ]

    @api.depends("payment_method_id.name", "bill_date")
    def _compute_name(self):
        for rec in self:
            rec.name = f"{rec.payment_method_id.name or ''} {rec.bill_date or ''}".strip()

    @api.depends("line_ids")
    def _compute_mismatch_count(self):
        for rec in self:
            rec.mismatch_count = len(rec.line_ids)

    # ------------------------------------------------------------------ entry points
    def _check_manager(self):
        if not self.env.su and not self.env.user.has_group("wechat_member.group_wechat_manager"):
            raise AccessError(_("Only WeChat managers can reconcile WeChat Pay bills."))

    def action_reconcile_again(self):
        """Button: download the bill of the same day again and replace the result."""
        self._check_manager()
        for rec in self:
            rec.payment_method_id.check_access("read")
            self._reconcile(rec.payment_method_id, rec.bill_date)
        return True

    @api.model
    def _cron_reconcile(self):
        """Reconcile the last published day for every WeChat Pay method (those already matched are kept)."""
        day = last_bill_day()
        methods = (
            self.env["pos.payment.method"]
            .sudo()
            .search([("use_payment_terminal", "=", "wechat_pay"), ("wechat_account_id", "!=", False)])
        )
        done = self.sudo().search(
            [("bill_date", "=", day), ("payment_method_id", "in", methods.ids), ("state", "!=", "error")]
        )
        for method in methods - done.payment_method_id:
            try:
                with self.env.cr.savepoint():
                    self.sudo()._reconcile(method, day)
            except UserError as exc:  # a method set up wrongly (account of another company ...): the others go on
                _logger.warning("WeChat Pay reconciliation of method %s skipped: %s", method.id, exc)

    # ------------------------------------------------------------------ matching
    @api.model
    def _reconcile(self, method, day):
        """Download the bill of ``method`` for the Beijing day ``day``, match it, store the result (sudo)."""
        method = method.sudo()
        rec = self.sudo().search([("payment_method_id", "=", method.id), ("bill_date", "=", day)], limit=1)
        vals = {
            "payment_method_id": method.id,
            "account_id": method.wechat_account_id.id,
            "company_id": method.company_id.id,
            "bill_date": day,
            "reconciled_at": fields.Datetime.now(),
            "message": False,
        }
        res = method._wechat_pay_client().download_bill(day)
        charges, refunds = self._odoo_side(method, day)
        lines = []
        if res.status == OK:
            lines, totals = self._match(method, res.data.get("rows") or [], charges, refunds)
            vals.update(totals, state="mismatch" if lines else "matched")
        elif res.status == ERROR and res.code == "NO_BILL":
            # WeChat saw no trade that day: everything Odoo recorded is missing in WeChat.
            lines, totals = self._match(method, [], charges, refunds)
            vals.update(totals, state="mismatch" if lines else "no_bill", message=res.message)
        elif rec and rec.state != "error":
            # The bill could not be had this time: the day keeps its former result, with the reason.
            rec.write({"message": res.message})
            _logger.info("WeChat Pay reconciliation %s of %s: bill not downloaded (%s)", method.id, day, res.code)
            return rec
        else:
            vals.update(dict.fromkeys(TOTAL_FIELDS, 0), state="error", message=res.message)
        if rec:
            rec.line_ids.unlink()
            rec.write(vals)
        else:
            rec = self.sudo().create(vals)
        if lines:
            rec.write({"line_ids": [Command.create(line) for line in lines]})
        rec._notify_managers()
        _logger.info("WeChat Pay reconciliation %s of %s: %s (%s mismatches)", method.id, day, rec.state, len(lines))
        return rec

    @api.model
    def _odoo_side(self, method, day):
        """Odoo's record of ``day``: the paid charges of a POS order, the refunds WeChat accepted."""
        start, end = beijing_day_bounds(day)
        charges = (
            self.env["wechat.pay.transaction"]
            .sudo()
            .search(
                [
                    ("payment_method_id", "=", method.id),
                    ("state", "=", "done"),
                    ("charged_at", ">=", start),
                    ("charged_at", "<", end),
                ]
            )
        )
        charges = charges.filtered(lambda txn: txn.pos_order_id or txn._wechat_is_settled())
        refunds = (
            self.env["wechat.pay.refund"]
            .sudo()
            .search(
                [
                    "|",
                    ("payment_method_id", "=", method.id),
                    ("transaction_id.payment_method_id", "=", method.id),
                    ("state", "in", BILLED_REFUND_STATES),
                    ("requested_at", ">=", start),
                    ("requested_at", "<", end),
                ]
            )
        )
        return charges, refunds

    @api.model
    def _other_method(self, method, row, known_charges, known_refunds):
        """The bill line belongs to another payment method of the same merchant (its own reconciliation)."""
        txn = known_charges.get(row["out_trade_no"])
        if row["kind"] == "refund":
            refund = known_refunds.get(row["out_refund_no"])
            if refund:
                return refund.transaction_id.payment_method_id != method
        if txn:
            return txn.payment_method_id != method
        device = row.get("device_info") or ""
        return device.startswith("POS") and device != f"POS{method.id}"

    @api.model
    def _match(self, method, rows, charges, refunds):
        """The mismatch lines (values) and the totals of ``rows`` (the bill) against ``charges`` and ``refunds``."""
        to_amount = method.company_id.currency_id.round
        numbers = [row["out_trade_no"] for row in rows if row["out_trade_no"]]
        known_charges = {
            txn.out_trade_no: txn
            for txn in self.env["wechat.pay.transaction"].sudo().search([("out_trade_no", "in", numbers)])
        }
        refund_numbers = [row["out_refund_no"] for row in rows if row["out_refund_no"]]
        known_refunds = {
            refund.out_refund_no: refund
            for refund in self.env["wechat.pay.refund"].sudo().search([("out_refund_no", "in", refund_numbers)])
        }
        billed_pay, billed_refund = {}, {}
        for row in rows:
            if self._other_method(method, row, known_charges, known_refunds):
                continue
            if row["kind"] == "refund":
                billed_refund[row["out_refund_no"]] = row
            elif row["trade_state"] == "SUCCESS":
                billed_pay[row["out_trade_no"]] = row
            # REVOKED: paid then reversed, nothing kept: as no line (the charge is cancelled in Odoo).
        odoo_pay = {txn.out_trade_no: txn for txn in charges}
        odoo_refund = {refund.out_refund_no: refund for refund in refunds}
        lines = self._compare(
            billed_pay,
            odoo_pay,
            lambda number, row: {"txn": known_charges.get(number)},
            lambda txn: {"txn": txn, "odoo_fen": txn.total_fee},
            to_amount,
        )
        lines += self._compare(
            billed_refund,
            odoo_refund,
            lambda number, row: {
                "refund": known_refunds.get(number),
                "txn": known_refunds[number].transaction_id
                if number in known_refunds
                else known_charges.get(row["out_trade_no"]),
            },
            lambda refund: {"txn": refund.transaction_id, "refund": refund, "odoo_fen": refund.refund_fee},
            to_amount,
        )
        totals = {
            "odoo_count": len(charges),
            "odoo_amount": to_amount(sum(charges.mapped("total_fee")) / 100),
            "odoo_refund_count": len(refunds),
            "odoo_refund_amount": to_amount(sum(refunds.mapped("refund_fee")) / 100),
            "wechat_count": len(billed_pay),
            "wechat_amount": to_amount(sum(row["amount_fen"] for row in billed_pay.values()) / 100),
            "wechat_refund_count": len(billed_refund),
            "wechat_refund_amount": to_amount(sum(row["amount_fen"] for row in billed_refund.values()) / 100),
        }
        return lines, totals

    @api.model
    def _compare(self, billed, odoo, unknown_vals, record_vals, to_amount):
        """Mismatch lines of ``billed`` (number -> bill row) against ``odoo`` (number -> charge or refund).

        ``unknown_vals(number, row)``: the records to link to a bill row Odoo does not count (a charge or
        refund it knows without a POS payment); ``record_vals(record)``: a record's link and amount (fen).
        """
        lines = []
        for number, row in billed.items():
            record = odoo.get(number)
            if record is None:
                vals = unknown_vals(number, row)
                lines.append(
                    self._line_vals("missing_odoo", row, wechat_fen=row["amount_fen"], to_amount=to_amount, **vals)
                )
            elif record_vals(record)["odoo_fen"] != row["amount_fen"]:
                lines.append(
                    self._line_vals(
                        "amount", row, wechat_fen=row["amount_fen"], to_amount=to_amount, **record_vals(record)
                    )
                )
        for number, record in odoo.items():
            if number not in billed:
                lines.append(self._line_vals("missing_wechat", None, to_amount=to_amount, **record_vals(record)))
        return lines

    @api.model
    def _line_vals(self, kind, row, txn=None, refund=None, odoo_fen=None, wechat_fen=None, to_amount=round):
        row = row or {}
        order = (refund.pos_order_id or refund.charge_order_id) if refund else False
        if not order and txn:
            order = txn.pos_order_id
        return {
            "kind": kind,
            "is_refund": bool(refund or row.get("kind") == "refund"),
            "out_trade_no": row.get("out_trade_no") or (txn.out_trade_no if txn else False),
            "wechat_transaction_id": row.get("transaction_id") or (txn.transaction_id if txn else False),
            "out_refund_no": row.get("out_refund_no") or (refund.out_refund_no if refund else False),
            "refund_id": row.get("refund_id") or (refund.refund_id if refund else False),
            "transaction_id": txn.id if txn else False,
            "refund_record_id": refund.id if refund else False,
            "pos_order_id": order.id if order else False,
            "trade_time": row.get("trade_time") or False,
            "odoo_amount": to_amount(odoo_fen / 100) if odoo_fen is not None else 0.0,
            "wechat_amount": to_amount(wechat_fen / 100) if wechat_fen is not None else 0.0,
        }

    # ------------------------------------------------------------------ managers
    def _notify_managers(self):
        """A to-do for the account's manager on a day with mismatches (the one of a former run replaced)."""
        for rec in self.sudo():
            rec.activity_unlink(["mail.mail_activity_data_todo"])
            if rec.state != "mismatch":
                continue
            user = rec.account_id._manager_user() if rec.account_id else self.env.ref("base.user_admin")
            rec.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=_(
                    "WeChat Pay bill of %(day)s: %(count)s lines to check", day=rec.bill_date, count=rec.mismatch_count
                ),
                note=_(
                    "The WeChat Pay bill of %(method)s for %(day)s does not match the Point of Sale: "
                    "check each line (order and WeChat transaction).",
                    method=rec.payment_method_id.name,
                    day=rec.bill_date,
                ),
                user_id=user.id,
            )
