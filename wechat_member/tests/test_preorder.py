"""Bookings paid in WeChat and collected at the till (``wechat.preorder``): booking within a slot's capacity,
WeChat Pay JSAPI and its signed notification (replayed, forged, another amount), expiry, cancel and refund,
the handover in the POS, reminders, no-shows and the report."""

import threading
from datetime import datetime, timedelta

import psycopg2
import pytz

from odoo import fields
from odoo.exceptions import AccessDenied, AccessError, UserError
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from .common import OPENID_A, OPENID_B, PosMemberCommon, separate_env


class PreorderCommon(PosMemberCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Open around the clock: the slots do not depend on the hour the tests run.
        cls.config.write({"wechat_open_time": 0.0, "wechat_close_time": 0.0, "wechat_latitude": 31.23})
        Template = cls.env["product.template"]
        cls.cake = Template.create(
            {
                "name": "Mooncake Box",
                "list_price": 88.0,
                "taxes_id": [(5, 0, 0)],
                "available_in_pos": True,
                "is_storable": True,
                "wechat_orderable": True,
                "wechat_booking_kind": "pickup",
                "wechat_slot_capacity": 2,
            }
        )
        cls.fitting = Template.create(
            {
                "name": "Tailoring Fitting",
                "list_price": 200.0,
                "taxes_id": [(5, 0, 0)],
                "available_in_pos": True,
                "type": "service",
                "wechat_orderable": True,
                "wechat_booking_kind": "appointment",
                "wechat_slot_minutes": 30,
                "wechat_slot_capacity": 1,
            }
        )
        for openid in (OPENID_A, OPENID_B):
            if not cls.fake_account.user(openid):
                cls.fake_account.add_follower(openid)

    def setUp(self):
        super().setUp()
        self.fake.set_pay_notify_delays(delays=[])  # one delivery to nobody: the tests hand the body over
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", "http://127.0.0.1:9")
        self.Preorder = self.env["wechat.preorder"]
        self.lily_member = self._member(OPENID_A, partner=self.lily)

    # ------------------------------------------------------------------ helpers
    def slot(self, template, after=None):
        """The first slot offered (today's pick-up), or the first starting ``after`` from now."""
        slots = self.config._wechat_booking_slots(template)
        if after is None:
            return slots[0][0]
        now = fields.Datetime.now()
        return next(s for s, __ in slots if s >= now + after)

    def book(self, template=None, member=None, after=None, qty=1):
        template = template or self.cake
        return self.Preorder._book(member or self.lily_member, self.config, template, self.slot(template, after), qty)

    def pay(self, booking):
        params = booking._pay_params("127.0.0.1")
        self.assertTrue(params.get("paySign"), params)
        no = booking.transaction_id.out_trade_no
        self.fake.pay_jsapi(no)
        return self.fake.pay_notify(no, mode="duplicate")["body"].encode()

    def paid(self, template=None, after=None):
        booking = self.book(template, after=after)
        self.assertTrue(self.Preorder._receive_pay_notification(self.account, self.pay(booking)))
        self.assertEqual(booking.state, "confirmed")
        return booking


@tagged("post_install", "-at_install")
class TestPreorders(PreorderCommon):
    def test_three_notifications_make_one_payment(self):
        booking = self.book(qty=2)
        self.assertEqual((booking.state, booking.amount, booking.slot_id.booked), ("pending", 176.0, 2))
        self.assertTrue(booking.name.startswith("PO"))
        body = self.pay(booking)
        order = self.fake.order(booking.transaction_id.out_trade_no)
        self.assertEqual((order.trade_type, order.total_fee, order.openid), ("JSAPI", 17600, OPENID_A))
        self.assertFalse("?" in order.notify_url, "WeChat drops a query string")
        for __ in range(3):
            self.assertTrue(self.Preorder._receive_pay_notification(self.account, body), "answered SUCCESS")
        self.assertEqual(booking.state, "confirmed")
        self.assertEqual(booking.transaction_id.state, "done")
        self.assertEqual(booking.transaction_id.transaction_id, order.transaction_id)
        self.assertTrue(booking.first_purchase, "Lily's first paid purchase")
        self.assertEqual(len(self.notices("preorder_confirmed", self.lily_member)), 1, "confirmed once")

    def test_forged_or_other_amount_refused_and_logged(self):
        booking = self.book()
        booking._pay_params("127.0.0.1")
        no = booking.transaction_id.out_trade_no
        forged = self.fake.pay_notify(no, mode="bad_sign")["body"].encode()
        self.assertFalse(self.Preorder._receive_pay_notification(self.account, forged))
        cheap = self.fake.pay_notify(no, mode="bad_amount", total_fee=1)["body"].encode()
        self.assertFalse(self.Preorder._receive_pay_notification(self.account, cheap))
        self.assertEqual(booking.state, "pending", "nothing marked paid")
        self.assertEqual(booking.transaction_id.state, "waiting")
        bodies = booking.message_ids.mapped("body")
        self.assertTrue(any("bad signature" in b for b in bodies), bodies)
        self.assertTrue(any("8800 fen" in b for b in bodies), bodies)
        self.assertFalse(self.Preorder._receive_pay_notification(self.account, b"<xml><!ENTITY x 'y'></xml>"))

    def test_last_place_cannot_be_booked_twice(self):
        self.book(qty=2)
        other = self._member(OPENID_B)
        with self.assertRaisesRegex(UserError, "fully booked"):
            self.book(member=other)
        slot = self.env["wechat.preorder.slot"].search([("product_tmpl_id", "=", self.cake.id)])
        self.assertEqual(slot.booked, 2, "never more than the capacity")

    def test_bad_input_refused_with_clear_errors(self):
        start = self.slot(self.cake)
        with self.assertRaisesRegex(UserError, "cannot be booked in WeChat"):
            self.Preorder._book(self.lily_member, self.config, self.tea.product_tmpl_id, start)
        with self.assertRaisesRegex(UserError, "no longer be booked"):
            self.Preorder._book(self.lily_member, self.config, self.cake, start + timedelta(minutes=7))
        with self.assertRaisesRegex(UserError, "between 1 and 2"):
            self.Preorder._book(self.lily_member, self.config, self.cake, start, 3)
        with self.assertRaisesRegex(UserError, "between 1 and 2"):
            self.Preorder._book(self.lily_member, self.config, self.cake, start, 0)
        for __ in range(3):
            self.book(self.fitting, after=timedelta(hours=3 + __))
        with self.assertRaisesRegex(UserError, "waiting for payment first"):
            self.book(self.fitting, after=timedelta(hours=8))
        self.config.wechat_store_published = False
        with self.assertRaisesRegex(UserError, "does not take bookings"):
            self.Preorder._book(self.lily_member, self.config, self.cake, start)

    def test_unpaid_booking_expires_and_frees_its_place(self):
        booking = self.book(qty=2)
        booking._pay_params("127.0.0.1")
        no = booking.transaction_id.out_trade_no
        # Twenty minutes later (WeChat asks for 5 minutes between an order and its closing).
        past = fields.Datetime.now() - timedelta(minutes=20)
        booking.expires_at = past
        booking.transaction_id.charged_at = past
        self.fake.advance(6 * 60)
        self.addCleanup(self.fake.advance, -6 * 60)
        self.Preorder._expire_unpaid()
        self.assertEqual(booking.state, "expired")
        self.assertEqual(booking.slot_id.booked, 0, "the places are free again")
        self.assertEqual(self.fake.order(no).state, "CLOSED", "WeChat no longer takes the payment")
        with self.assertRaisesRegex(UserError, "no longer be paid"):
            booking._pay_params("127.0.0.1")
        self.book(qty=2)  # someone else takes them

    def test_payment_after_expiry_is_refunded(self):
        booking = self.book()
        body = self.pay(booking)  # paid at the last second; the notification is late
        past = fields.Datetime.now() - timedelta(minutes=20)
        booking.expires_at = past
        booking.transaction_id.charged_at = past
        # WeChat cannot be reached when the booking expires: closeorder and orderquery fail.
        self.fake.inject("/pay/closeorder", http_status=500)
        self.fake.inject("/pay/orderquery", http_status=500)
        self.Preorder._expire_unpaid()
        self.assertEqual(booking.state, "expired")
        self.assertTrue(self.Preorder._receive_pay_notification(self.account, body))
        self.assertEqual(booking.state, "expired", "not revived")
        self.assertEqual(booking.refund_ids.mapped("amount"), [88.0])
        self.commit()  # refunds go to WeChat after the commit
        order = self.fake.order(booking.transaction_id.out_trade_no)
        self.assertEqual(order.refunded, 8800, "refunded in full")
        self.assertIn(booking.refund_ids.state, ("processing", "done"), "WeChat's answer recorded")
        self.assertFalse(self.notices("preorder_confirmed", self.lily_member))

    def test_cancel_in_time_refunds_late_cancel_refused(self):
        early = self.paid(self.fitting, after=timedelta(hours=5))
        early._cancel_by_member()
        self.assertEqual(early.state, "cancelled")
        self.assertEqual(early.slot_id.booked, 0)
        self.commit()
        self.assertEqual(self.fake.order(early.transaction_id.out_trade_no).refunded, 20000)
        # The same refund path as the till: a wechat.pay.refund of the charge, re-synced by its cron.
        self.assertEqual(early.refund_ids.transaction_id, early.transaction_id)
        late = self.paid(self.fitting, after=timedelta(minutes=61))
        with self.assertRaisesRegex(UserError, "up to 2 hours before"):
            late._cancel_by_member()
        self.assertEqual(late.state, "confirmed")
        late.action_cancel()  # the shop may
        self.assertEqual(late.state, "cancelled")
        self.assertEqual(len(late.refund_ids), 1)

    def test_refund_wechat_never_got_is_sent_again_by_the_cron(self):
        booking = self.paid(self.fitting, after=timedelta(hours=5))
        self.fake.inject("/secapi/pay/refund", http_status=500)
        booking._cancel_by_member()
        self.commit()
        self.assertEqual(booking.refund_ids.state, "pending", "outcome unknown: WeChat did not answer")
        no = booking.transaction_id.out_trade_no
        self.assertEqual(self.fake.order(no).refunded, 0)
        self.run_cron("wechat_member.ir_cron_wechat_preorders")
        self.assertEqual(self.fake.order(no).refunded, 20000, "sent again with the same refund number")
        self.assertIn(booking.refund_ids.state, ("processing", "done"))

    def test_payment_of_a_cancelled_booking_found_by_the_cron(self):
        booking = self.book()
        booking._pay_params("127.0.0.1")
        booking._cancel_by_member()  # WeChat's order is too young to close: it still takes the payment
        self.assertEqual((booking.state, booking.transaction_id.state), ("cancelled", "waiting"))
        no = booking.transaction_id.out_trade_no
        self.fake.pay_jsapi(no)  # paid in another tab; the notification never arrives
        self.Preorder._settle_open_charges()
        self.assertEqual(booking.transaction_id.state, "done")
        self.assertEqual(booking.state, "cancelled")
        self.commit()
        self.assertEqual(self.fake.order(no).refunded, 8800, "refunded at once")

    def test_store_open_past_midnight_offers_tonight(self):
        self.config.write({"wechat_open_time": 18.0, "wechat_close_time": 2.0})
        tz = self.config.company_id._wechat_tz()
        night = tz.localize(datetime(2026, 12, 3, 0, 30)).astimezone(pytz.utc).replace(tzinfo=None)
        slots = self.config._wechat_booking_slots(self.fitting, now=night)
        first_start, first_end = slots[0]
        self.assertEqual(pytz.utc.localize(first_start).astimezone(tz).strftime("%d %H:%M"), "03 01:30")
        self.assertEqual(pytz.utc.localize(first_end).astimezone(tz).strftime("%d %H:%M"), "03 02:00")
        pickup = self.config._wechat_booking_slots(self.cake, now=night)[0]
        self.assertEqual(pytz.utc.localize(pickup[1]).astimezone(tz).strftime("%d %H:%M"), "03 02:00")

    def test_handover_at_the_till(self):
        booking = self.paid()
        self.open_new_session()
        Preorder = self.Preorder.with_user(self.cashier)
        code = booking.pickup_code
        self.assertNotIn(booking.name[2:], code, "the QR is not the sequential booking number")
        found = Preorder.pos_to_collect(self.config.id, code.lower())
        self.assertEqual([(r["id"], r["scanned"]) for r in found], [(booking.id, True)], "by the booking QR")
        self.assertNotIn(code, str(Preorder.pos_to_collect(self.config.id, "")), "the till never shows a QR code")
        self.assertEqual([r["id"] for r in Preorder.pos_to_collect(self.config.id, booking.name)], booking.ids)
        self.assertEqual([r["id"] for r in Preorder.pos_to_collect(self.config.id, "WM90000001")], booking.ids)
        self.assertEqual([r["id"] for r in Preorder.pos_to_collect(self.config.id, "13800138000")], booking.ids)
        later = self.paid(self.fitting, after=timedelta(hours=30))
        listed = [r["id"] for r in Preorder.pos_to_collect(self.config.id, "")]
        self.assertEqual(listed, (booking | later).sorted("slot_start").ids, "every paid booking, soonest first")
        self.assertEqual(Preorder.pos_mark_ready(self.config.id, booking.id)["state"], "ready")
        self.assertEqual(len(self.notices("preorder_ready", self.lily_member)), 1)
        with self.assertRaisesRegex(UserError, "Scan the booking QR"):
            Preorder.pos_collect(self.pos_session.id, booking.id)  # no proof of who collects
        with self.assertRaisesRegex(UserError, "Scan the booking QR"):
            Preorder.pos_collect(self.pos_session.id, booking.id, booking.name)  # the number is no proof
        done = Preorder.pos_collect(self.pos_session.id, booking.id, code)
        self.assertEqual((done["state"], booking.handover_proof), ("collected", "code"))
        order = booking.pos_order_id
        self.assertEqual((order.state, order.amount_total, order.partner_id), ("paid", 88.0, self.lily))
        self.assertEqual(order.session_id, self.pos_session)
        self.assertEqual(order.payment_ids.payment_method_id, self.wechat_pm)
        self.assertEqual(order.payment_ids.wechat_pay_transaction_id, booking.transaction_id)
        self.assertEqual(booking.transaction_id.pos_order_id, order)
        self.assertEqual(order.wechat_bind_method, "preorder")
        self.assertEqual(order.picking_ids.state, "done", "stock moved as for a sale")
        with self.assertRaisesRegex(UserError, "already handed over"):
            Preorder.pos_collect(self.pos_session.id, booking.id, code)
        self.assertFalse(Preorder.pos_to_collect(self.config.id, booking.name))
        self.assertEqual([r["id"] for r in Preorder.pos_to_collect(self.config.id, "")], later.ids)
        # Found by the member's name: handed over once the customer confirmed, as the booking records.
        Preorder.pos_collect(self.pos_session.id, later.id, False, True)
        self.assertEqual((later.state, later.handover_proof), ("collected", "confirmed"))

    def test_only_pos_users_of_the_store(self):
        booking = self.paid()
        outsider = self.env["res.users"].create(
            {
                "name": "Office",
                "login": "wm_office_no_pos",
                "groups_id": [(6, 0, self.env.ref("base.group_user").ids)],
            }
        )
        with self.assertRaises(AccessDenied):
            self.Preorder.with_user(outsider).pos_to_collect(self.config.id, "")
        with self.assertRaises(AccessDenied):
            self.Preorder.with_user(outsider).pos_collect(self.config.id, booking.id)
        # A cashier reads bookings but cannot change them outside the till's calls.
        with self.assertRaises(AccessError):
            booking.with_user(self.cashier).write({"state": "collected"})
        with self.assertRaises(AccessError):
            booking.with_user(self.cashier).action_cancel()
        self.assertEqual(booking.state, "confirmed")

    def test_reminder_no_show_and_report(self):
        soon = self.paid(self.fitting, after=timedelta(minutes=61))
        self.Preorder._send_reminders()
        self.Preorder._send_reminders()
        self.assertEqual(len(self.notices("appointment_reminder", self.lily_member)), 1)
        self.assertTrue(soon.reminder_sent)
        self.Preorder._mark_no_shows(now=soon.slot_end + timedelta(minutes=1))
        self.assertEqual(soon.state, "no_show")
        self.assertEqual(
            [r["id"] for r in self.Preorder.pos_to_collect(self.config.id, soon.pickup_code)],
            soon.ids,
            "a late customer can still collect",
        )
        later = self.book(self.fitting, after=timedelta(hours=5))
        self.assertEqual(later.state, "pending")
        self.env.flush_all()
        rows = self.env["wechat.preorder.report"].search([("config_id", "=", self.config.id)])
        self.assertEqual(sum(rows.mapped("booking_count")), 2)
        self.assertEqual(sum(rows.mapped("paid_count")), 1)
        self.assertEqual(sum(rows.mapped("no_show_count")), 1)
        self.assertEqual(sum(rows.mapped("revenue")), 200.0)
        self.assertEqual(sum(rows.mapped("new_customer_count")), 1)
        self.assertIn(0.0, rows.mapped("collection_rate"))


@tagged("post_install", "-at_install")
class TestPreorderCapacityRace(TransactionCase):
    """Two members take the last place of a slot at once, on two connections (two Odoo workers): one gets
    it, the other's transaction fails to serialize and, retried as Odoo retries a request, finds it full."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with separate_env(cls.registry) as env:
            cls.config_id = env["pos.config"].create({"name": "WM race store"}).id
            cls.template_id = (
                env["product.template"]
                .create(
                    {
                        "name": "WM race fitting",
                        "list_price": 100.0,
                        "type": "service",
                        "wechat_orderable": True,
                        "wechat_booking_kind": "appointment",
                        "wechat_slot_capacity": 2,
                    }
                )
                .id
            )

        def cleanup():
            with separate_env(cls.registry) as env:
                env.cr.execute("DELETE FROM wechat_preorder_slot WHERE config_id = %s", [cls.config_id])
                env["pos.config"].browse(cls.config_id).unlink()
                env["product.template"].browse(cls.template_id).unlink()

        cls.addClassCleanup(cleanup)

    def reserve(self, env, start):
        config, template = env["pos.config"].browse(self.config_id), env["product.template"].browse(self.template_id)
        return env["wechat.preorder.slot"]._reserve(config, template, start, start + timedelta(minutes=30), 1)

    def booked(self, start):
        with separate_env(self.registry) as env:
            env.cr.execute(
                "SELECT booked FROM wechat_preorder_slot WHERE config_id = %s AND start = %s", [self.config_id, start]
            )
            return env.cr.fetchone()[0]

    def test_last_place_taken_once_by_two_workers(self):
        start = fields.Datetime.now().replace(microsecond=0) + timedelta(days=2)
        with separate_env(self.registry) as env:
            self.assertTrue(self.reserve(env, start), "the first place")
        with separate_env(self.registry) as env_b:
            env_b.cr.execute("SELECT count(*) FROM wechat_preorder_slot")  # B's snapshot: before A books
            with separate_env(self.registry) as env_a:
                self.assertTrue(self.reserve(env_a, start), "A takes the last place")
            with self.assertRaises(psycopg2.errors.SerializationFailure), mute_logger("odoo.sql_db"):
                self.reserve(env_b, start)
            env_b.cr.rollback()
            self.assertFalse(self.reserve(env_b, start), "B, retried: fully booked")
        self.assertEqual(self.booked(start), 2, "never more than the capacity")

    def test_two_threads_at_once(self):
        start = fields.Datetime.now().replace(microsecond=0) + timedelta(days=3)
        results, barrier = [], threading.Barrier(3)

        def worker():
            with separate_env(self.registry) as env:
                barrier.wait()
                for __ in range(5):  # as odoo.service.model.retrying
                    try:
                        results.append(bool(self.reserve(env, start)))
                        env.cr.commit()
                        return
                    except psycopg2.errors.SerializationFailure:
                        env.cr.rollback()
                        env.invalidate_all()

        threads = [threading.Thread(target=worker) for __ in range(3)]
        with mute_logger("odoo.sql_db"):  # the serialization failures the retries handle
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
        self.assertEqual(sorted(results), [False, True, True], "three members, two places: two bookings")
        self.assertEqual(self.booked(start), 2)
