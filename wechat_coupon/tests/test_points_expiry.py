from datetime import datetime, timedelta
from unittest.mock import patch

import pytz
from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo import fields
from odoo.tests import Form, TransactionCase, tagged
from odoo.tests.common import Opener

from odoo.addons.base.models.ir_cron import ir_cron

from .common import CouponCase, CouponHttpCase

BEIJING = pytz.timezone("Asia/Shanghai")


def beijing(*args):
    """The naive UTC datetime of a Beijing date and time (``beijing(2026, 7, 11, 2)``)."""
    return BEIJING.localize(datetime(*args)).astimezone(pytz.utc).replace(tzinfo=None)


class PointsMixin:
    """A loyalty points program whose points expire, and helpers to write a card's points history."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.partner_id.tz = "Asia/Shanghai"
        cls.points_program = cls.env["loyalty.program"].create(
            {"name": "Lotus points", "program_type": "loyalty", "wechat_points_validity": 6}
        )

    def make_card(self, partner=None, program=None):
        return self.env["loyalty.card"].create(
            {"program_id": (program or self.points_program).id, "partner_id": partner.id if partner else False}
        )

    def move(self, card, when, issued=0.0, used=0.0, kind=False):
        """A history line of ``card`` created at ``when`` (naive UTC), and its balance moved as loyalty does."""
        line = self.env["loyalty.history"].create(
            {"card_id": card.id, "description": "test", "issued": issued, "used": used, "wechat_kind": kind}
        )
        self.env.flush_all()
        self.env.cr.execute("UPDATE loyalty_history SET create_date = %s WHERE id = %s", [when, line.id])
        card.points += issued - used
        self.env.flush_all()
        self.env.invalidate_all()
        return line

    def expire(self, when, programs=None, **kwargs):
        """The nightly expiry at ``when`` of ``programs`` (the test's): ``{card_id: points expired}``."""
        with freeze_time(when):
            return (programs or self.points_program)._wechat_expire_points(commit=True, **kwargs)

    def expiry_lines(self, card):
        return self.env["loyalty.history"].search(
            [("card_id", "=", card.id), ("wechat_kind", "=", "expiry")], order="id"
        )


@tagged("post_install", "-at_install")
class TestPointsExpiry(PointsMixin, TransactionCase):
    def test_fifo_example(self):
        """Earn 100 in January, spend 30 in March, earn 50 in April; 6 months: 70 expire in July, 50 in October."""
        card = self.make_card()
        self.move(card, beijing(2026, 1, 10, 10), issued=100)
        self.move(card, beijing(2026, 3, 10, 10), used=30)
        self.move(card, beijing(2026, 4, 10, 10), issued=50)
        self.assertEqual(self.expire(beijing(2026, 7, 10, 2)), {}, "the January points are valid until 10 July")
        self.assertEqual(self.expire(beijing(2026, 7, 11, 2)), {card.id: 70})
        self.assertEqual(card.points, 50)
        line = self.expiry_lines(card)
        self.assertEqual((line.used, line.issued), (70, 0))
        self.assertEqual(line.description, "Points expired (earned before 2026-01-11)")
        self.assertEqual(line.create_date, beijing(2026, 7, 11, 2))
        self.assertEqual(self.expire(beijing(2026, 10, 11, 2)), {card.id: 50})
        self.assertEqual(card.points, 0)
        self.assertEqual(self.expiry_lines(card).mapped("used"), [70, 50])

    def test_second_run_expires_nothing_more(self):
        cards = self.make_card(), self.make_card()
        for card in cards:
            self.move(card, beijing(2026, 1, 10, 10), issued=100)
            self.move(card, beijing(2026, 5, 10, 10), issued=20)
        self.assertEqual(self.expire(beijing(2026, 7, 11, 2)), {cards[0].id: 100, cards[1].id: 100})
        self.assertEqual(self.expire(beijing(2026, 7, 11, 3)), {}, "idempotent: the same night finds nothing")
        for card in cards:
            self.assertEqual(len(self.expiry_lines(card)), 1, "one history line per card and expiry")
            self.assertEqual(card.points, 20)

    def test_spend_after_expiry(self):
        card = self.make_card()
        self.move(card, beijing(2026, 1, 10, 10), issued=100)
        self.assertEqual(self.expire(beijing(2026, 7, 11, 2)), {card.id: 100})
        self.move(card, beijing(2026, 8, 1, 10), issued=50)
        self.move(card, beijing(2026, 9, 1, 10), used=20)
        self.assertEqual(self.expire(beijing(2026, 10, 11, 2)), {}, "the expired points are not spent twice")
        self.assertEqual(self.expire(beijing(2027, 2, 2, 2)), {card.id: 30}, "what is left of August's 50")
        self.assertEqual(card.points, 0)

    def test_refunds_consume_and_restore(self):
        """A refund's taken-back points are consumption (oldest first); points it gives back are issued at its date."""
        card = self.make_card()
        self.move(card, beijing(2026, 1, 10, 10), issued=100)
        self.move(card, beijing(2026, 2, 1, 10), used=40, kind="refund")
        self.move(card, beijing(2026, 3, 1, 10), issued=20, kind="refund_restore")
        self.assertEqual(self.expire(beijing(2026, 7, 11, 2)), {card.id: 60})
        self.assertEqual(self.expire(beijing(2026, 9, 2, 2)), {card.id: 20})
        self.assertEqual(card.points, 0)

    def test_never_more_than_the_balance(self):
        card = self.make_card()
        self.move(card, beijing(2026, 1, 10, 10), issued=100)
        card.points = 30  # set by hand, without a history line
        self.assertEqual(self.expire(beijing(2026, 7, 11, 2)), {card.id: 30})
        self.assertEqual(card.points, 0)

    def test_program_without_validity_never_expires(self):
        program = self.env["loyalty.program"].create({"name": "Forever", "program_type": "loyalty"})
        self.assertEqual(program.wechat_points_validity, 0)
        card = self.make_card(program=program)
        self.move(card, beijing(2020, 1, 10, 10), issued=100)
        with freeze_time(beijing(2026, 7, 11, 2)):
            self.env["loyalty.program"]._cron_wechat_expire_points()
        self.assertEqual(card.points, 100)
        self.assertFalse(self.expiry_lines(card))
        self.assertEqual(card._wechat_points_expiry_schedule(), [])

    def test_cron_batches_by_card_ids_with_progress(self):
        cards = [self.make_card() for __ in range(5)]
        for index, card in enumerate(cards):
            self.move(card, beijing(2026, 1, 10, 10), issued=10 * (index + 1))
        cron = self.env.ref("wechat_coupon.ir_cron_wechat_points_expiry")
        job, progress = cron._add_progress()
        calls = []
        original = ir_cron._notify_progress

        def spy(self, *, done, remaining, deactivate=False):
            calls.append((done, remaining))
            return original(self, done=done, remaining=remaining, deactivate=deactivate)

        with patch.object(ir_cron, "_notify_progress", spy), freeze_time(beijing(2026, 7, 11, 2)):
            programs = job.env["loyalty.program"].browse(self.points_program.id)
            expired = programs._wechat_expire_points(batch_size=2, commit=True)
        batches = (cards[-1].id - cards[0].id) // 2 + 1
        self.assertEqual(calls, [(done, batches - done) for done in range(1, batches + 1)])
        self.assertEqual((progress.done, progress.remaining), (batches, 0))
        self.assertEqual(expired, {card.id: 10 * (index + 1) for index, card in enumerate(cards)})
        self.assertEqual([c.points for c in cards], [0] * 5)

    def test_schedule_next_three_dates(self):
        card = self.make_card()
        self.move(card, beijing(2026, 1, 10, 10), issued=100)
        self.move(card, beijing(2026, 1, 10, 20), issued=10)  # same day: one date
        self.move(card, beijing(2026, 2, 1, 10), used=30)
        self.move(card, beijing(2026, 3, 5, 10), issued=40)
        self.move(card, beijing(2026, 4, 5, 10), issued=50)
        self.move(card, beijing(2026, 5, 5, 10), issued=60)
        with freeze_time(beijing(2026, 6, 1, 12)):
            schedule = card._wechat_points_expiry_schedule()
            texts = card._wechat_points_expiry_texts(1)
        self.assertEqual(
            schedule,
            [
                (fields.Date.to_date("2026-07-10"), 80),
                (fields.Date.to_date("2026-09-05"), 40),
                (fields.Date.to_date("2026-10-05"), 50),
            ],
        )
        self.assertEqual(texts, ["80 points expire on 2026-07-10"])
        # Month ends: points of 31 March expire on 30 September (the day the schedule and the job agree on).
        card2 = self.make_card()
        self.move(card2, beijing(2026, 3, 31, 10), issued=5)
        with freeze_time(beijing(2026, 9, 1, 12)):
            self.assertEqual(card2._wechat_points_expiry_schedule(), [(fields.Date.to_date("2026-09-30"), 5)])
        self.assertNotIn(card2.id, self.expire(beijing(2026, 9, 30, 23)))
        self.assertEqual(self.expire(beijing(2026, 10, 1, 2))[card2.id], 5)

    def test_program_form_fields(self):
        form = Form(self.env["loyalty.program"])
        form.name = "Form points"
        form.program_type = "loyalty"
        form.wechat_points_validity = 12
        form.wechat_points_reminder_days = 15
        program = form.save()
        self.assertEqual((program.wechat_points_validity, program.wechat_points_reminder_days), (12, 15))
        form = Form(self.env["loyalty.program"])
        form.program_type = "coupons"
        with self.assertRaises(AssertionError, msg="not shown for coupons"):
            form.wechat_points_validity = 3


@tagged("post_install", "-at_install")
class TestPointsExpiringReminder(PointsMixin, CouponCase):
    def setUp(self):
        super().setUp()
        self.account.budget_per_week = 0

    def test_reminder_once_per_card_and_date_through_the_router(self):
        member = self.make_member(window=True)
        other = self.make_member(window=True)
        card = self.make_card(member.partner_id)
        later = self.make_card(other.partner_id)
        program = self.points_program
        today = program._wechat_points_local_today()
        earned = today - relativedelta(months=6) + timedelta(days=10)
        self.move(card, beijing(earned.year, earned.month, earned.day, 10), issued=120)
        self.move(card, fields.Datetime.now() - timedelta(days=1), issued=30)
        far = today - relativedelta(months=6) + timedelta(days=40)  # beyond the 30 days of the reminder
        self.move(later, beijing(far.year, far.month, far.day, 10), issued=50)
        before = len(self.calls_to("/message/custom/send"))
        program._cron_wechat_points_expiring()
        program._cron_wechat_points_expiring()
        self.commit()
        expiry = fields.Date.to_string(program._wechat_points_expiry_date(earned))
        notices = self.notices("points_expiring")
        self.assertEqual(notices.member_id, member, "once, for the points within the lead time only")
        self.assertEqual(notices.key, f"points-expiring-{card.id}-{expiry}")
        self.assertEqual(
            (notices.values["points"], notices.values["expiry_date"], notices.values["balance"]), (120, expiry, 150)
        )
        sends = self.calls_to("/message/custom/send")[before:]
        self.assertEqual(len(sends), 1)
        self.assertEqual(sends[0]["body"]["touser"], member.openid)
        self.assertIn(f"120 points expire on {expiry}", sends[0]["body"]["text"]["content"])
        self.assertEqual(self.fake.violations, [])

    def test_points_keyword_tells_the_next_expiry(self):
        member = self.make_member()
        card = self.make_card(member.partner_id)
        self.move(card, beijing(2026, 1, 10, 10), issued=100)
        with freeze_time(beijing(2026, 6, 1, 12)):
            text = member.partner_id._wechat_points_text()
        self.assertIn("Lotus points: 100 points", text)
        self.assertIn("100 points expire on 2026-07-10", text)


@tagged("post_install", "-at_install")
class TestPointsExpiryMemberPage(PointsMixin, CouponHttpCase):
    def test_member_page_shows_what_expires_when(self):
        member = self.make_member()
        card = self.make_card(member.partner_id)
        program = self.points_program
        today = program._wechat_points_local_today()
        first = today - relativedelta(months=6) + timedelta(days=5)
        second = today - relativedelta(months=6) + timedelta(days=20)
        self.move(card, beijing(first.year, first.month, first.day, 10), issued=120)
        self.move(card, beijing(second.year, second.month, second.day, 10), issued=30)
        self.move(card, beijing(today.year, today.month, today.day) - timedelta(hours=1), issued=5)
        dates = [fields.Date.to_string(program._wechat_points_expiry_date(d)) for d in (first, second)]
        self.fake.set_browser_user(self.appid, member.openid)
        self.opener = Opener(self.cr)
        page = self.url_open(f"/wechat/member/{self.account.id}?lang=en").text
        self.assertIn('id="wc-points-expiry"', page)
        self.assertIn(f"120 points expire on {dates[0]}", page)
        self.assertIn(f"30 points expire on {dates[1]}", page)
        ids = [page.index(f'id="{html_id}"') for html_id in ("wm-points", "wc-points-expiry", "wm-profile")]
        self.assertEqual(ids, sorted(ids))
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["wechat_coupon"], ["zh_CN"])
        page = self.url_open(f"/wechat/member/{self.account.id}?lang=zh").text
        self.assertIn(f"120 积分将于 {dates[0]} 过期", page)
        self.assertIn("积分即将过期", page)

    def test_no_section_without_validity(self):
        member = self.make_member()
        program = self.env["loyalty.program"].create({"name": "Forever", "program_type": "loyalty"})
        card = self.make_card(member.partner_id, program=program)
        self.move(card, beijing(2020, 1, 10, 10), issued=100)
        self.fake.set_browser_user(self.appid, member.openid)
        self.opener = Opener(self.cr)
        page = self.url_open(f"/wechat/member/{self.account.id}?lang=en").text
        self.assertIn("wm-points", page)
        self.assertNotIn("wc-points-expiry", page)
