from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import ReferralPosCase

LOGGER = "odoo.addons.wechat_referral.models.wechat_referral"


class Rollback(Exception):
    pass


@tagged("post_install", "-at_install")
class TestReferralNotices(ReferralPosCase):
    """Referrer and friend are told through WeChat, after the commit and within the rules."""

    def setUp(self):
        super().setUp()
        # The fake platform lives as long as the class: fresh followers and a clean call log per test.
        self.fake.clear_logs()
        self.addCleanup(self.fake.injections.clear)
        self.openid_a, self.openid_b, self.openid_c = (self.fake_account.add_follower() for __ in range(3))
        self.fake_account.add_template("TPL_POINTS")
        self.account.template_points_id = "TPL_POINTS"
        self.follow(self.openid_a)
        self.a = self.member(self.openid_a)
        self.channel = self.a._referral_channel()

    def friend(self):
        self.follow(self.openid_b, scene=self.channel.scene)
        b = self.member(self.openid_b)
        b.partner_id.name = "Li Na"
        return b

    def notices(self):
        return [m for m in self.fake_account.template_messages if m["touser"] == self.openid_a]

    def texts(self, openid):
        return [m["text"]["content"] for m in self.fake_account.cs_messages if m["touser"] == openid]

    def test_reward_notice_after_commit_once(self):
        b = self.friend()
        order, data = self.buy(b)
        referral = self.referral(b)
        self.assertEqual(referral.state, "rewarded")
        self.assertFalse(self.calls_to("/message/template/send"), "nothing is sent before the commit")
        self.commit()
        [notice] = self.notices()
        self.assertEqual(notice["template_id"], "TPL_POINTS")
        self.assertEqual(notice["client_msg_id"], f"points-{self.a.id}-referral-{referral.id}-reward")
        self.assertEqual(notice["url"], self.account._member_page_url())
        data_sent = {name: value["value"] for name, value in notice["data"].items()}
        self.assertEqual(data_sent["points"], "+100")
        self.assertEqual(data_sent["balance"], "100")
        self.assertEqual(data_sent["friend"], "Li Na")
        self.assertIn("Li Na", data_sent["reason"])
        self.assertEqual(self.env["wechat.message.log"].search_count(
            [("member_id", "=", self.a.id), ("kind", "=", "template")]), 1)

        # The order synced and processed again: no second reward, no second notice.
        self.env["pos.order"].sync_from_ui([data])
        self.env["wechat.referral"]._process_orders(order)
        self.commit()
        self.assertEqual(len(self.calls_to("/message/template/send")), 1)
        # Even a replayed hook sends the same client_msg_id: WeChat delivers it once.
        self.env["wechat.referral"]._send_notices([(referral.id, "reward")])
        self.assertEqual(len(self.notices()), 1)

    def test_rollback_sends_nothing(self):
        b = self.friend()
        with self.assertRaises(Rollback), self.env.cr.savepoint():
            self.buy(b)
            self.assertEqual(self.referral(b).state, "rewarded")
            raise Rollback
        self.env.invalidate_all()
        self.assertEqual(self.referral(b).state, "pending")
        self.commit()
        self.assertFalse(self.calls_to("/message/template/send"), "a reward rolled back is never announced")

    def test_clawback_notice(self):
        b = self.friend()
        order, __ = self.buy(b)
        self.commit()
        self.refund(order)
        referral = self.referral(b)
        self.assertEqual(referral.state, "reversed")
        self.assertEqual(len(self.notices()), 1, "not before the commit")
        self.commit()
        reward, clawback = self.notices()
        self.assertEqual(clawback["client_msg_id"], f"points-{self.a.id}-referral-{referral.id}-clawback")
        data_sent = {name: value["value"] for name, value in clawback["data"].items()}
        self.assertEqual(data_sent["points"], "-100")
        self.assertEqual(data_sent["balance"], "0")
        self.assertEqual(data_sent["friend"], "Li Na")
        self.assertIn("refunded", data_sent["reason"])

    def test_notice_in_the_referrer_language(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.a.partner_id.lang = "zh_CN"
        b = self.friend()
        self.buy(b)
        self.commit()
        [notice] = self.notices()
        self.assertIn("Li Na", notice["data"]["reason"]["value"])
        self.assertIn("好友", notice["data"]["reason"]["value"])

    def test_no_template_nothing_sent(self):
        self.account.template_points_id = False
        b = self.friend()
        order, __ = self.buy(b)
        self.commit()
        self.refund(order)
        self.commit()
        self.assertEqual(self.referral(b).state, "reversed")
        self.assertFalse(self.calls_to("/message/template/send"))

    def test_unfollowed_referrer_gets_nothing(self):
        b = self.friend()
        self.unfollow(self.openid_a)
        self.fake_account.user(self.openid_a).subscribe = False
        self.buy(b)
        self.commit()
        self.assertEqual(self.referral(b).state, "rewarded")
        self.assertFalse(self.calls_to("/message/template/send"))

    def test_failing_send_keeps_the_sale(self):
        b = self.friend()
        self.fake.inject("/message/template/send", errcode=-1)
        order, __ = self.buy(b)
        with self.assertLogs(LOGGER, "WARNING") as logs:
            self.commit()
        self.assertIn("WeChat error -1", logs.output[0])
        referral = self.referral(b)
        self.assertEqual(referral.state, "rewarded")
        self.assertEqual(self.points_card(self.a).points, 100)
        # WeChat unreachable, then a bug in a notice: logged, never raised, the other notices still go.
        self.fake.inject("/message/template/send", reset=True)
        self.refund(order)
        with self.assertLogs(LOGGER, "WARNING"):
            self.commit()
        self.assertEqual(self.referral(b).state, "reversed")
        Referral = self.registry["wechat.referral"]
        with patch.object(Referral, "_points_notice_data", side_effect=RuntimeError("boom")), \
                mute_logger(LOGGER):
            self.env["wechat.referral"]._send_notices([(referral.id, "reward"), (referral.id, "clawback")])
        with patch.object(Referral, "_send_notices", side_effect=RuntimeError("database gone")), \
                mute_logger("odoo.addons.wechat_member.models.utils"):
            referral._notify_after_commit("reward")
            self.commit()  # the hook itself never raises after the commit

    # ------------------------------------------------------------------ the friend's welcome perk
    def test_welcome_perk_in_the_follow_reply(self):
        b = self.friend()
        referral = self.referral(b)
        self.assertTrue(referral.welcome_card_id)
        self.assertIn(referral.welcome_card_id.code, self.last_reply["content"], "told in the passive reply")
        self.commit()
        self.assertFalse(self.calls_to("/message/custom/send"), "no service message on top of the reply")

    def test_welcome_perk_service_message_when_no_reply(self):
        """A follow processed late (retried by the cron) has nobody to reply to: a service message tells."""
        self.fake_account.user(self.openid_b).open_cs_window(self.fake.now(), "follow")
        Referral = self.registry["wechat.referral"]
        with patch.object(Referral, "_attribute", side_effect=RuntimeError("db hiccup")), \
                mute_logger("odoo.addons.wechat_member.models.wechat_event"):
            self.env["wechat.event"]._receive(self.account, {
                "ToUserName": "gh_test", "FromUserName": self.openid_b, "CreateTime": "1700000000", "MsgType": "event",
                "Event": "subscribe", "EventKey": f"qrscene_{self.channel.scene}",
            })
        event = self.env["wechat.event"].search([("openid", "=", self.openid_b)])
        self.assertEqual(event.state, "failed")
        self.env["wechat.event"]._cron_retry_failed()
        self.assertEqual(event.state, "done")
        b = self.member(self.openid_b)
        referral = self.referral(b)
        self.assertTrue(referral.welcome_card_id)
        self.assertFalse(self.texts(self.openid_b), "not before the commit")
        self.commit()
        [text] = self.texts(self.openid_b)
        self.assertIn(referral.welcome_card_id.code, text)
        self.assertEqual(self.env["wechat.message.log"].search_count(
            [("member_id", "=", b.id), ("kind", "=", "coupon")]), 1, "a coupon notice: counts in the budget")
        self.assertEqual(self.fake.violations, [])

    def test_welcome_perk_service_message_within_the_rules(self):
        Referral, Member = self.env["wechat.referral"], self.env["wechat.member"]
        # B never wrote: outside the 48 h window nothing is sent, the coupon waits on the member page.
        b, __ = Member._get_or_create(self.account, self.openid_b)
        self.assertTrue(Referral._attribute(self.a, b, new_member=True, channel=self.channel).welcome_card_id)
        # C wrote, but already had this week's marketing message.
        c, __ = Member._get_or_create(self.account, self.openid_c)
        c._touch()
        self.fake_account.user(self.openid_c).open_cs_window(self.fake.now(), "message")
        self.account.budget_per_week = 1
        self.env["wechat.message.log"]._log(self.account, c.ids, "mass")
        self.assertTrue(Referral._attribute(self.a, c, new_member=True, channel=self.channel).welcome_card_id)
        self.commit()
        self.assertFalse(self.calls_to("/message/custom/send"))
        self.assertEqual(self.fake.violations, [])
        # Without the budget's limit, C is told.
        self.account.budget_per_week = 0
        self.env["wechat.referral"]._send_notices([(self.referral(c).id, "welcome")])
        self.assertEqual(len(self.texts(self.openid_c)), 1)
