from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from odoo.addons.wechat_member.tools.wechat_api import WeChatApi, WeChatError

from .common import WeChatCase

POINTS_KEYWORDS = {"thing1": "reason", "number2": "points", "number3": "balance", "time4": "date"}


@tagged("post_install", "-at_install")
class TestNoticeRouter(WeChatCase):
    """The notice router follows WeChat's rules since June 2023 (../shared/DESIGN.md §3)."""

    def setUp(self):
        super().setUp()
        self.fake.clear_logs()  # calls counted per test (the previous test already checked its violations)
        self.Notice = self.env["wechat.notice"]
        self.account.budget_per_week = 0

    def follower(self, openid=None):
        openid = self.fake_account.add_follower(openid)
        return self.env["wechat.member"]._get_or_create(self.account, openid)[0]

    def interact(self, member, kind, seconds_ago=0):
        """The member wrote ("message") or followed/scanned/clicked ("follow"), on WeChat and in Odoo."""
        when = fields.Datetime.now() - timedelta(seconds=seconds_ago)
        member._touch(when=when, grant="message" if kind == "message" else "event")
        self.fake_account.user(member.openid).open_cs_window(self.fake.now() - seconds_ago, kind)

    def optin(self, member, template_id):
        """The member accepted a subscribe notice (WeChat's side and the opt-in its event records)."""
        self.fake.subscribe_accept(self.appid, member.openid, [template_id])
        self.env["wechat.notice.optin"]._record(member, [template_id])

    def subscribe_notices(self, member):
        return [m for m in self.fake_account.subscribe_messages if m["touser"] == member.openid]

    def points(self, member, key, **values):
        values = dict({"points": 10, "balance": 110, "reason": "Purchase"}, **values)
        notices = self.Notice._notify("points_change", member, values, key=key, send=False)
        notices._send()
        return notices

    # ------------------------------------------------------------------ customer-service quota
    def test_follow_two_minutes_ago_opens_no_customer_service(self):
        self.map_template("points_change", "TPL_POINTS", POINTS_KEYWORDS)
        member = self.follower()
        self.interact(member, "follow", seconds_ago=120)
        notice = self.points(member, "k1")
        self.assertFalse(self.calls_to("/message/custom/send"), "a follow older than a minute opens nothing")
        self.assertEqual((notice.state, notice.channel), ("sent", "template"))

    def test_follow_opens_three_in_a_minute_then_the_next_channel(self):
        self.map_template("points_change", "TPL_POINTS", POINTS_KEYWORDS)
        member = self.follower()
        self.interact(member, "follow", seconds_ago=5)
        channels = [self.points(member, f"k{i}").channel for i in range(4)]
        self.assertEqual(channels, ["cs", "cs", "cs", "template"])
        self.assertEqual(len(self.calls_to("/message/custom/send")), 3, "never a refused send")

    def test_own_message_opens_five_within_48_hours(self):
        member = self.follower()
        self.interact(member, "message", seconds_ago=47 * 3600)
        notices = [self.points(member, f"k{i}") for i in range(6)]
        self.assertEqual([n.channel for n in notices[:5]], ["cs"] * 5)
        self.assertEqual(notices[5].state, "none", "no template mapped: recorded with the reason")
        self.assertIn("Not mapped", notices[5].reason)
        self.assertEqual(len(self.calls_to("/message/custom/send")), 5)

    def test_open_grants_count_the_larger_not_the_sum(self):
        member = self.follower()
        self.interact(member, "message", seconds_ago=60)
        for i in range(4):
            self.points(member, f"m{i}")
        self.interact(member, "follow")  # a scan now: 3 within a minute; the message grant has 1 left
        member.invalidate_recordset()
        self.assertEqual(member._cs_quota()[0], 3)
        sent = [self.points(member, f"k{i}").state for i in range(4)]
        self.assertEqual(sent, ["sent", "sent", "sent", "none"])

    def test_wechat_refusal_closes_the_quota_and_falls_back(self):
        self.map_template("points_change", "TPL_POINTS", POINTS_KEYWORDS)
        member = self.follower()
        member._touch(grant="message")  # Odoo believes there is quota, WeChat does not (no window on the fake)
        notice = self.points(member, "k1")
        self.assertEqual((notice.state, notice.channel), ("sent", "template"))
        self.assertEqual(member._cs_quota()[0], 0, "WeChat said 45015: no more tries until the member writes")
        self.fake.clear_logs()  # the 45015 was provoked on purpose

    # ------------------------------------------------------------------ templates
    def test_template_data_is_exactly_the_keywords_within_limits(self):
        self.map_template(
            "pos_thanks",
            "TPL_THANKS",
            {
                "thing1": "store",
                "amount2": "amount",
                "character_string3": "order_ref",
                "time4": "date",
                "phrase5": ("fixed", "已支付"),
            },
        )
        member = self.follower()
        values = {
            "store": "莲花服饰上海南京西路旗舰店（二楼女装区，近电梯）",
            "amount": 1288.5,
            "order_ref": "订单 Shop/0001-0042",
            "date": "2026-12-01 10:30:00",
        }
        notice = self.Notice._notify("pos_thanks", member, values, key="order-1", send=False)
        notice._send()
        self.assertEqual((notice.state, notice.channel), ("sent", "template"))
        data = self.fake_account.template_messages[-1]["data"]
        self.assertEqual(set(data), {"thing1", "amount2", "character_string3", "time4", "phrase5"})
        self.assertLessEqual(len(data["thing1"]["value"]), 20)
        self.assertEqual(data["character_string3"]["value"], "Shop/0001-0042", "no Chinese in a character_string")
        self.assertRegex(data["amount2"]["value"], r"^\D?1288\.50")
        self.assertEqual(self.fake.violations, [])

    def test_mapping_checked_when_saved(self):
        kind = self.env["wechat.notice.kind"]._get("points_change")
        Mapping = self.env["wechat.notice.template"]

        def mapping(lines, **values):
            with self.env.cr.savepoint():
                return Mapping.create(
                    dict(
                        {
                            "account_id": self.account.id,
                            "kind_id": kind.id,
                            "template_id": "T",
                            "line_ids": [(0, 0, line) for line in lines],
                        },
                        **values,
                    )
                )

        with self.assertRaisesRegex(ValidationError, "not a keyword"):
            mapping([{"keyword": "points", "value_key": "points"}])
        with self.assertRaisesRegex(ValidationError, "cannot show"):
            mapping([{"keyword": "amount1", "value_key": "reason"}])
        with self.assertRaisesRegex(ValidationError, "carry no"):
            mapping([{"keyword": "thing1", "value_key": "coupon_name"}])
        with self.assertRaisesRegex(ValidationError, "phrase"):
            mapping([{"keyword": "phrase1", "value_key": "fixed", "fixed_value": "paid"}])
        with self.assertRaisesRegex(ValidationError, "twice"):
            mapping([{"keyword": "thing1", "value_key": "reason"}, {"keyword": "thing1", "value_key": "reason"}])
        marketing = self.env["wechat.notice.kind"].create(
            {"name": "Offer", "code": "test_offer", "category": "marketing"}
        )
        with self.assertRaisesRegex(ValidationError, "forbids marketing"):
            mapping([{"keyword": "thing1", "value_key": "fixed", "fixed_value": "x"}], kind_id=marketing.id)
        ok = mapping([{"keyword": "thing1", "value_key": "reason"}, {"keyword": "number2", "value_key": "points"}])
        self.assertEqual(ok.state, "ok")

    def test_deleted_template_marks_mapping_broken_falls_back_with_activity(self):
        mapping = self.map_template("points_change", "TPL_POINTS", POINTS_KEYWORDS)
        self.map_template("points_change", "SUB_POINTS", {"thing1": "reason", "number2": "points"}, channel="subscribe")
        member = self.follower()
        self.optin(member, "SUB_POINTS")
        self.fake_account.delete_template("TPL_POINTS")
        notice = self.points(member, "k1")
        self.assertEqual((notice.state, notice.channel), ("sent", "subscribe"), "fell back to the next channel")
        self.assertEqual(mapping.state, "broken")
        self.assertIn("40037", mapping.broken_reason)
        self.assertTrue(mapping.activity_ids, "the manager is asked to fix it")
        self.assertEqual(len(self.subscribe_notices(member)), 1)
        # Broken mappings are left out of routing until fixed.
        second = self.points(member, "k2")
        self.assertEqual(second.state, "none", "the opt-in was used once; the template is broken")
        self.assertEqual(len(self.calls_to("/message/template/send")), 1)
        mapping.template_id = "TPL_POINTS_NEW"
        self.assertEqual(mapping.state, "ok", "fixed by the manager")

    def test_refused_keywords_mark_mapping_broken(self):
        mapping = self.map_template("points_change", "TPL_POINTS", POINTS_KEYWORDS)
        self.fake_account.add_template("TPL_POINTS", title="changed on WeChat", keywords=("thing1", "thing2"))
        member = self.follower()
        notice = self.points(member, "k1")
        self.assertEqual(notice.state, "none")
        self.assertEqual(notice.error_code, 47003)
        self.assertEqual(mapping.state, "broken")
        self.assertTrue(mapping.activity_ids)
        self.fake.clear_logs()  # the refused keys were provoked on purpose

    # ------------------------------------------------------------------ subscribe notices
    def test_popup_accept_allows_one_subscribe_notice(self):
        self.map_template("points_change", "SUB_POINTS", {"thing1": "reason", "number2": "points"}, channel="subscribe")
        member = self.follower()
        self.env["wechat.event"]._receive(
            self.account,
            {
                "ToUserName": "gh_test",
                "FromUserName": member.openid,
                "CreateTime": "1700000000",
                "MsgType": "event",
                "Event": "subscribe_msg_popup_event",
                "SubscribeMsgPopupEvent": [
                    {"TemplateId": "SUB_POINTS", "SubscribeStatusString": "accept", "PopupScene": "1"},
                    {"TemplateId": "OTHER", "SubscribeStatusString": "reject", "PopupScene": "1"},
                ],
            },
        )
        optins = self.env["wechat.notice.optin"].search([("member_id", "=", member.id)])
        self.assertEqual(optins.mapped("template_id"), ["SUB_POINTS"])
        self.fake.subscribe_accept(self.appid, member.openid, ["SUB_POINTS"])  # WeChat's side of the same accept
        first, second = self.points(member, "k1"), self.points(member, "k2")
        self.assertEqual((first.state, first.channel), ("sent", "subscribe"))
        self.assertEqual(second.state, "none", "one opt-in, one notice")
        self.assertEqual(len(self.subscribe_notices(member)), 1)
        self.assertEqual(optins.state, "used")

    # ------------------------------------------------------------------ records
    def test_same_key_routed_once_and_timeline_on_member(self):
        member = self.follower()
        self.interact(member, "message")
        self.points(member, "order-7")
        again = self.points(member, "order-7")
        self.assertFalse(again, "a notice of the same kind and key is recorded once")
        self.assertEqual(member.notice_count, 1)
        self.assertEqual(len(self.calls_to("/message/custom/send")), 1)

    def test_reachability_counts_each_channel(self):
        self.map_template("points_change", "TPL_POINTS", POINTS_KEYWORDS)
        talking, silent, gone = self.follower(), self.follower(), self.follower()
        self.interact(talking, "message")
        gone.state = "unfollowed"
        reach = self.Notice._reachability("points_change", talking | silent | gone)
        self.assertEqual(reach, {"cs": 1, "template": 1, "none": 1})

    def test_template_delivery_failure_tries_the_next_channel(self):
        self.map_template("points_change", "TPL_POINTS", POINTS_KEYWORDS)
        self.map_template("points_change", "SUB_POINTS", {"thing1": "reason", "number2": "points"}, channel="subscribe")
        member = self.follower()
        self.optin(member, "SUB_POINTS")
        notice = self.points(member, "k1")
        self.assertEqual(notice.channel, "template")
        self.env["wechat.event"]._receive(
            self.account,
            {
                "ToUserName": "gh_test",
                "FromUserName": member.openid,
                "CreateTime": "1700000001",
                "MsgType": "event",
                "Event": "TEMPLATESENDJOBFINISH",
                "MsgID": notice.wechat_msgid,
                "Status": "failed: system failed",
            },
        )
        self.assertEqual((notice.state, notice.channel), ("sent", "subscribe"))

    def test_service_message_wizard_uses_real_quota(self):
        talking, silent = self.follower(), self.follower()
        self.interact(talking, "message")
        self.interact(silent, "follow", seconds_ago=300)
        sent, errors = (talking | silent)._send_service_text("Your order is ready")
        self.assertEqual(sent, talking)
        self.assertEqual(errors, {}, "the silent member has no quota: not refused by WeChat, just not reached")
        self.assertEqual(len(self.calls_to("/message/custom/send")), 1)


