import logging
import time
from datetime import timedelta

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import AccessDenied, ValidationError
from odoo.http import request
from odoo.tools import format_amount

from ..tools.wechat_pay_api import ERROR, OK, QUERY_ERRORS, UNKNOWN, WeChatPayClient, pay_message, refund_message
from ..tools.wechat_pay_v3_api import WeChatPayV3Client
from .wechat_pay import AUTH_CODE_RE, REVERSE_MAX_CALLS, reverse_expired, reverse_wait, transaction_cursor

# WeChat Pay refunds a charge up to one year after it was paid
# (v2 secapi/pay/refund: 交易时间超过一年的订单无法提交退款).
REFUND_MAX_DAYS = 365

_logger = logging.getLogger(__name__)

# Seconds between two reverse calls answered ``recall=Y``.
REVERSE_RECALL_DELAY = 1.0
# Seconds after which the POS asks again for a reverse WeChat refused as USERPAYING (the customer is still
# on the password screen): the query interval the docs advise.
REVERSE_USERPAYING_RETRY = 5


class PosPaymentMethod(models.Model):
    _inherit = "pos.payment.method"

    wechat_account_id = fields.Many2one(
        "wechat.account",
        string="WeChat Account",
        domain="[('company_id', '=', company_id)]",
        help="The WeChat service account whose merchant (WeChat Pay) charges the customer's payment code. "
        "The payer becomes a member of this account.",
    )
    wechat_pay_api_version = fields.Selection(
        [("v2", "APIv2"), ("v3", "APIv3")],
        string="WeChat Pay API",
        default="v2",
        required=True,
        help="APIv2 (XML, API key) or APIv3 (JSON, merchant certificate key; needed for service-provider "
        "merchants and WeChat Pay public keys). The credentials are the WeChat account's.",
    )
    wechat_thanks_message = fields.Char(
        "WeChat Pay Thanks",
        compute="_compute_wechat_thanks_message",
        help="Technical: the thanks printed on the receipt and shown on the customer display after a WeChat Pay "
        'payment (the account\'s thank-you message, when "Thank WeChat Payers" is on).',
    )

    def _get_payment_terminal_selection(self):
        return super()._get_payment_terminal_selection() + [("wechat_pay", _("WeChat Pay (scan code) / 微信付款码"))]

    @api.model
    def _load_pos_data_fields(self, config_id):
        params = super()._load_pos_data_fields(config_id)
        params += ["wechat_account_id", "wechat_thanks_message"]
        return params

    @api.depends("wechat_account_id.pos_thanks", "wechat_account_id.pos_thanks_message")
    @api.depends_context("lang")
    def _compute_wechat_thanks_message(self):
        for method in self:
            account = method.sudo().wechat_account_id
            method.wechat_thanks_message = account.pos_thanks_message if account.pos_thanks else False

    @api.constrains("use_payment_terminal", "wechat_account_id", "company_id")
    def _check_wechat_account(self):
        for method in self.filtered(lambda m: m.use_payment_terminal == "wechat_pay"):
            if not method.wechat_account_id:
                raise ValidationError(
                    _("Choose the WeChat account of the payment method %(method)s.", method=method.name)
                )
            if method.sudo().wechat_account_id.company_id != method.company_id:
                raise ValidationError(
                    _(
                        "The WeChat account %(account)s belongs to another company than the payment method "
                        "%(method)s.",
                        account=method.wechat_account_id.name,
                        method=method.name,
                    )
                )

    @api.constrains("use_payment_terminal", "wechat_account_id", "wechat_pay_api_version")
    def _check_wechat_pay_api_version(self):
        for method in self.filtered(lambda m: m.use_payment_terminal == "wechat_pay" and m.wechat_account_id):
            account = method.sudo().wechat_account_id
            if method.wechat_pay_api_version == "v3":
                missing = account._pay_v3_missing()
                if missing:
                    raise ValidationError(
                        _(
                            "The payment method %(method)s uses WeChat Pay APIv3, but the WeChat account "
                            "%(account)s lacks: %(missing)s.",
                            method=method.name,
                            account=account.name,
                            missing=", ".join(missing),
                        )
                    )
            elif account.pay_partner_mode:
                raise ValidationError(
                    _(
                        "The WeChat account %(account)s is a service-provider sub-merchant: its payment method "
                        "%(method)s must use WeChat Pay APIv3.",
                        method=method.name,
                        account=account.name,
                    )
                )

    @api.onchange("use_payment_terminal")
    def _onchange_use_payment_terminal(self):
        res = super()._onchange_use_payment_terminal()
        if self.use_payment_terminal != "wechat_pay":
            self.wechat_account_id = False
        return res

    # ------------------------------------------------------------------ helpers
    def _wechat_pay_check(self):
        """The WeChat account of this payment method, after the access checks of a POS call."""
        self.ensure_one()
        if not self.env.su and not self.env.user.has_group("point_of_sale.group_pos_user"):
            raise AccessDenied()
        if self.use_payment_terminal != "wechat_pay" or not self.wechat_account_id:
            raise ValidationError(_("%(method)s is not a WeChat Pay payment method.", method=self.name))
        account = self.sudo().wechat_account_id
        if account.company_id != self.company_id:
            raise ValidationError(_("The WeChat account of %(method)s belongs to another company.", method=self.name))
        return account

    def _wechat_pay_client(self):
        """The WeChat Pay client of this payment method (its account's merchant)."""
        self.ensure_one()
        account = self._wechat_pay_check()
        if self.wechat_pay_api_version == "v3":
            return WeChatPayV3Client(account)
        return WeChatPayClient(account)

    @api.model
    def _wechat_pay_uuids(self, data):
        order_uuid = str((data or {}).get("order_uuid") or "").strip()
        payment_uuid = str((data or {}).get("payment_uuid") or "").strip()
        if not order_uuid or not payment_uuid or len(order_uuid) > 64 or len(payment_uuid) > 64:
            raise ValidationError(_("The WeChat Pay request has no valid order or payment line reference."))
        return order_uuid, payment_uuid

    def _wechat_pay_last(self, txn_env, order_uuid, payment_uuid):
        return (
            txn_env["wechat.pay.transaction"]
            .sudo()
            .search(
                [
                    ("pos_order_uuid", "=", order_uuid),
                    ("payment_uuid", "=", payment_uuid),
                    ("payment_method_id", "=", self.id),
                ],
                order="attempt desc, id desc",
                limit=1,
            )
        )

    @api.model
    def _wechat_client_ip(self):
        try:
            ip = request.httprequest.remote_addr if request else None
        except RuntimeError:  # no request bound to this thread
            ip = None
        return ip or "127.0.0.1"

    def _wechat_pay_body(self):
        """商品描述: the shop name, at most 128 bytes."""
        body = _("%(company)s - Point of Sale", company=self.company_id.name)
        return body.encode()[:128].decode(errors="ignore")

    # ------------------------------------------------------------------ POS calls
    def wechat_pay_charge(self, data):
        """Charge the customer's payment code (``pay/micropay``).

        ``data``: ``auth_code``, ``amount``, ``currency``, ``order_uuid``,
        ``payment_uuid``.  Returns ``{'status': 'done'|'waiting'|'failed', ...}``.
        A retried request of the same payment line never charges twice: the
        attempt already recorded is queried instead.
        """
        account = self._wechat_pay_check()
        data = data or {}
        auth_code = "".join(str(data.get("auth_code") or "").split())
        if not AUTH_CODE_RE.match(auth_code):
            return {
                "status": "failed",
                "message": _(
                    "This is not a WeChat payment code: it must have 18 digits and start with 10 to 15. "
                    "Ask the customer to open WeChat > Me > Pay and scan the code again."
                ),
            }
        order_uuid, payment_uuid = self._wechat_pay_uuids(data)
        currency, amount, total_fee = self._wechat_pay_amount(data)
        if total_fee <= 0:
            return {
                "status": "failed",
                "message": _("WeChat Pay can only charge a positive amount. Refunds are made another way."),
            }
        client = self._wechat_pay_client()
        with transaction_cursor(self) as (txn_env, own):
            method = self.with_env(txn_env)
            last = method._wechat_pay_last(txn_env, order_uuid, payment_uuid)
            if last and last.state in ("done", "pending", "waiting"):
                # A retry of this payment line: never charge again, ask WeChat where it stands.
                return last._sync(client)
            attempt = last.attempt + 1 if last else 1
            txn, created = method._wechat_pay_new_attempt(
                account, order_uuid, payment_uuid, attempt, currency, amount, total_fee
            )
            if not created:
                # The same request runs in another worker: ask WeChat instead of charging.
                return txn._sync(client) if txn else {"status": "waiting"}
            if own:
                txn_env.cr.commit()  # recorded before WeChat is called
            res = self._wechat_pay_micropay(client, txn, auth_code, currency, order_uuid)
            return method._wechat_pay_handle_charge(txn, res, client)

    def _wechat_pay_amount(self, data):
        """``(currency, amount, total_fee)`` of a charge request: the amount rounded, total_fee in cents (分).

        The currency is the one named in ``data``, else the company's; an
        amount that is not a number counts as 0.
        """
        currency = self.env["res.currency"].search([("name", "=", data.get("currency"))], limit=1)
        currency = currency or self.company_id.currency_id
        try:
            amount = float(data.get("amount") or 0.0)
        except (TypeError, ValueError):
            amount = 0.0
        return currency, currency.round(amount), int(round(currency.round(amount) * 100))

    def _wechat_pay_new_attempt(self, account, order_uuid, payment_uuid, attempt, currency, amount, total_fee):
        """Record charge attempt number ``attempt`` of the payment line, ``pending``: ``(transaction, created)``.

        When the same request runs in another worker (its ``out_trade_no``
        already exists), nothing is created: ``(that transaction or an
        empty recordset, False)``.
        """
        Txn = self.env["wechat.pay.transaction"].sudo()
        out_trade_no = Txn._out_trade_no(order_uuid, payment_uuid, attempt)
        try:
            with self.env.cr.savepoint():
                txn = Txn.create(
                    {
                        "out_trade_no": out_trade_no,
                        "attempt": attempt,
                        "state": "pending",
                        "amount": amount,
                        "total_fee": total_fee,
                        "currency_id": currency.id,
                        "account_id": account.id,
                        "payment_method_id": self.id,
                        "company_id": account.company_id.id,
                        "pos_order_uuid": order_uuid,
                        "payment_uuid": payment_uuid,
                    }
                )
        except psycopg2.IntegrityError:
            return Txn.search([("out_trade_no", "=", out_trade_no)], limit=1), False
        return txn, True

    def _wechat_pay_micropay(self, client, txn, auth_code, currency, order_uuid):
        """Call ``pay/micropay`` for the recorded attempt ``txn``: WeChat's answer."""
        return client.micropay(
            txn.out_trade_no,
            txn.total_fee,
            auth_code,
            body=self._wechat_pay_body(),
            client_ip=self._wechat_client_ip(),
            fee_type=currency.name,
            attach=order_uuid[:127],
            device_info=f"POS{self.id}",
        )

    def _wechat_pay_handle_charge(self, txn, res, client):
        if res.status == OK:
            vals = txn._apply_order_data(res.data)
            vals["state"] = "done"
            txn.write(vals)
            _logger.info("WeChat Pay %s paid (%s fen)", txn.out_trade_no, txn.total_fee)
            return txn._result()
        if res.status == ERROR and res.code == "USERPAYING":
            txn.write({"state": "waiting", "err_code": res.code})
            return txn._result()
        if res.status == UNKNOWN or res.code in QUERY_ERRORS:
            # Unknown outcome (SYSTEMERROR, BANKERROR, timeout ...): query, never charge again.
            _logger.info("WeChat Pay %s: outcome unknown (%s), querying", txn.out_trade_no, res.code)
            txn.write(
                {
                    "state": "waiting",
                    "err_code": res.code,
                    "message": res.message,
                    "micropay_failed": res.code in ("RETURN_FAIL", "SIGNERROR"),
                }
            )
            result = txn._sync(client)
            if result["status"] == "waiting" and res.code in ("RETURN_FAIL", "SIGNERROR"):
                # WeChat refused the request itself and shows no order: nothing was charged.
                txn.write({"state": "failed"})
                return {"status": "failed", "message": res.message, "out_trade_no": txn.out_trade_no}
            return result
        txn.write({"state": "failed", "err_code": res.code, "message": res.message, "micropay_failed": True})
        _logger.info("WeChat Pay %s refused: %s", txn.out_trade_no, res.code)
        return txn._result()

    def wechat_pay_status(self, data):
        """Where the payment line's charge stands (``pay/orderquery``): done / waiting / failed."""
        client = self._wechat_pay_client()
        order_uuid, payment_uuid = self._wechat_pay_uuids(data)
        with transaction_cursor(self) as (txn_env, own):
            txn = self.with_env(txn_env)._wechat_pay_last(txn_env, order_uuid, payment_uuid)
            if not txn:
                return {"status": "failed", "message": _("No WeChat payment was sent for this payment line.")}
            return txn._sync(client)

    def wechat_pay_cancel(self, data):
        """Cancel the payment line's charge (``secapi/pay/reverse``, repeated while ``recall=Y``).

        Returns ``{'cancelled': bool, 'message': str}``, plus ``retry_in``
        (seconds) when WeChat does not accept a reverse yet (15 s after the
        order, or while the customer is still on WeChat's password screen),
        and ``status``/``transaction_id`` when the customer already paid.
        """
        client = self._wechat_pay_client()
        order_uuid, payment_uuid = self._wechat_pay_uuids(data)
        with transaction_cursor(self) as (txn_env, own):
            txn = self.with_env(txn_env)._wechat_pay_last(txn_env, order_uuid, payment_uuid)
            answer = self._wechat_pay_cancel_without_reverse(txn, data)
            if answer is not None:
                return answer
            res = self._wechat_pay_reverse(client, txn)
            return self._wechat_pay_handle_reverse(txn, res)

    def _wechat_pay_cancel_without_reverse(self, txn, data):
        """The answer to a cancel request that calls no reverse now, else ``None``.

        A validated sale, a charge already failed or cancelled (or never
        sent), a paid charge without ``force``, a charge older than WeChat's
        7 days for a reverse, and a charge too recent for WeChat to accept a
        reverse (``retry_in``).
        """
        if txn and txn._wechat_is_settled():
            # Whatever the POS sends (``force`` included): a validated sale is reversed by a refund.
            return dict(
                txn._result(),
                cancelled=False,
                message=_(
                    "This WeChat payment belongs to a validated order: it cannot be cancelled. "
                    "Refund the order instead."
                ),
            )
        if not txn or txn.state in ("failed", "cancelled"):
            return {"cancelled": True, "message": _("The WeChat payment is cancelled.")}
        if txn.state == "done" and not (data or {}).get("force"):
            return dict(
                txn._result(),
                cancelled=False,
                message=_("The customer has already paid with WeChat: the payment is kept."),
            )
        if reverse_expired(txn):
            return {"cancelled": False, "message": self._wechat_pay_reverse_expired_message()}
        wait = reverse_wait(txn)
        if wait:
            return {
                "cancelled": False,
                "retry_in": wait,
                "message": _("Cancelling the WeChat payment, please wait %(seconds)s s...", seconds=wait),
            }
        return None

    def _wechat_pay_reverse(self, client, txn):
        """Call ``secapi/pay/reverse`` again while WeChat answers ``recall=Y`` (``REVERSE_MAX_CALLS`` at most).

        Returns WeChat's last answer.
        """
        for call in range(REVERSE_MAX_CALLS):
            res = client.reverse(txn.out_trade_no)
            if res.status == OK and res.data.get("recall") == "Y":
                if call + 1 < REVERSE_MAX_CALLS:
                    time.sleep(REVERSE_RECALL_DELAY)
                continue
            break
        return res

    def _wechat_pay_reverse_expired_message(self):
        return _(
            "This WeChat payment is more than 7 days old: WeChat Pay no longer cancels it. Refund it instead, "
            "from the WeChat Pay merchant platform."
        )

    def _wechat_pay_handle_reverse(self, txn, res):
        """Record WeChat's answer ``res`` to the reverse of ``txn``; the answer to the POS."""
        if res.status == OK and res.data.get("recall") != "Y":
            txn.write({"state": "cancelled", "err_code": "REVOKED", "message": pay_message(self.env, "REVOKED")})
            _logger.info("WeChat Pay %s reversed", txn.out_trade_no)
            return {"cancelled": True, "message": pay_message(self.env, "REVOKED")}
        if res.status == ERROR and res.code == "ORDERNOTEXIST":
            # WeChat never received the charge: nothing to cancel.
            txn.write({"state": "cancelled", "err_code": res.code, "message": pay_message(self.env, "REVOKED")})
            return {"cancelled": True, "message": pay_message(self.env, "REVOKED")}
        if res.status == ERROR and res.code == "USERPAYING":
            # The customer is still on WeChat's password screen: WeChat refuses the reverse for now.
            _logger.info("WeChat Pay %s: reverse refused while the customer pays, retry", txn.out_trade_no)
            return {
                "cancelled": False,
                "retry_in": REVERSE_USERPAYING_RETRY,
                "message": _(
                    "The customer is still confirming the payment in WeChat: it cannot be cancelled yet. "
                    "Trying again in %(seconds)s s...",
                    seconds=REVERSE_USERPAYING_RETRY,
                ),
            }
        _logger.warning("WeChat Pay %s: reverse failed (%s)", txn.out_trade_no, res.code)
        if res.status == ERROR and res.code == "REVERSE_EXPIRE":
            message = self._wechat_pay_reverse_expired_message()
        elif res.status == OK:
            message = _("WeChat Pay is still cancelling the payment: try to cancel again in a moment.")
        else:
            message = _("The WeChat payment could not be cancelled: %(reason)s Try again.", reason=res.message)
        return {"cancelled": False, "message": message}

    # ------------------------------------------------------------------ refunds
    def wechat_pay_refund(self, data):
        """Refund to the customer's WeChat what a refund payment line pays back (``secapi/pay/refund``).

        ``data``: ``order_uuid`` and ``payment_uuid`` (the refund order and its
        negative payment line), ``amount`` (negative or positive) and
        ``refunded_orderline_ids`` (the ``refunded_orderline_id`` of the refund
        lines: the paid order(s)).  The charges are the server's own paid
        ``wechat.pay.transaction`` of this payment method on those orders;
        nothing else the POS sends is trusted.  Returns
        ``{'status': 'done'|'processing'|'pending'|'change'|'closed'|'failed', 'message', 'left'?}``.
        A retried request of the same line never refunds twice: its refunds are queried.
        """
        self._wechat_pay_check()
        self._wechat_pay_check_refund_right()
        data = data or {}
        order_uuid, payment_uuid = self._wechat_pay_uuids(data)
        currency, amount, refund_fee = self._wechat_pay_amount(dict(data, amount=abs(self._wechat_float(data))))
        if refund_fee <= 0:
            return {"status": "failed", "message": _("There is nothing to refund.")}
        charge_orders = self._wechat_pay_refunded_orders(data.get("refunded_orderline_ids"))
        client = self._wechat_pay_client()
        with transaction_cursor(self) as (txn_env, own):
            method = self.with_env(txn_env)
            refunds = method._wechat_pay_line_refunds(txn_env, order_uuid, payment_uuid)
            if refunds:
                # A retry of this refund line: never refund again, ask WeChat where it stands.
                for refund in refunds:
                    refund._sync(client)
                return refunds._refunds_result()
            charges = method._wechat_pay_refundable_charges(charge_orders.with_env(txn_env))
            # Two refunds of the same charges at once (two tills, two workers) wait for each other here: what is
            # left is computed from the refunds committed before.
            txn_env.cr.execute("SELECT id FROM wechat_pay_transaction WHERE id = ANY(%s) FOR UPDATE", [charges.ids])
            charges.invalidate_recordset()
            charges.refund_ids.invalidate_recordset()
            if method._wechat_pay_overdue(charges):
                return {"status": "failed", "left": 0.0, "message": refund_message(self.env, "TRADE_OVERDUE")}
            charges = charges.filtered(lambda t: not method._wechat_pay_overdue(t))
            left = sum(max(0.0, txn.amount - txn.refunded_amount) for txn in charges)
            if currency.compare_amounts(amount, left) > 0:
                return {
                    "status": "failed",
                    "left": left,
                    "message": _(
                        "Only %(left)s left to refund with WeChat Pay on this order: refund the rest another way.",
                        left=format_amount(self.env, left, currency),
                    ),
                }
            refunds = method._wechat_pay_new_refunds(charges, order_uuid, payment_uuid, currency, amount)
            if not refunds:
                return {"status": "pending", "message": refund_message(self.env, "NETWORK")}
            if own:
                txn_env.cr.commit()  # recorded before WeChat is called
            reason = _("Refund of %(order)s", order=", ".join(charge_orders.mapped("pos_reference") or [""]))
            for refund in refunds:
                refund._send(client, reason=reason[:80])
            return refunds._refunds_result(
                left=left - sum(refunds.filtered(lambda r: r.state != "failed").mapped("amount"))
            )

    def wechat_pay_refund_status(self, data):
        """Where the refund of a refund payment line stands (``pay/refundquery``)."""
        self._wechat_pay_check()
        order_uuid, payment_uuid = self._wechat_pay_uuids(data)
        client = self._wechat_pay_client()
        with transaction_cursor(self) as (txn_env, own):
            refunds = self.with_env(txn_env)._wechat_pay_line_refunds(txn_env, order_uuid, payment_uuid)
            if not refunds:
                return {"status": "failed", "message": _("No WeChat Pay refund was sent for this payment line.")}
            for refund in refunds:
                refund._sync(client)
            return refunds._refunds_result()

    def _wechat_pay_check_refund_right(self):
        """Refunding to WeChat needs what refunding in the POS needs: a Point of Sale user (18.0 has no finer
        right: ``pos_hr``'s cashier role restricts price changes and cash moves, not refunds)."""
        if not self.env.su and not self.env.user.has_group("point_of_sale.group_pos_user"):
            raise AccessDenied()

    @api.model
    def _wechat_float(self, data):
        try:
            return float(data.get("amount") or 0.0)
        except (TypeError, ValueError):
            return 0.0

    def _wechat_pay_refunded_orders(self, line_ids):
        """The paid orders of the refunded lines, as the user may read them; refused for another company."""
        try:
            ids = [int(i) for i in line_ids or []]
        except (TypeError, ValueError):
            ids = []
        lines = self.env["pos.order.line"].browse(ids).exists()
        if not lines:
            raise ValidationError(
                _("A WeChat Pay refund must refund lines of a paid order (Refund in the order list).")
            )
        orders = lines.order_id
        orders.check_access("read")  # the cashier's own rights on the paid orders
        if orders.company_id != self.company_id:
            raise ValidationError(_("%(method)s cannot refund an order of another company.", method=self.name))
        return orders.sudo()

    def _wechat_pay_refundable_charges(self, orders):
        """The paid WeChat Pay charges of ``orders`` made with this payment method, oldest first.

        Refused with a clear message when the orders were paid with another
        WeChat Pay method, or not with WeChat Pay at all.
        """
        Txn = self.env["wechat.pay.transaction"].sudo()
        domain = [
            ("state", "=", "done"),
            "|",
            ("pos_order_id", "in", orders.ids),
            ("pos_order_uuid", "in", [u for u in orders.mapped("uuid") if u]),
        ]
        charges = Txn.search(domain, order="id")
        # A charge counts for an order only if the order recorded it (its payment line), not just its uuid.
        payments = orders.payment_ids.filtered(lambda p: p.amount > 0)
        charges = charges.filtered(lambda t: t.pos_order_id in orders or t.payment_uuid in payments.mapped("uuid"))
        mine = charges.filtered(lambda t: t.payment_method_id == self)
        if not mine:
            if charges:
                raise ValidationError(
                    _(
                        "This order was paid with %(methods)s, not %(method)s: refund it with the payment method "
                        "it was paid with.",
                        methods=", ".join(charges.payment_method_id.mapped("name")),
                        method=self.name,
                    )
                )
            raise ValidationError(
                _("This order was not paid with %(method)s: refund it with another payment method.", method=self.name)
            )
        return mine

    def _wechat_pay_overdue(self, charges):
        """All ``charges`` are older than WeChat's refund limit."""
        limit = fields.Datetime.now() - timedelta(days=REFUND_MAX_DAYS)
        return charges and all(txn.charged_at and txn.charged_at < limit for txn in charges)

    def _wechat_pay_line_refunds(self, txn_env, order_uuid, payment_uuid):
        return (
            txn_env["wechat.pay.refund"]
            .sudo()
            .search(
                [
                    ("pos_order_uuid", "=", order_uuid),
                    ("payment_uuid", "=", payment_uuid),
                    ("payment_method_id", "=", self.id),
                ],
                order="id",
            )
        )

    def _wechat_pay_new_refunds(self, charges, order_uuid, payment_uuid, currency, amount):
        """Record the refunds (``pending``) of ``amount``, split over ``charges`` (oldest first).

        Returns them, or an empty recordset when the same request runs in
        another worker (its ``out_refund_no`` already exists).
        """
        Refund = self.env["wechat.pay.refund"].sudo()
        vals_list = []
        rest = amount
        for txn in charges:
            if currency.is_zero(rest):
                break
            part = min(rest, currency.round(txn.amount - txn.refunded_amount))
            if currency.compare_amounts(part, 0.0) <= 0:
                continue
            rest = currency.round(rest - part)
            vals_list.append(
                {
                    "out_refund_no": Refund._refund_number(order_uuid, payment_uuid, len(vals_list) + 1),
                    "transaction_id": txn.id,
                    "payment_method_id": self.id,
                    "company_id": txn.company_id.id,
                    "amount": part,
                    "refund_fee": int(round(part * 100)),
                    "pos_order_uuid": order_uuid,
                    "payment_uuid": payment_uuid,
                }
            )
        if not currency.is_zero(rest):
            return Refund
        try:
            with self.env.cr.savepoint():
                return Refund.create(vals_list)
        except psycopg2.IntegrityError:
            return Refund

    # ------------------------------------------------------------------ day-end reconciliation
    def action_wechat_pay_reconcile(self):
        """Button: reconcile a day of this method with WeChat's trade bill (a wizard asks the day)."""
        self.ensure_one()
        self.env["wechat.pay.reconciliation"]._check_manager()
        action = self.env["ir.actions.actions"]._for_xml_id("wechat_member.wechat_pay_reconcile_wizard_action")
        action["context"] = {"default_payment_method_id": self.id}
        return action
