"""Bookings made in WeChat (预订 / 预约): ``wechat.preorder``.

A member books a product "orderable in WeChat" in a store on the booking
page (a pick-up day, or an appointment's time slot, within the slot's
capacity: ``wechat.preorder.slot``), pays it in WeChat's browser (WeChat Pay
APIv2 JSAPI, ``wx.chooseWXPay``) and collects it at the till, where the
cashier hands it over: a paid POS order of the store, whose payment is the
booking's charge (a ``wechat.pay.transaction``), so stock, accounting, POS
refunds and the day-end reconciliation treat it as a WeChat Pay sale.

The booking is paid when WeChat's signed payment notification says so
(``/wechat/pay/notify/<account>``), or when WeChat answers the order query
(never when the page says so): verified with the merchant key, compared
with the amount, applied once under a row lock.  An unpaid booking expires
after ``wechat.account.preorder_pay_minutes`` and gives its places back; a
payment that arrives for a booking expired or cancelled meanwhile is
refunded at once.  A refund is a ``wechat.pay.refund``, recorded before
WeChat is called and sent after the commit, as at the till.
"""

import hashlib
import logging
import secrets
import uuid
from datetime import timedelta

import pytz
import xmltodict
from babel.dates import format_skeleton

from odoo import _, api, fields, models
from odoo.exceptions import AccessDenied, UserError
from odoo.tools import format_amount
from odoo.tools.misc import babel_locale_parse

from ..tools.wechat_pay_api import ERROR, OK, WeChatPayClient
from .product_template import BOOKING_KINDS
from .utils import call_after_commit

_logger = logging.getLogger(__name__)

PREORDER_STATES = [
    ("pending", "Waiting for payment"),
    ("confirmed", "Paid"),
    ("ready", "Ready for pick-up"),
    ("collected", "Collected"),
    ("cancelled", "Cancelled"),
    ("expired", "Expired unpaid"),
    ("no_show", "No-show"),
]
TO_COLLECT = ("confirmed", "ready")
# What the till may still hand over (a no-show who comes late) and the shop may still refund.
HANDOVER_STATES = (*TO_COLLECT, "no_show")
HOLDS_PLACES = ("pending", "confirmed", "ready", "collected", "no_show")
MAX_QTY = 10
MAX_PENDING = 3  # bookings a member may hold unpaid at once (each holds places until it expires)
# WeChat takes the payment this long after the booking stops waiting for it: the member who opened the
# payment sheet at the last minute can finish (a payment after the booking expired is refunded).
PAY_GRACE = timedelta(minutes=5)
# 关闭订单: not within 5 minutes of placing the order.
CLOSE_MIN_AGE = timedelta(minutes=5)
REMINDER_BEFORE = timedelta(hours=2)
# A charge of a cancelled or expired booking is asked about this long (WeChat notifies for 24 hours).
SETTLE_WINDOW = timedelta(days=2)
HANDOVER_PROOFS = [
    ("code", "Booking QR scanned"),
    ("confirmed", "Customer confirmed by the cashier"),
]


def new_pickup_code():
    """What the booking QR encodes: 16 random characters, not the (sequential) booking number."""
    return "WB" + secrets.token_hex(7).upper()