@tagged("post_install", "-at_install")
class TestNoticeDigest(WeChatCase):
    """Marketing notices nobody else can carry go in one openid-list mass send a day."""

    def setUp(self):
        super().setUp()
        self.fake.clear_logs()
        self.account.budget_per_week = 0
        self.kind = self.env["wechat.notice.kind"].create(
            {
                "name": "Test offer",
                "code": "test_offer",
                "category": "marketing",
                "channel_ids": [(0, 0, {"channel": "cs", "sequence": 1}), (0, 0, {"channel": "digest", "sequence": 2})],
            }
        )

    def test_thousand_members_one_mass_send_each_once_within_cap(self):
        openids = self.fake_account.add_followers(1000)
        Member = self.env["wechat.member"]
        Member._bulk_create(self.account, openids)
        members = Member.search([("account_id", "=", self.account.id), ("openid", "in", openids)])
        capped = members[:3]
        self.env["wechat.message.log"]._log(self.account, capped.ids * 4, "mass")  # 4 mass sends this month
        Notice = self.env["wechat.notice"]
        Notice._notify("test_offer", members, {"text": "Happy birthday"}, key="2026", send=False)
        Notice._notify("test_offer", members[:10], {"text": "Second notice"}, key="2026b", send=False)
        self.assertEqual(set(Notice.search([("kind_id", "=", self.kind.id)]).mapped("state")), {"digest"})
        self.assertFalse(self.calls_to("/message/custom/send"), "nobody wrote: no customer service")
        self.env["wechat.notice.digest"]._cron_digest(force=True)
        sends = self.calls_to("/cgi-bin/message/mass/send")
        self.assertEqual(len(sends), 1, "1 000 members: one call of at most 10 000 openids")
        touser = sends[0]["body"]["touser"]
        self.assertEqual(len(touser), len(set(touser)), "each member once")
        self.assertEqual(set(touser), set((members - capped).mapped("openid")))
        notices = Notice.search([("kind_id", "=", self.kind.id)])
        self.assertEqual(set(notices.filtered(lambda n: n.member_id in capped).mapped("state")), {"none"})
        self.assertIn("4 mass messages", notices.filtered(lambda n: n.member_id in capped)[0].reason)
        self.assertEqual(set((notices - notices.filtered(lambda n: n.member_id in capped)).mapped("state")), {"sent"})
        self.assertEqual(len(notices.campaign_id), 1)
        self.env["wechat.notice.digest"]._cron_digest(force=True)
        self.assertEqual(len(self.calls_to("/cgi-bin/message/mass/send")), 1, "nothing left for a second digest")

    def test_digest_at_the_accounts_hour_only(self):
        self.account.digest_hour = 10
        self.account.company_id.partner_id.tz = "Asia/Shanghai"
        self.assertTrue(self.account._is_digest_hour(fields.Datetime.to_datetime("2026-12-01 02:30:00")))
        self.assertFalse(self.account._is_digest_hour(fields.Datetime.to_datetime("2026-12-01 10:30:00")))

    def test_one_member_waits_for_the_next_digest(self):
        member = self.env["wechat.member"]._get_or_create(self.account, self.fake_account.add_follower())[0]
        notice = self.env["wechat.notice"]._notify("test_offer", member, {"text": "Hello"}, send=False)
        self.env["wechat.notice.digest"]._cron_digest(force=True)
        self.assertEqual(notice.state, "digest")
        self.assertIn("2 followers", notice.reason)
        self.assertFalse(self.calls_to("/cgi-bin/message/mass/send"))


