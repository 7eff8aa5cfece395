from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger
from odoo.tools.safe_eval import safe_eval

from odoo.addons.wechat_member.models.wechat_event import MAX_RETRIES, RETRY_DELAY

from .common import WeChatCase, visible_wechat_menus


@tagged("post_install", "-at_install")
class TestWeChatMember(WeChatCase):
    def member(self, openid, **kw):
        return self.env["wechat.member"]._get_or_create(self.account, openid, **kw)[0]

    def test_get_or_create_is_idempotent(self):
        member, created = self.env["wechat.member"]._get_or_create(self.account, "oIdem000000000000000000000001")
        again, created_again = self.env["wechat.member"]._get_or_create(self.account, "oIdem000000000000000000000001")
        self.assertTrue(created)
        self.assertFalse(created_again)
        self.assertEqual(member, again)
        self.assertTrue(member.partner_id.wechat_is_member)
        self.assertEqual(member.activity_state, "to_activate")

    def test_one_partner_members_of_two_accounts(self):
        other = self.env["wechat.account"].create({"name": "Brand B", "appid": "wxbrandb0000000001"})
        member = self.member("oTwoAccounts00000000000000001")
        member_b, __ = self.env["wechat.member"]._get_or_create(
            other, "oBrandB00000000000000000001", partner=member.partner_id
        )
        self.assertEqual(member_b.partner_id, member.partner_id)
        self.assertEqual(member.partner_id.wechat_member_count, 2)
        self.assertEqual(member_b.member_code, member.member_code, "one person, one member code")

    def test_stats_incremental_and_activity(self):
        partner = self.member("oStats00000000000000000000001").partner_id
        now = fields.Datetime.now()
        partners = self.env["res.partner"]
        partners._wechat_register_purchases(
            [(partner.id, 100.0, now - timedelta(days=200)), (partner.id, 300.0, now - timedelta(days=100))]
        )
        self.assertEqual(partner.wechat_purchase_count, 2)
        self.assertEqual(partner.wechat_purchase_amount, 400.0)
        self.assertEqual(partner.wechat_avg_basket, 200.0)
        self.assertEqual(partner.wechat_activity_state, "dormant")
        self.assertEqual(partner.wechat_days_since_purchase, 100)
        partners._wechat_register_purchases([(partner.id, 50.0, now)])
        self.assertEqual(partner.wechat_purchase_count, 3)
        self.assertEqual(partner.wechat_activity_state, "active")
        self.assertEqual(partner.wechat_member_ids.activity_state, "active", "members follow their contact")
        partners._wechat_register_purchases([(partner.id, -50.0, now)])
        self.assertEqual(partner.wechat_purchase_count, 2)
        self.assertEqual(partner.wechat_purchase_amount, 400.0)

    def test_activity_thresholds(self):
        now = fields.Datetime.now()
        cases = {"new": 5, "lost": 400}
        for state, days in cases.items():
            partner = self.member(f"oAct{state:0<25}").partner_id
            self.env["res.partner"]._wechat_register_purchases([(partner.id, 10.0, now - timedelta(days=days))])
            self.assertEqual(partner.wechat_activity_state, state)
        self.env.company.wechat_lost_days = 500
        self.env["res.partner"]._cron_wechat_activity()
        partner = self.env["wechat.member"].search([("openid", "=", f"oAct{'lost':0<25}")]).partner_id
        self.assertEqual(partner.wechat_activity_state, "dormant", "thresholds are configurable")

    def test_rfm_scores(self):
        now = fields.Datetime.now()
        partners = [self.member(f"oRfm{i:025d}").partner_id for i in range(5)]
        # Extremes, so that other members (demo data) cannot share their quintile.
        self.env["res.partner"]._wechat_register_purchases(
            [(partners[0].id, 0.01, now - timedelta(days=5000)), (partners[-1].id, 9e9, now)]
            + [(p.id, 100.0, now - timedelta(days=30)) for p in partners[1:-1]]
        )
        self.env["res.partner"]._wechat_update_rfm()
        self.assertEqual(partners[-1].wechat_rfm_recency, 5, "the most recent buyer has the best recency")
        self.assertEqual(partners[-1].wechat_rfm_monetary, 5)
        self.assertEqual(partners[0].wechat_rfm_recency, 1)
        self.assertEqual(partners[0].wechat_rfm_monetary, 1)
        self.assertEqual(partners[-1].wechat_rfm_score[::2], "55")

    def test_rfm_ties_stable_and_cleared_without_purchases(self):
        now = fields.Datetime.now()
        partners = [self.member(f"oRfmTie{i:021d}").partner_id for i in range(4)]
        Partner = self.env["res.partner"]
        Partner._wechat_register_purchases([(p.id, 100.0, now - timedelta(days=3)) for p in partners])
        Partner._wechat_update_rfm()
        scores = [p.wechat_rfm_score for p in partners]
        self.assertTrue(all(scores))
        Partner._wechat_update_rfm()
        self.assertEqual([p.wechat_rfm_score for p in partners], scores, "equal purchases: the same scores each night")
        # All of its purchases refunded: no purchase left, no RFM score.
        Partner._wechat_register_purchases([(partners[0].id, -100.0, now)])
        self.assertEqual(partners[0].wechat_purchase_count, 0)
        Partner._cron_wechat_activity()
        self.assertFalse(partners[0].wechat_rfm_score)
        self.assertFalse(partners[0].wechat_rfm_recency)
        self.assertEqual(partners[0].wechat_member_ids.activity_state, "to_activate")

    def test_partner_merge_keeps_members(self):
        member = self.member("oMerge0000000000000000000001")
        other = self.env["res.partner"].create({"name": "Same person, typed by a cashier", "phone": "13800000000"})
        wizard = self.env["base.partner.merge.automatic.wizard"].create({})
        code = member.partner_id.wechat_member_code
        self.env["res.partner"]._wechat_register_purchases([(member.partner_id.id, 80.0, fields.Datetime.now())])
        wizard._merge((member.partner_id | other).ids, other)
        self.assertTrue(member.exists())
        self.assertEqual(other.wechat_member_code, code, "the member QR code shown at the till still works")
        self.assertEqual(other.wechat_purchase_count, 1)
        self.assertEqual(member.partner_id, other)
        self.assertTrue(other.wechat_is_member)

    def test_members_isolated_between_companies(self):
        company_b = self.env["res.company"].create({"name": "Other retailer"})
        account_b = self.env["wechat.account"].create(
            {"name": "Other", "appid": "wxother00000000001", "company_id": company_b.id}
        )
        member_b = self.env["wechat.member"]._get_or_create(account_b, "oOtherCompany000000000000001")[0]
        cashier = new_test_user(
            self.env,
            "wm_cashier_a",
            groups="wechat_member.group_wechat_cashier",
            company_id=self.env.company.id,
            company_ids=[self.env.company.id],
        )
        members = self.env["wechat.member"].with_user(cashier).search([])
        self.assertNotIn(member_b, members)
        with self.assertRaises(AccessError):
            member_b.with_user(cashier).read(["openid"])

    def test_fetch_user_info_in_batches(self):
        openids = [self.fake_account.add_follower(unionid=f"u{i}") for i in range(130)]
        members = self.env["wechat.member"].browse([self.member(o).id for o in openids])
        members._fetch_user_info()
        self.assertEqual(set(members.mapped("info_state")), {"done"})
        self.assertEqual(members[0].unionid, "u0")
        self.assertEqual(len(self.calls_to("/cgi-bin/user/info/batchget")), 2, "130 members: 2 calls of ≤ 100")
        self.assertEqual(self.fake.violations, [])

    def test_import_followers_in_bulk(self):
        openids = self.fake_account.add_followers(2500)
        self.member(openids[0])  # already a member
        self.account.action_import_followers()
        followers = set(self.fake_account.follower_openids())  # other tests of the class added some too
        members = self.env["wechat.member"].search([("account_id", "=", self.account.id)])
        self.assertTrue(set(openids) <= followers)
        self.assertEqual(set(members.mapped("openid")), followers)
        self.assertEqual(len(set(members.partner_id.mapped("wechat_member_code"))), len(members), "one code each")
        self.assertTrue(all(members.partner_id.mapped("wechat_is_member")))
        result = self.account.action_import_followers()
        self.assertIn("0 new", result["params"]["message"])


