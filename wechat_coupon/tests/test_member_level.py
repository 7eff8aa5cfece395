"""Member levels: up at once in the POS sync, refunds re-evaluate, down on a schedule after a grace period."""

from datetime import timedelta

import psycopg2

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.wechat_coupon.tests.common import create_member_points_program
from odoo.addons.wechat_member.tests.common import PosMemberCommon


@tagged("post_install", "-at_install")
class TestMemberLevel(PosMemberCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Level = cls.env["wechat.member.level"]
        Level.search([("company_id", "=", cls.company.id)]).write({"active": False})
        cls.standard = Level.create({"name": "普通会员", "company_id": cls.company.id, "threshold": 0})
        cls.silver = Level.create(
            {"name": "银卡", "company_id": cls.company.id, "threshold": 1000, "points_multiplier": 1.2}
        )
        cls.gold = Level.create(
            {"name": "金卡", "company_id": cls.company.id, "threshold": 3000, "points_multiplier": 1.5, "grace_days": 7}
        )
        cls.suit = cls.create_product("Suit", cls.categ_basic, 1200.0)
        cls.coat = cls.create_product("Coat", cls.categ_basic, 2000.0)
        # The re-evaluation queued by creating the ladder: nobody bought yet.
        while Level._cron_reevaluate():
            pass

    def setUp(self):
        super().setUp()
        self.open_new_session()
        self.fake.clear_logs()

    def _buy(self, member, product, qty=1):
        return self._sync(self.create_ui_order_data([(product, qty)], customer=member.partner_id))

    def _refund(self, order):
        lines = [
            {"product": line.product_id, "quantity": -line.qty, "refunded_orderline_id": line.id}
            for line in order.lines
        ]
        return self._sync(self.create_ui_order_data(lines, customer=order.partner_id))[0]

    def _row(self, partner, company=None):
        return self.env["wechat.member.level.member"].search(
            [("partner_id", "=", partner.id), ("company_id", "=", (company or self.company).id)]
        )

    def _history(self, partner):
        return self.env["wechat.member.level.history"].search([("partner_id", "=", partner.id)], order="id")

    def _notices(self, member, kind):
        return self.env["wechat.notice"].sudo().search([("member_id", "=", member.id), ("kind_id.code", "=", kind)])

    def test_upgrade_in_the_sync(self):
        member = self._member("oLEVEL00000000000000000000A1")
        partner = member.partner_id
        __, result = self._buy(member, self.suit)
        self.assertEqual(partner.with_company(self.company).wechat_level_id, self.silver)
        # Crossing 金卡 with one order: ¥1 200 + ¥2 000.
        __, result = self._buy(member, self.coat)
        row = self._row(partner)
        self.assertEqual(row.level_id, self.gold)
        self.assertEqual(row.qualifying_value, 3200)
        history = self._history(partner)
        self.assertEqual(history.mapped("to_level_id"), self.silver | self.gold)
        self.assertEqual(history[-1].from_level_id, self.silver)
        self.assertEqual(set(history.mapped("reason")), {"purchase"})
        self.assertEqual(len(self._notices(member, "level_upgrade")), 2, "a notice for each upgrade")
        # The sync's answer carries the customer with the level after this order (the receipt shows it).
        read = [p for p in result.get("res.partner", []) if p["id"] == partner.id]
        self.assertTrue(read, result.keys())
        self.assertEqual(read[0]["wechat_level_name"], "金卡")
        self.assertEqual(read[0]["wechat_level_multiplier"], 1.5)
        # A re-sync of the same order changes nothing.
        self.assertEqual(len(self._history(partner)), 2)

    def test_refund_never_upgrades_and_schedule_downgrades_with_grace(self):
        member = self._member("oLEVEL00000000000000000000B1")
        partner = member.partner_id
        self._buy(member, self.suit)
        coat_order, __ = self._buy(member, self.coat)
        self.assertEqual(self._row(partner).level_id, self.gold)
        self._refund(coat_order)
        row = self._row(partner)
        self.assertEqual(row.qualifying_value, 1200, "the refund re-evaluates the qualifying value")
        self.assertEqual(row.level_id, self.gold, "the refund does not downgrade: the schedule decides")
        self.assertFalse(row.downgrade_date)
        # Nightly: below 金卡 → a downgrade date in 7 days and a notice before it happens.
        self.env["wechat.member.level"]._cron_schedule()
        row.invalidate_recordset()
        today = row.company_id._wechat_today()
        self.assertEqual(row.downgrade_date, today + timedelta(days=7))
        self.assertEqual(row.level_id, self.gold)
        self.assertEqual(len(self._notices(member, "level_downgrade")), 1)
        self.env["wechat.member.level"]._cron_schedule()
        self.assertEqual(len(self._notices(member, "level_downgrade")), 1, "told once")
        # The date passes, still below: down to 银卡.
        row.downgrade_date = today - timedelta(days=1)
        self.env["wechat.member.level"]._cron_schedule()
        row.invalidate_recordset()
        self.assertEqual(row.level_id, self.silver)
        self.assertFalse(row.downgrade_date)
        last = self._history(partner)[-1]
        self.assertEqual((last.from_level_id, last.to_level_id, last.reason), (self.gold, self.silver, "schedule"))

    def test_back_above_clears_the_pending_downgrade(self):
        member = self._member("oLEVEL00000000000000000000C1")
        partner = member.partner_id
        self._buy(member, self.suit)
        coat_order, __ = self._buy(member, self.coat)
        self._refund(coat_order)
        self.env["wechat.member.level"]._cron_schedule()
        row = self._row(partner)
        row.invalidate_recordset()
        self.assertTrue(row.downgrade_date)
        # Back above 金卡 with a new purchase: the pending downgrade is cleared in the sync.
        self._buy(member, self.coat)
        row.invalidate_recordset()
        self.assertFalse(row.downgrade_date)
        self.assertEqual(row.level_id, self.gold)
        # And by the schedule, after a refund then a new purchase counted by the nightly refresh.
        row.downgrade_date = row.company_id._wechat_today() - timedelta(days=1)
        self.env["wechat.member.level"]._cron_schedule()
        row.invalidate_recordset()
        self.assertFalse(row.downgrade_date)
        self.assertEqual(row.level_id, self.gold, "above the threshold: no downgrade")

    def test_a_level_per_company(self):
        Level = self.env["wechat.member.level"]
        other = self.other_company
        other_entry = Level.create({"name": "Basic", "company_id": other.id, "threshold": 0})
        Level.create({"name": "VIP", "company_id": other.id, "threshold": 500})
        member = self._member("oLEVEL00000000000000000000D1")
        partner = member.partner_id
        self._buy(member, self.coat)
        partner._wechat_level_evaluate(other, "manual")
        self.assertEqual(self._row(partner).level_id, self.silver)
        self.assertEqual(self._row(partner, other).level_id, other_entry, "no purchase at the other company")
        self.assertEqual(partner.with_company(self.company).wechat_level_name, "银卡")
        self.assertEqual(partner.with_company(other).wechat_level_name, "Basic")
        with self.assertRaises(psycopg2.errors.UniqueViolation), mute_logger("odoo.sql_db"):
            with self.cr.savepoint():
                self.env["wechat.member.level.member"].sudo().create(
                    {"partner_id": partner.id, "company_id": self.company.id}
                )

    def test_threshold_validation(self):
        Level = self.env["wechat.member.level"]
        cases = [
            ({"name": "Twin", "threshold": 1000}, "银卡 have the same entry threshold"),
            ({"name": "No threshold"}, "普通会员 is already the entry level"),
            ({"name": "Points", "threshold": 5000, "basis": "points"}, "must have the same basis and period"),
            ({"name": "Lifetime", "threshold": 5000, "period": "lifetime"}, "must have the same basis and period"),
            ({"name": "Below", "threshold": -5}, "cannot be negative"),
        ]
        for vals, message in cases:
            with self.assertRaises(ValidationError) as caught:
                Level.create(dict(vals, company_id=self.company.id))
            self.assertIn(message, str(caught.exception))
        with self.assertRaises(ValidationError) as caught:
            self.gold.threshold = 1000
        self.assertIn("same entry threshold", str(caught.exception))
        # The same thresholds in another ladder (an account's) are fine.
        Level.create({"name": "Twin", "company_id": self.company.id, "account_id": self.account.id, "threshold": 0})

    def test_threshold_change_reevaluates_in_batches(self):
        members = [self._member(f"oLEVEL0000000000000000000E{i:02d}") for i in range(3)]
        for member in members:
            self._buy(member, self.suit)
        partners = self.env["res.partner"].browse([m.partner_id.id for m in members])
        self.assertEqual(set(partners.with_company(self.company).mapped("wechat_level_id")), {self.silver})
        cron = self.env.ref("wechat_coupon.ir_cron_wechat_level_reevaluate")
        self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]).unlink()
        self.gold.threshold = 1100
        # Not in the request: marked, and the background job is triggered.
        self.assertTrue(self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]))
        rows = self.env["wechat.member.level.member"].search([("partner_id", "in", partners.ids)])
        self.assertEqual(set(rows.mapped("level_id")), {self.silver})
        self.assertTrue(all(rows.mapped("pending")))
        Level = self.env["wechat.member.level"]
        pending = self.env["wechat.member.level.member"].search_count([("pending", "=", True)])
        done = Level._cron_reevaluate(batch_size=2)
        self.assertEqual(done, 2)
        self.assertEqual(self.env["wechat.member.level.member"].search_count([("pending", "=", True)]), pending - 2)
        while Level._cron_reevaluate(batch_size=2):
            pass
        rows.invalidate_recordset()
        self.assertEqual(set(rows.mapped("level_id")), {self.gold})
        self.assertFalse(any(rows.mapped("pending")))
        for partner in partners:
            self.assertEqual(self._history(partner)[-1].reason, "threshold")

    def test_multiplier_in_program_points(self):
        program = create_member_points_program(self.env, "Lotus points", self.config, 100000)
        stamps = create_member_points_program(self.env, "Coffee stamps", self.config, 10)
        stamps.rule_ids.write({"reward_point_mode": "unit", "reward_point_amount": 1})  # a stamp per unit
        stamps.wechat_stamp_card = True
        member = self._member("oLEVEL00000000000000000000F1")
        order, __ = self._buy(member, self.suit)
        self.assertEqual(self._row(member.partner_id).level_id, self.silver)
        self.assertEqual(order._wechat_program_points(program), 1440.0, "¥1 200 × 1.2 (银卡)")
        self.assertEqual(order._wechat_program_points(stamps), 1.0, "one stamp for the suit: stamps are not multiplied")
        customer = self.env["res.partner"].create({"name": "Not a member"})
        plain = self._sync(self.create_ui_order_data([(self.suit, 1)], customer=customer))[0]
        self.assertEqual(plain._wechat_program_points(program), 1200.0)

    def test_campaign_and_segment_limited_to_levels(self):
        silver_member = self._member("oLEVEL00000000000000000000G1")
        gold_member = self._member("oLEVEL00000000000000000000G2")
        self._buy(silver_member, self.suit)
        self._buy(gold_member, self.coat, 2)
        segment = self.env["wechat.segment"].create(
            {
                "name": "Gold",
                "account_id": self.account.id,
                "followers_only": False,
                "wechat_level_ids": [Command.set(self.gold.ids)],
            }
        )
        self.assertEqual(segment._member_ids(), gold_member.ids)
        program = self.env["loyalty.program"].create(
            {"name": "Gold gift", "program_type": "coupons", "trigger": "with_code", "applies_on": "current"}
        )
        campaign = self.env["wechat.coupon.campaign"].create(
            {
                "name": "Gold only",
                "account_id": self.account.id,
                "program_id": program.id,
                "audience": "followers",
                "claim_enabled": True,
                "wechat_level_ids": [Command.set(self.gold.ids)],
            }
        )
        self.assertEqual(campaign._audience_partner_ids(), gold_member.partner_id.ids)
        campaign.state = "issued"
        self.assertIn("unavailable", campaign._claim_blockers(silver_member))
        self.assertIn("金卡", campaign._claim_blockers(silver_member)["unavailable"])
        self.assertNotIn("unavailable", campaign._claim_blockers(gold_member))

    def test_automatic_tag_per_level(self):
        self.gold.action_create_tag()
        tag = self.gold.tag_id
        self.assertTrue(tag and self.gold.tag_rule_id.remove_unmatched)
        member = self._member("oLEVEL00000000000000000000H1")
        self._buy(member, self.coat, 2)
        self.assertIn(tag, member.tag_ids, "tagged in the sync that reached 金卡")

    def test_birthday_program_by_level(self):
        gift = self.env["loyalty.program"].create(
            {"name": "Gold birthday", "program_type": "coupons", "trigger": "with_code", "applies_on": "current"}
        )
        basic = self.env["loyalty.program"].create(
            {"name": "Birthday", "program_type": "coupons", "trigger": "with_code", "applies_on": "current"}
        )
        automation = self.env["wechat.coupon.automation"].create(
            {
                "name": "Birthday",
                "account_id": self.account.id,
                "program_id": basic.id,
                "level_program_ids": [Command.create({"level_id": self.gold.id, "program_id": gift.id})],
            }
        )
        gold_member = self._member("oLEVEL00000000000000000000I1")
        other = self._member("oLEVEL00000000000000000000I2")
        self._buy(gold_member, self.coat, 2)
        self._buy(other, self.suit)
        by_program = automation._programs_by_level([gold_member.partner_id.id, other.partner_id.id])
        self.assertEqual(by_program, {gift: [gold_member.partner_id.id], basic: [other.partner_id.id]})

    def test_cashier_access(self):
        member = self._member("oLEVEL00000000000000000000J1")
        self._buy(member, self.coat, 2)
        # The POS cashier reads the level on the customer (what the POS loads), nothing more.
        partner = member.partner_id.with_user(self.cashier).with_company(self.company)
        self.assertEqual(partner.wechat_level_name, "金卡")
        self.assertEqual(partner.wechat_level_multiplier, 1.5)
        wechat_cashier = new_test_user(
            self.env,
            login="wm_level_cashier",
            groups="wechat_member.group_wechat_cashier",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        Level = self.env["wechat.member.level"].with_user(wechat_cashier)
        self.assertTrue(Level.search([("id", "=", self.gold.id)]))
        with self.assertRaises(AccessError):
            self.gold.with_user(wechat_cashier).threshold = 10
        with self.assertRaises(AccessError):
            self.env["wechat.member.level.history"].with_user(wechat_cashier).search([])
        with self.assertRaises(AccessError):
            self._row(member.partner_id).with_user(wechat_cashier).level_id = self.standard