@tagged("post_install", "-at_install")
class TestMassDuplicateConfirmed(WeChatCase):
    def test_45065_alone_is_no_proof_of_delivery(self):
        self.account.budget_per_week = 0
        openids = self.fake_account.add_followers(2)
        Member = self.env["wechat.member"]
        members = Member.browse([Member._get_or_create(self.account, o)[0].id for o in openids])
        campaign = self.env["wechat.campaign"].create(
            {
                "name": "Dup",
                "account_id": self.account.id,
                "audience": "all",
                "text_content": "Hi",
            }
        )
        real_post = WeChatApi.post

        def duplicate(api_client, path, data, **params):
            if path == "message/mass/send":
                raise WeChatError(45065, "clientmsgid exist", self.env, data={"msg_id": 999999})
            return real_post(api_client, path, data, **params)

        with patch.object(WeChatApi, "post", duplicate):
            campaign.action_send_now()
            self.run_cron("wechat_member.ir_cron_wechat_campaigns")
        self.assertEqual(campaign.chunk_ids.state, "failed", "WeChat knows no such send: not marked sent")
        self.assertTrue(self.calls_to("/cgi-bin/message/mass/get"), "confirmed with mass/get")
        self.assertFalse(self.env["wechat.message.log"].search([("member_id", "in", members.ids)]))
        self.fake.clear_logs()