@tagged("post_install", "-at_install")
class TestEventRetries(WeChatCase):
    """A failed event is retried by the cron a bounded number of times, then given up and listed."""

    def test_retried_five_times_then_given_up_and_listed(self):
        msg = {
            "ToUserName": "gh",
            "FromUserName": self.fake_account.add_follower(),
            "CreateTime": "1700000000",
            "MsgType": "text",
            "Content": "hello",
            "MsgId": "88001",
        }
        Event = self.env["wechat.event"]
        with (
            patch.object(type(Event), "_handle_text", side_effect=ValueError("reply rules broken")),
            mute_logger("odoo.addons.wechat_member.models.wechat_event"),
        ):
            Event._receive(self.account, msg, signature_checked=True)
            event = Event.search([("dedupe_key", "=", "msg:88001")])
            self.assertEqual((event.state, event.retry_count), ("failed", 0))
            self.assertIn("reply rules broken", event.error)
            cron = "wechat_member.ir_cron_wechat_retry_events"
            self.run_cron(cron)
            self.assertEqual((event.state, event.retry_count), ("failed", 1))
            self.run_cron(cron)
            self.assertEqual(event.retry_count, 1, "not again before the retry delay")
            for attempt in range(2, 7):
                event.retry_date = fields.Datetime.now() - RETRY_DELAY  # ten minutes later
                self.run_cron(cron)
                self.assertEqual(event.retry_count, min(attempt, MAX_RETRIES))
        self.assertEqual(event.state, "given_up", "stopped at the bound")
        self.assertEqual(event.retry_count, MAX_RETRIES)
        self.assertIn("reply rules broken", event.error, "the last error is kept")
        # Listed for the manager: the "Failed Events" menu and the account's counter.
        action = self.env["ir.actions.act_window"]._for_xml_id("wechat_member.wechat_event_action_failed")
        self.assertIn(event, Event.search(safe_eval(action["domain"])))
        manager = new_test_user(self.env, "wm_events_mgr", groups="wechat_member.group_wechat_manager")
        self.assertEqual(self.account.with_user(manager).given_up_event_count, 1)
        self.assertIn("wechat_member.menu_wechat_event_failed", visible_wechat_menus(self.env, manager))
        # Fixed meanwhile: the manager processes it again.
        event.with_user(manager).action_retry()
        self.assertEqual(event.state, "done")
        self.account.invalidate_recordset(["given_up_event_count"])
        self.assertEqual(self.account.with_user(manager).given_up_event_count, 0)
