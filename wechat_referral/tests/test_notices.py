from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import ReferralPosCase


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
        keywords = {"number1": "points", "number2": "balance", "thing3": "friend", "thing4": "reason"}
        self.map_template("referral_reward", "TPL_REWARD", keywords)
        self.map_template("referral_clawback", "TPL_CLAWBACK", keywords)
        self.follow(self.openid_a)
        self.a = self.member(self.openid_a)
        self.quota_gone(self.a)
        self.channel = self.a._referral_channel()

    def quota_gone(self, member):
        """The minute of customer-service quota that the follow opened is over."""
        member.write({"cs_event_at": fields.Datetime.now() - timedelta(minutes=2)})

    def friend(self):
        self.follow(self.openid_b, scene=self.channel.scene)
        b = self.member(self.openid_b)
        b.partner_id.name = "Li Na"
        return b

    def sent_to_a(self):
        return [m for m in self.fake_account.template_messages if m["touser"] == self.openid_a]

    def texts(self, openid):
        return [m["text"]["content"] for m in self.fake_account.cs_messages if m["touser"] == openid]

    def data(self, message):
        return {name: value["value"] for name, value in message["data"].items()}

    def test_reward_notice_after_commit_once(self):
        b = self.friend()
        order, data = self.buy(b)
        referral = self.referral(b)
        self.assertEqual(referral.state, "rewarded")
        self.assertFalse(self.calls_to("/message/template/send"), "nothing is sent before the commit")
        self.commit()
        [message] = self.sent_to_a()
        self.assertEqual(message["template_id"], "TPL_REWARD")
        notice = self.notices("referral_reward", self.a)
        self.assertEqual((notice.state, notice.channel), ("sent", "template"))
        self.assertEqual(message["client_msg_id"], f"wn{notice.id}")
        self.assertEqual(message["url"], self.account._member_page_url())
        self.assertEqual(
            self.data(message),
            {"number1": "100", "number2": "100", "thing3": "Li Na", "thing4": self.data(message)["thing4"]},
        )
        self.assertIn("Li Na", self.data(message)["thing4"])
        self.assertEqual(
            self.env["wechat.message.log"].search_count([("member_id", "=", self.a.id), ("kind", "=", "notice")]),
            1,
            "transactional: not in the budget",
        )

        # The order synced and processed again: no second reward, no second notice.
        self.env["pos.order"].sync_from_ui([data])
        self.env["wechat.referral"]._process_orders(order)
        self.commit()
        self.assertEqual(len(self.calls_to("/message/template/send")), 1)
        referral._notify_after_commit("reward")
        self.commit()
        self.assertEqual(len(self.sent_to_a()), 1, "the same referral and event are notified once")

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
        self.assertFalse(self.notices("referral_reward"))

    def test_clawback_notice(self):
        b = self.friend()
        order, __ = self.buy(b)
        self.commit()
        self.refund(order)
        referral = self.referral(b)
        self.assertEqual(referral.state, "reversed")
        self.assertEqual(len(self.sent_to_a()), 1, "not before the commit")
        self.commit()
        reward, clawback = self.sent_to_a()
        self.assertEqual(clawback["template_id"], "TPL_CLAWBACK")
        data_sent = self.data(clawback)
        self.assertEqual(data_sent["number1"], "-100")
        self.assertEqual(data_sent["number2"], "0")
        self.assertLessEqual(len(data_sent["thing4"]), 20, "a thing keyword is cut to 20 characters")
        self.assertIn("refunded", self.notices("referral_clawback", self.a).values["reason"])

    def test_notice_in_the_referrer_language(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.a.partner_id.lang = "zh_CN"
        b = self.friend()
        self.buy(b)
        self.commit()
        [message] = self.sent_to_a()
        self.assertIn("好友", message["data"]["thing4"]["value"])

    def test_no_template_recorded_with_the_reason(self):
        self.env["wechat.notice.template"].search([]).unlink()
        b = self.friend()
        order, __ = self.buy(b)
        self.commit()
        self.refund(order)
        self.commit()
        self.assertEqual(self.referral(b).state, "reversed")
        self.assertFalse(self.calls_to("/message/template/send"))
        notices = self.notices(member=self.a)
        self.assertEqual(notices.mapped("state"), ["none", "none"])
        self.assertIn("Not mapped", notices[0].reason)

    def test_unfollowed_referrer_gets_nothing(self):
        b = self.friend()
        self.unfollow(self.openid_a)
        self.fake_account.user(self.openid_a).subscribe = False
        self.buy(b)
        self.commit()
        self.assertEqual(self.referral(b).state, "rewarded")
        self.assertFalse(self.calls_to("/message/template/send"))
        self.assertEqual(self.notices("referral_reward", self.a).state, "none")

    def test_failing_send_keeps_the_sale(self):
        b = self.friend()
        self.fake.inject("/message/template/send", errcode=-1)
        self.buy(b)
        self.commit()
        referral = self.referral(b)
        self.assertEqual(referral.state, "rewarded")
        self.assertEqual(self.points_card(self.a).points, 100)
        notice = self.notices("referral_reward", self.a)
        self.assertEqual(
            (notice.state, notice.error_code),
            ("queued", -1),
            "WeChat busy: kept with its error, retried later on the same channel",
        )
        with (
            patch.object(type(self.env["wechat.notice"]), "_send", side_effect=RuntimeError("database gone")),
            mute_logger("odoo.addons.wechat_member.models.utils"),
        ):
            referral._notify_after_commit("clawback")
            self.commit()  # the after-commit send never raises

    # ------------------------------------------------------------------ the friend's welcome perk
    def test_welcome_perk_in_the_follow_reply(self):
        b = self.friend()
        referral = self.referral(b)
        self.assertTrue(referral.welcome_card_id)
        self.assertIn(referral.welcome_card_id.code, self.last_reply["content"], "told in the passive reply")
        self.commit()
        self.assertFalse(self.calls_to("/message/custom/send"), "no service message on top of the reply")
        notice = self.notices("referral_welcome", b)
        self.assertEqual((notice.state, notice.channel), ("sent", "reply"))

    def test_welcome_perk_of_a_late_follow_waits_for_the_digest(self):
        """A follow processed late (retried by the cron) has nobody to reply to, and opened no quota now."""
        Referral = self.registry["wechat.referral"]
        with (
            patch.object(Referral, "_attribute", side_effect=RuntimeError("db hiccup")),
            mute_logger("odoo.addons.wechat_member.models.wechat_event"),
        ):
            self.env["wechat.event"]._receive(
                self.account,
                {
                    "ToUserName": "gh_test",
                    "FromUserName": self.openid_b,
                    "CreateTime": "1700000000",
                    "MsgType": "event",
                    "Event": "subscribe",
                    "EventKey": f"qrscene_{self.channel.scene}",
                },
                signature_checked=True,
            )  # as the webhook does after checking the signature
        event = self.env["wechat.event"].search([("openid", "=", self.openid_b)])
        self.assertEqual(event.state, "failed")
        self.env["wechat.event"]._cron_retry_failed()
        self.assertEqual(event.state, "done")
        b = self.member(self.openid_b)
        referral = self.referral(b)
        self.assertTrue(referral.welcome_card_id)
        self.commit()
        self.assertFalse(self.texts(self.openid_b), "a follow older than a minute opens no customer service")
        notice = self.notices("referral_welcome", b)
        self.assertEqual(notice.state, "digest")

    def test_welcome_perk_service_message_within_the_rules(self):
        Referral, Member = self.env["wechat.referral"], self.env["wechat.member"]
        # C wrote, but already had this week's marketing message: the digest, not customer service.
        c, __ = Member._get_or_create(self.account, self.openid_c)
        c._touch(grant="message")
        self.fake_account.user(self.openid_c).open_cs_window(self.fake.now(), "message")
        self.account.budget_per_week = 1
        self.env["wechat.message.log"]._log(self.account, c.ids, "mass")
        self.assertTrue(Referral._attribute(self.a, c, new_member=True, channel=self.channel).welcome_card_id)
        self.commit()
        self.assertFalse(self.calls_to("/message/custom/send"))
        self.assertEqual(self.notices("referral_welcome", c).state, "digest")
        # Without the budget's limit, a new perk goes by customer service: C wrote a minute ago.
        self.account.budget_per_week = 0
        notice = self.env["wechat.notice"]._notify(
            "referral_welcome", c, {"referral_id": self.referral(c).id}, key="again", send=False
        )
        notice._send()
        self.assertEqual(len(self.texts(self.openid_c)), 1)
        self.assertIn(self.referral(c).welcome_card_id.code, self.texts(self.openid_c)[0])