@tagged("post_install", "-at_install")
class TestNoticeRobustness(WeChatCase):
    """What the review found: unknown answers, retried events, one digest a day."""

    def setUp(self):
        super().setUp()
        self.fake.clear_logs()
        self.account.budget_per_week = 0

    def follower(self):
        openid = self.fake_account.add_follower()
        return self.env["wechat.member"]._get_or_create(self.account, openid)[0]

    def test_timeout_keeps_the_channel_no_second_send(self):
        self.map_template("points_change", "TPL_POINTS", POINTS_KEYWORDS)
        member = self.follower()
        member._touch(grant="message")
        self.fake_account.user(member.openid).open_cs_window(self.fake.now(), "message")
        self.fake.inject("/cgi-bin/message/custom/send", reset=True)  # no answer: maybe delivered
        notice = self.env["wechat.notice"]._notify("points_change", member, {"points": 5, "balance": 5}, send=False)
        notice._send()
        self.assertEqual(
            (notice.state, notice.channel, notice.attempts),
            ("queued", "cs", 1),
            "an unknown outcome is retried on the same channel, never sent by the next one",
        )
        self.assertFalse(self.calls_to("/message/template/send"))
        self.env["wechat.notice"]._cron_send()
        self.assertEqual((notice.state, notice.channel), ("sent", "cs"))
        self.assertEqual(len(self.calls_to("/message/template/send")), 0)

    def test_retried_event_gives_no_quota_back(self):
        member = self.follower()
        now = fields.Datetime.now()
        member._touch(when=now, grant="message")
        member.cs_message_used = 4
        member._touch(when=now - timedelta(hours=1), grant="message")  # an older event, processed late
        self.assertEqual(member._cs_quota()[0], 1)

    def test_one_digest_a_day_and_a_missed_hour_catches_up(self):
        self.account.digest_hour = 10
        self.account.company_id.partner_id.tz = "Asia/Shanghai"
        at_11 = fields.Datetime.to_datetime("2026-12-01 03:00:00")  # 11:00 in Shanghai
        self.assertTrue(self.account._is_digest_due(at_11), "the 10:00 run was missed: 11:00 catches up")
        self.account.digest_last_date = fields.Date.to_date("2026-12-01")
        self.assertFalse(self.account._is_digest_due(at_11), "once a day")
        self.assertFalse(
            self.account._is_digest_due(fields.Datetime.to_datetime("2026-12-02 01:00:00")),
            "the next day, not before its hour",
        )