class WeChatPreorder(models.Model):
    _name = "wechat.preorder"
    _description = "WeChat Booking"
    _inherit = ["mail.thread"]
    _order = "slot_start desc, id desc"
    _check_company_auto = True

    name = fields.Char("Booking No.", required=True, readonly=True, copy=False, default="/", index="trigram")
    uuid = fields.Char(
        "POS Order UUID",
        required=True,
        readonly=True,
        copy=False,
        default=lambda self: str(uuid.uuid4()),
        help="Technical: the uuid of the POS order made when the booking is collected.",
    )
    pickup_code = fields.Char(
        required=True,
        readonly=True,
        copy=False,
        default=lambda self: new_pickup_code(),
        groups="wechat_member.group_wechat_manager",
        help="What the member's booking QR encodes; the till hands the booking over on it (it cannot be guessed "
        "from the booking number).",
    )
    handover_proof = fields.Selection(
        HANDOVER_PROOFS,
        string="Handed Over On",
        readonly=True,
        copy=False,
        help="How the cashier knew the customer at the handover: the scanned booking QR, or the customer's "
        "confirmation (masked name and phone) the cashier recorded.",
    )
    tax_ids = fields.Many2many(
        "account.tax", string="Taxes", readonly=True, help="The product's taxes when booked: the till sells it so."
    )
    state = fields.Selection(
        PREORDER_STATES, default="pending", required=True, readonly=True, index=True, tracking=True
    )
    account_id = fields.Many2one("wechat.account", required=True, readonly=True, ondelete="restrict", index=True)
    member_id = fields.Many2one("wechat.member", required=True, readonly=True, ondelete="restrict", index=True)
    partner_id = fields.Many2one(related="member_id.partner_id", store=True, string="Customer")
    config_id = fields.Many2one(
        "pos.config", string="Store", required=True, readonly=True, ondelete="restrict", check_company=True
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    product_tmpl_id = fields.Many2one("product.template", string="Product", required=True, readonly=True)
    product_id = fields.Many2one("product.product", string="Variant", required=True, readonly=True)
    booking_kind = fields.Selection(BOOKING_KINDS, required=True, readonly=True)
    qty = fields.Integer("Quantity", required=True, readonly=True, default=1)
    slot_id = fields.Many2one("wechat.preorder.slot", readonly=True, ondelete="restrict")
    slot_start = fields.Datetime("From", required=True, readonly=True, index=True)
    slot_end = fields.Datetime("To", required=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    price_unit = fields.Monetary("Unit Price", readonly=True, help="Without taxes, as the till sells it.")
    amount = fields.Monetary("Total", readonly=True, help="What the member pays, taxes included.")
    expires_at = fields.Datetime("Pay Before", readonly=True)
    paid_at = fields.Datetime("Paid On", readonly=True)
    ready_at = fields.Datetime("Ready On", readonly=True)
    collected_at = fields.Datetime("Collected On", readonly=True)
    cancelled_at = fields.Datetime("Cancelled On", readonly=True)
    transaction_id = fields.Many2one("wechat.pay.transaction", string="WeChat Pay Charge", readonly=True, copy=False)
    payment_method_id = fields.Many2one("pos.payment.method", readonly=True, check_company=True)
    refund_ids = fields.One2many(related="transaction_id.refund_ids", string="Refunds")
    pos_order_id = fields.Many2one("pos.order", string="POS Order", readonly=True, copy=False)
    first_purchase = fields.Boolean(
        "New Customer", readonly=True, help="The member's first paid purchase in the shop was this booking."
    )
    reminder_sent = fields.Boolean(readonly=True, copy=False)

    _sql_constraints = [
        ("uuid_uniq", "UNIQUE(uuid)", "A booking's POS order uuid is its own."),
        ("pickup_code_uniq", "UNIQUE(pickup_code)", "A booking QR is unique."),
        ("qty_positive", "CHECK(qty > 0)", "A booking is for at least one."),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].sudo().next_by_code("wechat.preorder") or "/"
        return super().create(vals_list)

    # ------------------------------------------------------------------ helpers
    def _out_trade_no(self):
        """The booking's merchant order number (32 characters), unique across databases of one merchant."""
        self.ensure_one()
        dbuuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid", "")
        return "WB" + hashlib.sha1(f"{dbuuid}:booking:{self.id}".encode()).hexdigest()[:30]

    def _local(self, value):
        tz = self.company_id._wechat_tz()
        return pytz.utc.localize(value).astimezone(tz)

    def _when_text(self):
        """When the member comes, in the shop's time: "Tue 08/12 10:00–11:00" or the pick-up day and hours."""
        self.ensure_one()
        start, end = self._local(self.slot_start), self._local(self.slot_end)
        day = self._day_text(start)
        if self.booking_kind == "pickup":
            return _(
                "%(day)s, pick up %(opens)s–%(closes)s",
                day=day,
                opens=start.strftime("%H:%M"),
                closes=end.strftime("%H:%M"),
            )
        return f"{day} {start.strftime('%H:%M')}–{end.strftime('%H:%M')}"

    @api.model
    def _day_text(self, local):
        """A local datetime's day as the member's language writes it: "12月3日周四", "Thu, Dec 3"."""
        return format_skeleton("MMMEd", local, locale=babel_locale_parse(self.env.lang or "en_US"))

    def _amount_text(self):
        self.ensure_one()
        return format_amount(self.env, self.amount, self.currency_id)

    def _page_url(self):
        self.ensure_one()
        return f"{self.account_id.get_base_url()}/wechat/booking/{self.account_id.id}/{self.id}"

    def _notice_values(self):
        self.ensure_one()
        return {
            "booking": self.name,
            "product": self.product_tmpl_id.name,
            "store": self.config_id.name,
            "when": self._when_text(),
            "amount": self.amount,
            "date": fields.Datetime.to_string(self.slot_start),
            "url": self._page_url(),
        }

    def _notify(self, kind):
        for booking in self:
            self.env["wechat.notice"].sudo()._notify(
                kind, booking.member_id, booking._notice_values(), key=f"booking-{booking.id}"
            )

    def _client(self):
        return WeChatPayClient(self.account_id)

    def _notify_url(self):
        return f"{self.account_id.get_base_url()}/wechat/pay/notify/{self.account_id.id}"

    def _wechat_expire_at(self):
        return self.expires_at + PAY_GRACE

    # ------------------------------------------------------------------ booking
    @api.model
    def _booking_price(self, config, template, qty):
        """``(unit price without taxes, total with taxes)`` as the store's till sells ``qty`` of ``template``."""
        product = template._wechat_booked_variant()
        price_unit = (
            config.pricelist_id._get_product_price(template, qty) if config.pricelist_id else template.list_price
        )
        __, total = self._totals(self._booking_taxes(config, template), price_unit, qty, product, config.currency_id)
        return price_unit, total

    @api.model
    def _totals(self, taxes, price_unit, qty, product, currency):
        """``(total without taxes, total with taxes)`` of ``qty`` at ``price_unit``, as the till computes it."""
        if taxes:
            computed = taxes.compute_all(price_unit, currency, qty, product)
            return computed["total_excluded"], currency.round(computed["total_included"])
        total = currency.round(price_unit * qty)
        return total, total

    @api.model
    def _booking_taxes(self, config, template):
        return template.taxes_id.filtered(lambda t: t.company_id == config.company_id)

    @api.model
    def _book(self, member, config, template, start, qty=1):
        """Book ``qty`` of ``template`` in store ``config`` for the slot starting at ``start`` (naive UTC).

        Raises a translated :class:`UserError` for anything the member must change."""
        member = member.sudo()
        account = member.account_id
        config = config.sudo()
        template = template.sudo()
        if config not in self.env["pos.config"]._wechat_stores(account):
            raise UserError(_("This store does not take bookings in WeChat."))
        if (
            not template.exists()
            or not template.wechat_orderable
            or not template.sale_ok
            or (template.company_id and template.company_id != config.company_id)
        ):
            raise UserError(_("This product cannot be booked in WeChat."))
        method = config._wechat_preorder_pay_method()
        if not method:
            raise UserError(_("This store does not take WeChat Pay bookings yet: please choose another store."))
        if not isinstance(qty, int) or not 1 <= qty <= min(MAX_QTY, template.wechat_slot_capacity):
            raise UserError(_("Please book between 1 and %(max)s.", max=min(MAX_QTY, template.wechat_slot_capacity)))
        if self.sudo().search_count([("member_id", "=", member.id), ("state", "=", "pending")]) >= MAX_PENDING:
            raise UserError(_("Please pay or cancel your bookings waiting for payment first."))
        slot = next(((s, e) for s, e in config._wechat_booking_slots(template) if s == start), None)
        if not slot:
            raise UserError(_("This time can no longer be booked: please choose another."))
        place = self.env["wechat.preorder.slot"].sudo()._reserve(config, template, slot[0], slot[1], qty)
        if not place:
            raise UserError(_("This time is fully booked: please choose another."))
        price_unit, amount = self._booking_price(config, template, qty)
        booking = self.sudo().create(
            {
                "account_id": account.id,
                "member_id": member.id,
                "config_id": config.id,
                "company_id": config.company_id.id,
                "product_tmpl_id": template.id,
                "product_id": template._wechat_booked_variant().id,
                "booking_kind": template.wechat_booking_kind,
                "qty": qty,
                "slot_id": place.id,
                "slot_start": slot[0],
                "slot_end": slot[1],
                "price_unit": price_unit,
                "amount": amount,
                "tax_ids": [(6, 0, self._booking_taxes(config, template).ids)],
                "payment_method_id": method.id,
                "expires_at": fields.Datetime.now() + timedelta(minutes=account.preorder_pay_minutes),
            }
        )
        return booking

    # ------------------------------------------------------------------ payment
    def _pay_params(self, client_ip):
        """The parameters of ``wx.chooseWXPay`` for this booking (the WeChat Pay order placed once, placed
        again with the same parameters on a retry), or ``{"paid": True}`` when WeChat says it is paid."""
        self.ensure_one()
        booking = self.sudo()
        if booking.state != "pending" or booking.expires_at <= fields.Datetime.now():
            raise UserError(_("This booking can no longer be paid: please book again."))
        txn = booking.transaction_id
        total_fee = int(round(booking.amount * 100))
        if not txn:
            txn = (
                self.env["wechat.pay.transaction"]
                .sudo()
                .create(
                    {
                        "out_trade_no": booking._out_trade_no(),
                        "state": "waiting",
                        "amount": booking.amount,
                        "total_fee": total_fee,
                        "currency_id": booking.currency_id.id,
                        "account_id": booking.account_id.id,
                        "payment_method_id": booking.payment_method_id.id,
                        "company_id": booking.company_id.id,
                        "pos_order_uuid": booking.uuid,
                        "payment_uuid": f"{booking.uuid}-pay",
                        "openid": booking.member_id.openid,
                    }
                )
            )
            booking.transaction_id = txn
        client = booking._client()
        body = _("%(shop)s - booking %(booking)s", shop=booking.company_id.name, booking=booking.name)
        expire = pytz.utc.localize(booking._wechat_expire_at())
        res = client.jsapi_order(
            txn.out_trade_no,
            total_fee,
            body.encode()[:128].decode(errors="ignore"),
            booking.member_id.openid,
            booking._notify_url(),
            client_ip or "127.0.0.1",
            expire,
            attach=booking.name,
        )
        if res.status == ERROR and res.code == "ORDERPAID":
            booking._check_payment()
            return {"paid": True}
        if res.status != OK:
            _logger.warning("Booking %s: unifiedorder failed (%s)", booking.name, res.code)
            raise UserError(res.message or _("WeChat Pay could not take the payment: please try again."))
        return client.jsapi_params(res.data["prepay_id"])

    @api.model
    def _receive_pay_notification(self, account, body):
        """WeChat's payment notification ``body`` for ``account``: True to answer SUCCESS (applied, or a
        duplicate), False to answer FAIL (forged, another amount, unknown order: logged, nothing paid)."""
        client = WeChatPayClient(account)
        data = client.verify_notification(body)
        if data is None:
            _logger.warning("WeChat account %s: payment notification refused: bad signature", account.id)
            self._log_refused(account, body, _("A payment notification with a bad signature was refused."))
            return False
        booking = self._of_order(account, data.get("out_trade_no") or "")
        if not booking:
            _logger.warning("WeChat account %s: payment notification of an unknown order", account.id)
            return False
        if data.get("return_code") != "SUCCESS" or data.get("result_code") != "SUCCESS":
            return True  # a failed payment: nothing to record
        return booking._apply_payment(data)

    @api.model
    def _of_order(self, account, out_trade_no):
        """The booking whose WeChat Pay order of ``account`` is ``out_trade_no``, or an empty recordset."""
        txn = (
            self.env["wechat.pay.transaction"]
            .sudo()
            .search([("out_trade_no", "=", out_trade_no), ("account_id", "=", account.id)], limit=1)
        )
        if not txn.pos_order_uuid:
            return self.browse()
        return self.sudo().search([("uuid", "=", txn.pos_order_uuid)], limit=1)

    @api.model
    def _log_refused(self, account, body, message):
        """Note a refused notification on the booking its (unverified) order number names, if any."""
        try:
            raw = xmltodict.parse(body, disable_entities=True).get("xml") or {}
        except Exception:  # noqa: BLE001 - unreadable: nothing to note
            return
        number = raw.get("out_trade_no") if isinstance(raw, dict) else None
        if not isinstance(number, str):
            return
        booking = self._of_order(account, number)
        # Anyone may post to the notify URL: at most one note an hour on a booking.
        recent = fields.Datetime.now() - timedelta(hours=1)
        if booking and not booking.message_ids.filtered(lambda m: m.date >= recent and message in (m.body or "")):
            booking.message_post(body=message)

    def _apply_payment(self, data):
        """Record WeChat's verified word (notification or order query) that the booking's order is paid.
        Idempotent: locked, applied once.  False when the amount is not the booking's."""
        self.ensure_one()
        booking = self.sudo()
        self.env.cr.execute("SELECT id FROM wechat_preorder WHERE id = %s FOR UPDATE", [booking.id])
        booking.invalidate_recordset()
        txn = booking.transaction_id
        txn.invalidate_recordset()
        if str(data.get("total_fee")) != str(txn.total_fee):
            _logger.warning(
                "Booking %s: WeChat says %s fen paid, %s expected: refused",
                booking.name,
                data.get("total_fee"),
                txn.total_fee,
            )
            booking.message_post(
                body=_(
                    "A payment notification for %(fen)s fen was refused: the booking costs %(expected)s fen.",
                    fen=data.get("total_fee"),
                    expected=txn.total_fee,
                )
            )
            return False
        if txn.state == "done":
            return True  # told again
        txn.write(
            {
                "state": "done",
                "transaction_id": data.get("transaction_id"),
                "openid": data.get("openid") or txn.openid,
                "is_subscribe": data.get("is_subscribe") == "Y",
                "err_code": False,
                "message": False,
            }
        )
        now = fields.Datetime.now()
        if booking.state == "pending":
            booking.write({"state": "confirmed", "paid_at": now, "first_purchase": not booking._has_purchased()})
            booking._notify("preorder_confirmed")
        else:
            booking.message_post(
                body=_(
                    "The member paid after the booking was %(state)s: the payment is refunded.",
                    state=booking._state_label(),
                )
            )
            booking._refund(_("Booking %(booking)s no longer open", booking=booking.name))
        return True

    def _state_label(self):
        return dict(self._fields["state"]._description_selection(self.env))[self.state]

    def _has_purchased(self):
        """The member's contact paid for something in the shop before (a POS order, another booking)."""
        self.ensure_one()
        partner = self.partner_id
        if not partner:
            return False
        if (
            self.env["pos.order"]
            .sudo()
            .search_count([("partner_id", "=", partner.id), ("state", "in", ("paid", "done", "invoiced"))], limit=1)
        ):
            return True
        return bool(
            self.sudo().search_count(
                [("partner_id", "=", partner.id), ("id", "!=", self.id), ("paid_at", "!=", False)], limit=1
            )
        )

    def _check_payment(self):
        """Ask WeChat (orderquery) whether the booking's order is paid; apply it.  True when paid."""
        self.ensure_one()
        booking = self.sudo()
        txn = booking.transaction_id
        if not txn:
            return False
        if txn.state == "done":
            return True
        res = booking._client().query_order(txn.out_trade_no)
        if res.status == OK and res.data.get("trade_state") == "SUCCESS":
            return booking._apply_payment(res.data)
        if res.status == OK and res.data.get("trade_state") == "REFUND":
            # Paid, then refunded outside Odoo (the merchant platform): nothing to hand over.
            booking.message_post(body=_("WeChat Pay says this payment was refunded: the booking is not paid."))
        return False

    # ------------------------------------------------------------------ refund and cancel
    def _refund(self, reason):
        """Refund the booking's charge in full (a ``wechat.pay.refund``, sent after the commit)."""
        self.ensure_one()
        booking = self.sudo()
        txn = booking.transaction_id
        if not txn or txn.state != "done":
            return self.env["wechat.pay.refund"]
        Refund = self.env["wechat.pay.refund"].sudo()
        refund = txn.refund_ids.filtered(lambda r: r.pos_order_uuid == booking.uuid)
        if refund:
            return refund
        refund = Refund.create(
            {
                "out_refund_no": Refund._out_refund_no(booking.uuid, "booking"),
                "transaction_id": txn.id,
                "payment_method_id": booking.payment_method_id.id,
                "company_id": booking.company_id.id,
                "amount": txn.amount,
                "refund_fee": txn.total_fee,
                "pos_order_uuid": booking.uuid,
                "payment_uuid": "booking",
            }
        )
        call_after_commit(self.env, "wechat.preorder", "_send_refunds", [(refund.id, reason[:80])])
        return refund

    @api.model
    def _send_refunds(self, items):
        for refund_id, reason in items:
            refund = self.env["wechat.pay.refund"].sudo().browse(refund_id).exists()
            if refund and refund.state == "pending":
                refund._send(WeChatPayClient(refund.account_id), reason=reason)
                # WeChat's answer is written at once: the next refund's call may fail.
                self.env.flush_all()

    def _can_cancel_online(self, now=None):
        self.ensure_one()
        now = now or fields.Datetime.now()
        if self.state == "pending":
            return True
        hours = self.account_id.preorder_cancel_hours
        return self.state in TO_COLLECT and self.slot_start - timedelta(hours=hours) > now

    def _cancel_by_member(self):
        self.ensure_one()
        if not self._can_cancel_online():
            if self.state in TO_COLLECT:
                raise UserError(
                    _(
                        "Bookings can be cancelled online up to %(hours)s hours before: please call the store.",
                        hours=self.account_id.preorder_cancel_hours,
                    )
                )
            raise UserError(_("This booking cannot be cancelled any more."))
        self._cancel(_("Cancelled by the member"))

    def action_cancel(self):
        """Button (managers): cancel the bookings; a paid one is refunded in full."""
        self.check_access("write")
        for booking in self:
            if booking.state not in ("pending", *HANDOVER_STATES):
                raise UserError(
                    _(
                        "%(booking)s is %(state)s: it cannot be cancelled.",
                        booking=booking.name,
                        state=booking._state_label(),
                    )
                )
            booking._cancel(_("Cancelled by the shop"))
        return True

    def _cancel(self, reason):
        booking = self.sudo()
        if booking.state == "pending":
            booking._close_wechat_order()
            if booking.transaction_id.state == "done":  # paid meanwhile: refunded below
                booking.invalidate_recordset(["state"])
        if booking.state in HANDOVER_STATES:
            booking._refund(_("Booking %(booking)s cancelled", booking=booking.name))
        booking.slot_id._release(booking.qty)
        booking.write({"state": "cancelled", "cancelled_at": fields.Datetime.now()})
        booking.message_post(body=reason)

    def _close_wechat_order(self):
        """Close the booking's unpaid WeChat order (best effort): a payment that still arrives is refunded."""
        booking = self.sudo()
        txn = booking.transaction_id
        if not txn or txn.state != "waiting":
            return True
        if txn.charged_at and txn.charged_at + CLOSE_MIN_AGE > fields.Datetime.now():
            return False  # WeChat asks for 5 minutes before a close: it stops taking the payment at its expiry
        res = booking._client().close_order(txn.out_trade_no)
        if res.status == OK or res.code == "ORDERCLOSED":
            txn.write({"state": "cancelled", "err_code": "CLOSED"})
            return True
        if res.code == "ORDERPAID":
            return booking._check_payment()
        return False

    # ------------------------------------------------------------------ the till
    @api.model
    def _pos_check(self, config_id):
        if not self.env.user.has_group("point_of_sale.group_pos_user"):
            raise AccessDenied()
        config = self.env["pos.config"].browse(int(config_id)).exists()
        if not config:
            raise UserError(_("This point of sale does not exist."))
        config.check_access("read")
        return config

    def _pos_booking(self, config, booking_id):
        booking = self.sudo().browse(int(booking_id)).exists()
        if not booking or booking.config_id != config:
            raise UserError(_("This booking is not one of this store."))
        return booking

    def _pos_values(self):
        self.ensure_one()
        partner = self.partner_id
        phone = "".join(c for c in (partner.phone or "") if c.isdigit())
        return {
            "id": self.id,
            "name": self.name,
            "customer": partner.name or "",
            "member_code": partner.wechat_member_code or "",
            "phone_last4": phone[-4:],
            "product": self.product_id.display_name,
            "qty": self.qty,
            "when": self._when_text(),
            "state": self.state,
            "state_label": self._state_label(),
            "amount": self._amount_text(),
        }

    @api.model
    def pos_to_collect(self, config_id, query=""):
        """The paid bookings of the till's store to hand over, soonest first, or those matching ``query``
        (booking number or its QR, member code, phone, name)."""
        config = self._pos_check(config_id)
        domain = [("config_id", "=", config.id), ("state", "in", TO_COLLECT)]
        query = (query or "").strip()
        if query:
            domain = [("config_id", "=", config.id), ("state", "in", HANDOVER_STATES)]
            digits = "".join(c for c in query if c.isdigit())
            search = [
                "|",
                "|",
                "|",
                "|",
                ("pickup_code", "=", query.upper()),
                ("name", "=ilike", query),
                ("partner_id.wechat_member_code", "=ilike", query),
                ("partner_id.name", "ilike", query),
                ("partner_id.phone_mobile_search", "=", query) if len(digits) >= 4 else ("id", "=", 0),
            ]
            domain += search
        bookings = self.sudo().search(domain, order="slot_start, id", limit=50)
        scanned = bookings.filtered(lambda b: b.pickup_code == query.upper())
        return [dict(b._pos_values(), scanned=bool(scanned)) for b in scanned or bookings]

    @api.model
    def pos_mark_ready(self, config_id, booking_id):
        """The store has the booking ready: the member is told it can be picked up."""
        booking = self._pos_booking(self._pos_check(config_id), booking_id)
        if booking.state == "confirmed":
            booking.write({"state": "ready", "ready_at": fields.Datetime.now()})
            booking._notify("preorder_ready")
        return booking._pos_values()

    @api.model
    def pos_collect(self, session_id, booking_id, pickup_code=None, customer_confirmed=False):
        """Hand the booking over in the cashier's open session: a paid POS order of the store, paid by the
        booking's WeChat Pay charge (stock moves as for a sale).  Returns the booking and the order.

        The cashier proves who collects: the booking QR's ``pickup_code`` scanned from the member's phone, or
        ``customer_confirmed`` (the customer confirmed the masked name and phone the till showed), recorded
        on the booking for the manager."""
        if not self.env.user.has_group("point_of_sale.group_pos_user"):
            raise AccessDenied()
        session = self.env["pos.session"].browse(int(session_id)).exists()
        if not session:
            raise UserError(_("Open the register first."))
        config = self._pos_check(session.config_id.id)
        session.check_access("read")
        if session.state != "opened":
            raise UserError(_("Open the register first."))
        booking = self._pos_booking(config, booking_id)
        self.env.cr.execute("SELECT id FROM wechat_preorder WHERE id = %s FOR UPDATE", [booking.id])
        booking.invalidate_recordset()
        if booking.state == "collected":
            raise UserError(_("%(booking)s was already handed over.", booking=booking.name))
        if booking.state not in HANDOVER_STATES:
            raise UserError(
                _(
                    "%(booking)s is %(state)s: it cannot be handed over.",
                    booking=booking.name,
                    state=booking._state_label(),
                )
            )
        if isinstance(pickup_code, str) and pickup_code.strip().upper() == booking.pickup_code:
            proof = "code"
        elif customer_confirmed is True:
            proof = "confirmed"
        else:
            raise UserError(_("Scan the booking QR on the customer's phone, or confirm the customer, to hand it over."))
        order = booking._create_pos_order(session)
        booking.write(
            {
                "state": "collected",
                "collected_at": fields.Datetime.now(),
                "pos_order_id": order.id,
                "handover_proof": proof,
            }
        )
        booking.message_post(body=_("Handed over in %(order)s.", order=order.name))
        return dict(booking._pos_values(), pos_order=order.pos_reference or order.name)

    def _create_pos_order(self, session):
        """The paid POS order of the handover, through the POS's own sync (lines, payment, picking)."""
        self.ensure_one()
        booking = self.sudo()
        txn = booking.transaction_id
        if txn.state != "done":
            raise UserError(_("%(booking)s has no WeChat Pay payment recorded.", booking=booking.name))
        taxes = booking.tax_ids
        currency = booking.currency_id
        excluded, included = self._totals(taxes, booking.price_unit, booking.qty, booking.product_id, currency)
        data = {
            "uuid": booking.uuid,
            "name": _("Booking %(booking)s", booking=booking.name),
            "session_id": session.id,
            "user_id": self.env.uid,
            "partner_id": booking.partner_id.id,
            "pricelist_id": session.config_id.pricelist_id.id,
            "fiscal_position_id": False,
            "date_order": fields.Datetime.to_string(fields.Datetime.now()),
            "amount_paid": txn.amount,
            "amount_return": 0,
            "amount_tax": included - excluded,
            "amount_total": included,
            "to_invoice": False,
            "last_order_preparation_change": "{}",
            "lines": [
                (
                    0,
                    0,
                    {
                        "product_id": booking.product_id.id,
                        "qty": booking.qty,
                        "price_unit": booking.price_unit,
                        "price_subtotal": excluded,
                        "price_subtotal_incl": included,
                        "tax_ids": [(6, 0, taxes.ids)],
                        "full_product_name": booking.product_id.display_name,
                    },
                )
            ],
            "payment_ids": [
                (
                    0,
                    0,
                    {
                        "amount": txn.amount,
                        "payment_method_id": booking.payment_method_id.id,
                        "uuid": txn.payment_uuid,
                        "transaction_id": txn.transaction_id,
                        "payment_status": "done",
                        "name": fields.Datetime.to_string(fields.Datetime.now()),
                    },
                )
            ],
        }
        if currency.compare_amounts(included, txn.amount):
            raise UserError(
                _(
                    "%(booking)s: its taxes changed since it was paid: a manager can cancel and refund it.",
                    booking=booking.name,
                )
            )
        result = self.env["pos.order"].sync_from_ui([data])
        order = self.env["pos.order"].sudo().browse(result["pos.order"][0]["id"])
        if order.state not in ("paid", "done", "invoiced"):
            raise UserError(_("%(booking)s could not be recorded as a paid sale.", booking=booking.name))
        order.write({"wechat_bind_method": "preorder"})
        return order

    # ------------------------------------------------------------------ cron
    @api.model
    def _cron_preorders(self):
        """Expire unpaid bookings, remind appointments, note no-shows, send refunds again."""
        self._expire_unpaid()
        self._settle_open_charges()
        self._send_reminders()
        self._mark_no_shows()
        self._resend_refunds()

    def _expire_unpaid(self, now=None):
        now = now or fields.Datetime.now()
        for booking in self.sudo().search([("state", "=", "pending"), ("expires_at", "<", now)], limit=200):
            txn = booking.transaction_id
            if txn and not booking._close_wechat_order():
                if booking._wechat_expire_at() + timedelta(minutes=1) > now:
                    continue  # WeChat may still take the payment: closed or queried at the next run
                if booking._check_payment():
                    continue
            booking.invalidate_recordset(["state"])
            if booking.state != "pending":
                continue  # paid meanwhile
            booking.slot_id._release(booking.qty)
            booking.write({"state": "expired"})

    def _settle_open_charges(self, now=None):
        """The WeChat orders of bookings cancelled or expired before WeChat closed them: asked again (a
        payment is refunded at once), closed when WeChat allows, given up once WeChat no longer takes them."""
        now = now or fields.Datetime.now()
        bookings = self.sudo().search(
            [
                ("state", "in", ("cancelled", "expired")),
                ("transaction_id.state", "=", "waiting"),
                ("create_date", ">", now - SETTLE_WINDOW),
            ],
            limit=200,
        )
        for booking in bookings:
            if booking._check_payment():
                continue  # paid: refunded by _apply_payment
            if booking._close_wechat_order():
                continue
            if booking._wechat_expire_at() + timedelta(minutes=1) < now and booking.transaction_id.state == "waiting":
                booking.transaction_id.write({"state": "cancelled", "err_code": "EXPIRED"})

    def _send_reminders(self, now=None):
        now = now or fields.Datetime.now()
        bookings = self.sudo().search(
            [
                ("state", "in", TO_COLLECT),
                ("booking_kind", "=", "appointment"),
                ("reminder_sent", "=", False),
                ("slot_start", ">", now),
                ("slot_start", "<=", now + REMINDER_BEFORE),
            ]
        )
        bookings._notify("appointment_reminder")
        bookings.write({"reminder_sent": True})

    def _mark_no_shows(self, now=None):
        now = now or fields.Datetime.now()
        self.sudo().search([("state", "in", TO_COLLECT), ("slot_end", "<", now)]).write({"state": "no_show"})

    def _resend_refunds(self):
        refunds = (
            self.env["wechat.pay.refund"]
            .sudo()
            .search([("state", "in", ("pending", "failed")), ("payment_uuid", "=", "booking")], limit=100)
        )
        for refund in refunds:
            refund._sync(WeChatPayClient(refund.account_id))
