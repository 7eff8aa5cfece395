"""Bookings inside WeChat: ``/wechat/book/<account>`` (what can be booked), ``/wechat/book/<account>/<product>``
(store, day or time slot, quantity), ``/wechat/booking/<account>/<booking>`` (pay with ``wx.chooseWXPay``,
the booking QR to show at the till, cancel), and WeChat Pay's payment notification
``/wechat/pay/notify/<account>``.

The member is the signed-in one (silent OAuth, as on the member page); a
booking page shows only the member's own bookings.  The page never says a
booking is paid: WeChat's signed notification, or WeChat's answer to the
order query the page's status poll makes, does (``wechat.preorder``).
"""

import base64
import logging

import pytz
from markupsafe import Markup
from werkzeug.exceptions import NotFound

from odoo import SUPERUSER_ID, _, fields, http
from odoo.exceptions import UserError
from odoo.http import request
from odoo.tools import format_amount

from ..tools.qr_code import qr_png
from .member_page import WeChatMemberPage

_logger = logging.getLogger(__name__)

NOTIFY_SUCCESS = Markup(
    "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>"
)
NOTIFY_FAIL = Markup("<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[FAIL]]></return_msg></xml>")


class WeChatPreorderPage(WeChatMemberPage):
    # ------------------------------------------------------------------ helpers
    def _bookable(self, account):
        """``{template: stores}``: the products members can book and the stores that take them."""
        stores = request.env["pos.config"]._wechat_stores(account).filtered(lambda s: s._wechat_preorder_pay_method())
        templates = (
            request.env["product.template"]
            .sudo()
            .search(
                [
                    ("wechat_orderable", "=", True),
                    ("sale_ok", "=", True),
                    ("company_id", "in", (False, account.company_id.id)),
                ],
                order="name, id",
            )
        )
        return {template: stores for template in templates} if stores else {}

    def _slot_values(self, store, template):
        Slot = request.env["wechat.preorder.slot"].sudo()
        slots = store._wechat_booking_slots(template)
        booked = Slot._booked(store, template, [start for start, __ in slots])
        tz = store.company_id._wechat_tz()
        values = []
        for start, end in slots:
            left = template.wechat_slot_capacity - booked.get(start, 0)
            local_start = pytz.utc.localize(start).astimezone(tz)
            local_end = pytz.utc.localize(end).astimezone(tz)
            values.append(
                {
                    "key": fields.Datetime.to_string(start),
                    "day": request.env["wechat.preorder"]._day_text(local_start),
                    "time": f"{local_start:%H:%M}–{local_end:%H:%M}",
                    "left": max(left, 0),
                }
            )
        return values

    def _own_booking(self, account, booking_id):
        member = self._current_member(account)
        booking = request.env["wechat.preorder"].sudo().browse(booking_id).exists()
        if not member or not booking or booking.member_id != member:
            raise NotFound()
        return booking

    # ------------------------------------------------------------------ pages
    @http.route("/wechat/book/<int:account_id>", type="http", auth="public", methods=["GET"], sitemap=False)
    def booking_home(self, account_id, lang=None, **kw):
        account = self._account(account_id)
        self._set_lang(lang)
        member = self._current_member(account)
        if not member:
            return self._login_redirect(account, f"/wechat/book/{account.id}")
        bookable = self._bookable(account)
        bookings = (
            request.env["wechat.preorder"]
            .sudo()
            .search(
                [("member_id", "=", member.id), ("state", "in", ("pending", "confirmed", "ready"))], order="slot_start"
            )
        )
        values = {
            "account": account,
            "products": [{"template": t, "price": self._price_text(t, stores[:1])} for t, stores in bookable.items()],
            "bookings": bookings.with_context(lang=request.env.lang),
            "lang": request.env.lang,
            "title": _("Book in WeChat"),
        }
        return request.render("wechat_member.booking_home_page", values)

    def _price_text(self, template, store):
        __, amount = request.env["wechat.preorder"]._booking_price(store.sudo(), template, 1)
        return format_amount(request.env, amount, store.currency_id)

    @http.route(
        "/wechat/book/<int:account_id>/<int:product_id>",
        type="http",
        auth="public",
        methods=["GET", "POST"],
        sitemap=False,
    )
    def booking_product(self, account_id, product_id, store=None, slot=None, qty=None, lang=None, **kw):
        account = self._account(account_id)
        self._set_lang(lang)
        member = self._current_member(account)
        path = f"/wechat/book/{account.id}/{product_id}"
        if not member:
            return self._login_redirect(account, path)
        bookable = self._bookable(account)
        template = next((t for t in bookable if t.id == product_id), None)
        if not template:
            raise NotFound()
        stores = bookable[template]
        chosen = stores.filtered(lambda s: str(s.id) == str(store or ""))[:1] or stores[:1]
        error = None
        if request.httprequest.method == "POST" and store and str(chosen.id) != str(store):
            error = _("This store does not take bookings in WeChat.")
        elif request.httprequest.method == "POST":
            try:
                start = fields.Datetime.to_datetime(slot) if slot else None
            except ValueError:
                start = None
            try:
                count = int(qty or 1)
            except ValueError:
                count = 0
            try:
                if not start:
                    raise UserError(_("Please choose a time."))
                booking = request.env["wechat.preorder"]._book(member, chosen, template, start, count)
            except UserError as exc:
                error = exc.args[0]
            else:
                return request.redirect(f"/wechat/booking/{account.id}/{booking.id}")
        values = {
            "account": account,
            "template": template.with_context(lang=request.env.lang),
            "price": self._price_text(template, chosen),
            "stores": stores,
            "store": chosen,
            "slots": self._slot_values(chosen, template),
            "slot": slot,
            "qty": qty or 1,
            "max_qty": min(10, template.wechat_slot_capacity),
            "error": error,
            "lang": request.env.lang,
            "title": template.name,
        }
        return request.render("wechat_member.booking_product_page", values, status=400 if error else 200)

    @http.route(
        "/wechat/booking/<int:account_id>/<int:booking_id>", type="http", auth="public", methods=["GET"], sitemap=False
    )
    def booking_page(self, account_id, booking_id, lang=None, **kw):
        account = self._account(account_id)
        self._set_lang(lang)
        if not self._current_member(account):
            return self._login_redirect(account, f"/wechat/booking/{account.id}/{booking_id}")
        booking = self._own_booking(account, booking_id).with_context(lang=request.env.lang)
        qr = False
        if booking.state in ("confirmed", "ready"):
            qr = "data:image/png;base64," + base64.b64encode(qr_png(booking.pickup_code)).decode()
        values = {
            "account": account,
            "booking": booking,
            "when": booking._when_text(),
            "amount": booking._amount_text(),
            "state_label": booking._state_label(),
            "qr": qr,
            "can_pay": booking.state == "pending" and booking.expires_at > fields.Datetime.now(),
            "can_cancel": booking._can_cancel_online(),
            "jssdk": self._jssdk_values(account, booking.member_id, ["chooseWXPay"])
            if booking.state == "pending"
            else {},
            "lang": request.env.lang,
            "title": booking.name,
        }
        return request.render("wechat_member.booking_page", values)

    @http.route("/wechat/booking/<int:account_id>/<int:booking_id>/pay", type="json", auth="public", sitemap=False)
    def booking_pay(self, account_id, booking_id, **kw):
        account = self._account(account_id)
        self._set_lang()
        booking = self._own_booking(account, booking_id)
        try:
            return booking._pay_params(self._client_ip())
        except UserError as exc:
            return {"error": exc.args[0]}

    @http.route("/wechat/booking/<int:account_id>/<int:booking_id>/status", type="json", auth="public", sitemap=False)
    def booking_status(self, account_id, booking_id, **kw):
        account = self._account(account_id)
        booking = self._own_booking(account, booking_id)
        if booking.state == "pending" and booking.transaction_id:
            booking._check_payment()
        return {"state": booking.state}

    @http.route(
        "/wechat/booking/<int:account_id>/<int:booking_id>/cancel",
        type="http",
        auth="public",
        methods=["POST"],
        sitemap=False,
    )
    def booking_cancel(self, account_id, booking_id, **kw):
        account = self._account(account_id)
        self._set_lang()
        booking = self._own_booking(account, booking_id)
        try:
            booking._cancel_by_member()
        except UserError as exc:
            return self._render_error(exc.args[0])
        return request.redirect(f"/wechat/booking/{account.id}/{booking.id}")

    # ------------------------------------------------------------------ WeChat Pay
    @http.route(
        "/wechat/pay/notify/<int:account_id>",
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
        readonly=False,
        sitemap=False,
    )
    def pay_notify(self, account_id, **kw):
        """支付结果通知: answered SUCCESS once applied (or known), FAIL otherwise (WeChat sends it again).
        WeChat's server has no session: the notification is trusted for its merchant signature only."""
        request.update_env(user=SUPERUSER_ID)
        account = request.env["wechat.account"].search([("id", "=", account_id)], limit=1)
        ok = bool(account) and request.env["wechat.preorder"]._receive_pay_notification(
            account, request.httprequest.get_data()
        )
        return request.make_response(
            NOTIFY_SUCCESS if ok else NOTIFY_FAIL, headers=[("Content-Type", "application/xml; charset=utf-8")]
        )
