import time
from datetime import timedelta

from fakewechat.api_media import TINY_PNG

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.mail.tools.discuss import Store

from .common import WeChatCase


class WeChatCSCommon(WeChatCase):
    """Members write to the account (events received as the webhook does); agents answer in Discuss."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agent = new_test_user(
            cls.env,
            login="cs_agent",
            name="CS Agent",
            groups="base.group_user,wechat_member.group_wechat_customer_service",
        )
        cls.cashier = new_test_user(
            cls.env, login="cs_cashier", name="Cashier Only", groups="wechat_member.group_wechat_cashier"
        )

    def setUp(self):
        super().setUp()
        self._msg_seq = 0
        # The fake lives as long as the class: faults armed by a test end with it.
        self.addCleanup(self.fake.injections.clear)

    def follower(self, openid):
        self.fake_account.add_follower(openid)
        return openid

    def inbound(self, openid, msgtype="text", msg_id=None, **fields_):
        """The member's message as WeChat pushes it (the fake opens its CS grant); the wechat.event."""
        self._msg_seq += 1
        user = self.fake_account.users[openid]
        with self.fake.lock:
            user.open_cs_window(self.fake.now(), "message")
        msg = {
            "ToUserName": self.fake_account.original_id,
            "FromUserName": openid,
            "CreateTime": str(int(time.time())),
            "MsgType": msgtype,
            "MsgId": msg_id or f"{int(time.time())}{self._msg_seq:04d}{openid[-4:]}",
        }
        msg.update(fields_)
        self.env["wechat.event"]._receive(self.account, msg, signature_checked=True)
        return self.env["wechat.event"].search([("dedupe_key", "=", f"msg:{msg['MsgId']}")])

    def member(self, openid):
        return self.env["wechat.member"].search([("account_id", "=", self.account.id), ("openid", "=", openid)])

    def channel(self, openid):
        return self.env["discuss.channel"].search([("wechat_member_id", "=", self.member(openid).id)])

    def reply(self, channel, body, user=None, **kwargs):
        """Post as the agent, as Discuss's composer does (``/mail/message/post``: the thread in sudo)."""
        return (
            channel.with_user(user or self.agent)
            .sudo()
            .message_post(body=body, message_type="comment", subtype_xmlid="mail.mt_comment", **kwargs)
        )

    def cs_sent(self, openid):
        return [m for m in self.fake_account.cs_messages if m["touser"] == openid]


@tagged("post_install", "-at_install")
class TestWeChatCSConversation(WeChatCSCommon):
    def test_text_becomes_one_channel_message(self):
        openid = self.follower("oCSText00000000000000000001")
        for __ in range(3):  # WeChat delivers the same message 3 times
            self.inbound(openid, "text", msg_id="777000111", Content="Where is my order?")
        channel = self.channel(openid)
        self.assertEqual(len(channel), 1)
        self.assertEqual(channel.channel_type, "channel")
        self.assertEqual(channel.group_public_id, self.env.ref("wechat_member.group_wechat_customer_service"))
        messages = channel.message_ids.filtered(lambda m: m.message_type == "comment")
        self.assertEqual(len(messages), 1, "3 deliveries, one message")
        self.assertIn("Where is my order?", messages.body)
        self.assertEqual(messages.author_id, self.member(openid).partner_id)
        self.assertIn(self.agent.partner_id, channel.channel_member_ids.partner_id, "agents get unread counters")
        self.assertNotIn(self.cashier.partner_id, channel.channel_member_ids.partner_id)
        self.assertIn("5 message(s) left", channel.description)
        self.assertTrue(channel.wechat_waiting_since)
        # A second message goes to the same conversation.
        self.inbound(openid, "text", Content="Hello?")
        self.assertEqual(self.channel(openid), channel)
        self.assertEqual(len(channel.message_ids.filtered(lambda m: m.message_type == "comment")), 2)
        # Reachable from the member's and the contact's form.
        member = self.member(openid).with_user(self.agent)
        self.assertEqual(member.cs_channel_id, channel)
        self.assertEqual(member.action_view_cs_channel()["context"]["active_id"], channel.id)
        partner = member.partner_id.with_user(self.agent)
        self.assertEqual(partner.wechat_cs_channel_count, 1)
        self.assertEqual(partner.action_view_wechat_conversation()["context"]["active_id"], channel.id)

    def test_keyword_answered_by_rule_is_no_conversation(self):
        openid = self.follower("oCSRule00000000000000000001")
        self.env["wechat.reply.rule"].create(
            {"name": "Hours", "keywords": "hours", "reply_type": "text", "reply_text": "9-21"}
        )
        self.inbound(openid, "text", Content="hours")
        self.assertFalse(self.channel(openid), "self-service answered it")

    def test_location_and_link(self):
        openid = self.follower("oCSLoc000000000000000000001")
        self.inbound(openid, "location", Location_X="23.1", Location_Y="113.3", Scale="20", Label="Tianhe")
        self.inbound(openid, "link", Title="My order", Description="see", Url="javascript:alert(1)")
        bodies = self.channel(openid).message_ids.filtered(lambda m: m.message_type == "comment").mapped("body")
        self.assertTrue(any("Tianhe" in b and "23.1" in b for b in bodies))
        link = next(b for b in bodies if "My order" in b)
        self.assertNotIn("javascript:", link, "a link from WeChat is never run")

    def test_quota_five_replies_then_refused_before_sending(self):
        openid = self.follower("oCSQuota0000000000000000001")
        self.inbound(openid, "text", Content="Question")
        channel = self.channel(openid)
        for i in range(5):
            self.reply(channel, f"<p>Answer {i}</p>")
        self.assertEqual([m["text"]["content"] for m in self.cs_sent(openid)], [f"Answer {i}" for i in range(5)])
        self.assertFalse(channel.wechat_waiting_since)
        self.assertEqual(channel.wechat_first_response_uid, self.agent)
        self.assertIn("closed", channel.description)
        count = len(channel.message_ids)
        calls = len(self.calls_to("message/custom/send"))
        with self.assertRaises(UserError) as refused:
            self.reply(channel, "<p>Answer 6</p>")
        self.assertIn("5/5", str(refused.exception))
        self.assertIn("notice router", str(refused.exception))
        self.assertEqual(len(self.calls_to("message/custom/send")), calls, "refused before sending")
        self.assertEqual(len(channel.message_ids), count, "nothing posted")
        # The member writes again (a keyword a rule answers): a new quota, shown in the conversation.
        self.env["wechat.reply.rule"].create(
            {"name": "Hours", "keywords": "hours", "reply_type": "text", "reply_text": "9-21"}
        )
        member = self.member(openid).sudo()
        member.cs_message_at -= timedelta(seconds=5)  # the first message was a little earlier
        self.inbound(openid, "text", Content="hours")
        self.assertIn("5 message(s) left", channel.description)
        self.reply(channel, "<p>Answer 6</p>")
        self.assertEqual(len(self.cs_sent(openid)), 6)

    def test_reply_after_48_hours_refused_with_the_date(self):
        openid = self.follower("oCSLate00000000000000000001")
        self.inbound(openid, "text", Content="Question")
        member = self.member(openid)
        member.sudo().cs_message_at = fields.Datetime.now() - timedelta(hours=49)
        with self.assertRaises(UserError) as refused:
            self.reply(self.channel(openid), "<p>Late answer</p>")
        self.assertIn("48-hour window closed", str(refused.exception))
        self.assertFalse(self.cs_sent(openid))

    def test_wechat_refusal_shows_wechat_message_and_posts_nothing(self):
        openid = self.follower("oCSRefuse000000000000000001")
        self.inbound(openid, "text", Content="Question")
        channel = self.channel(openid)
        count = len(channel.message_ids)
        self.fake.inject("message/custom/send", errcode=45047)
        with self.assertRaises(UserError) as refused:
            self.reply(channel, "<p>Answer</p>")
        self.assertIn("limit", str(refused.exception))
        self.assertEqual(len(channel.message_ids), count)

    def test_conversation_renamed_with_the_member(self):
        openid = self.follower("oCSRename000000000000000001")
        self.inbound(openid, "text", Content="Hi")
        channel = self.channel(openid)
        self.member(openid).account_id.company_id.partner_id.lang = "en_US"
        self.member(openid).partner_id.name = "Wang Xiaoming"
        self.assertEqual(channel.name, "WeChat: Wang Xiaoming")

    def test_member_card(self):
        openid = self.follower("oCSCard00000000000000000001")
        self.inbound(openid, "text", Content="Hi")
        card = self.member(openid)._cs_member_card()
        self.assertEqual(card["name"], self.member(openid).display_name)
        self.assertTrue(card["member_code"].startswith("WM"))
        self.assertEqual(card["quota_left"], 5)
        self.assertEqual(card["last_purchases"], [])

    def test_cashier_and_other_company_cannot_read_conversations(self):
        openid = self.follower("oCSSecure000000000000000001")
        self.inbound(openid, "text", Content="Private question")
        channel = self.channel(openid)
        with self.assertRaises(AccessError):
            channel.with_user(self.cashier).check_access("read")
        self.assertFalse(self.env["discuss.channel"].with_user(self.cashier).search([("id", "=", channel.id)]))
        other = self.env["res.company"].create({"name": "Other Shop"})
        outsider = new_test_user(
            self.env,
            login="cs_other",
            groups="base.group_user,wechat_member.group_wechat_customer_service",
            company_id=other.id,
            company_ids=[(6, 0, other.ids)],
        )
        self.assertNotIn(outsider.partner_id, channel.channel_member_ids.partner_id)
        self.assertFalse(self.env["discuss.channel"].with_user(outsider).search([("id", "=", channel.id)]))
        self.assertTrue(self.env["discuss.channel"].with_user(self.agent).search([("id", "=", channel.id)]))


@tagged("post_install", "-at_install")
class TestWeChatCSMedia(WeChatCSCommon):
    def image_event(self, openid, content=TINY_PNG, content_type="image/png", media_type="image"):
        media_id = self.fake_account.add_media(media_type, permanent=False, content=content, content_type=content_type)
        return self.inbound(openid, "image", PicUrl="http://mmbiz.qpic.cn/x.jpg", MediaId=media_id)

    def comment(self, openid):
        return self.channel(openid).message_ids.filtered(lambda m: m.message_type == "comment")

    def test_image_downloaded_into_an_attachment(self):
        openid = self.follower("oCSImage0000000000000000001")
        event = self.image_event(openid)
        self.assertEqual(event.media_state, "done")
        message = self.comment(openid)
        self.assertEqual(message.attachment_ids.mimetype, "image/png")
        self.assertEqual(message.attachment_ids.raw, TINY_PNG)
        self.assertIn("[image]", message.body)

    def test_voice_with_recognition(self):
        openid = self.follower("oCSVoice0000000000000000001")
        media_id = self.fake_account.add_media(
            "voice", permanent=False, content=b"#!AMR\n...", content_type="audio/amr"
        )
        self.inbound(openid, "voice", MediaId=media_id, Format="amr", Recognition="我的积分是多少")
        message = self.comment(openid)
        self.assertEqual(message.attachment_ids.mimetype, "audio/amr")
        self.assertIn("我的积分是多少", message.body)

    def test_video_shown_as_its_link(self):
        openid = self.follower("oCSVideo0000000000000000001")
        media_id = self.fake_account.add_media("video", permanent=False)
        self.inbound(openid, "video", MediaId=media_id, ThumbMediaId="t")
        self.assertIn("fake-video.wechat.invalid", self.comment(openid).body)

    def test_oversized_and_wrong_type_not_downloaded(self):
        openid = self.follower("oCSBig000000000000000000001")
        from ..models import wechat_event

        limit = wechat_event.MEDIA_MAX_SIZE["image"]
        event = self.image_event(openid, content=b"x" * (limit + 1))
        self.assertEqual(event.media_state, "failed")
        self.assertFalse(self.comment(openid).attachment_ids)
        self.assertIn("not available", self.comment(openid).body)
        event = self.image_event(openid, content=b"<html>", content_type="text/html")
        self.assertEqual(event.media_state, "failed")
        self.assertIn("text/html", event.media_error)
        self.assertFalse(self.channel(openid).message_ids.attachment_ids)

    def test_4xx_not_retried(self):
        openid = self.follower("oCS4xx000000000000000000001")
        self.fake.inject("media/get", http_status=404)
        event = self.image_event(openid)
        self.assertEqual(event.media_state, "failed")
        self.assertEqual(len(self.calls_to("media/get")), 1)
        self.run_cron("wechat_member.ir_cron_wechat_retry_media")
        self.assertEqual(len(self.calls_to("media/get")), 1, "no download again after a 4xx")

    def test_network_failure_and_timeout_retried_by_the_cron(self):
        openid = self.follower("oCSRetry0000000000000000001")
        self.account.timeout = 1
        self.patch(self.fake, "hang_seconds", 2)
        self.fake.inject("media/get", timeout=True)
        event = self.image_event(openid)
        self.assertEqual(event.media_state, "pending")
        message = self.comment(openid)
        self.assertIn("[image — download pending]", message.body, "the message is shown meanwhile")
        self.fake.inject("media/get", reset=True)
        event.media_retry_date = fields.Datetime.now() - timedelta(minutes=10)
        self.run_cron("wechat_member.ir_cron_wechat_retry_media")
        self.assertEqual(event.media_state, "pending", "still failing: still pending")
        event.media_retry_date = fields.Datetime.now() - timedelta(minutes=10)
        self.run_cron("wechat_member.ir_cron_wechat_retry_media")
        self.assertEqual(event.media_state, "done")
        self.assertEqual(message.attachment_ids.raw, TINY_PNG)
        self.assertNotIn("pending", message.body)
        self.assertEqual(len(self.comment(openid)), 1, "the same message, completed")

    def test_retries_are_bounded(self):
        openid = self.follower("oCSBound0000000000000000001")
        self.fake.inject("media/get", reset=True, times=10)
        event = self.image_event(openid)
        for __ in range(8):
            event.media_retry_date = fields.Datetime.now() - timedelta(minutes=10)
            self.run_cron("wechat_member.ir_cron_wechat_retry_media")
        self.assertEqual(event.media_state, "failed")
        self.assertEqual(event.media_attempts, 5)

    def test_image_reply_uploaded_once_and_cached(self):
        openid = self.follower("oCSUpload000000000000000001")
        self.inbound(openid, "text", Content="Photo of the shirt?")
        channel = self.channel(openid)

        def attachment():
            return (
                self.env["ir.attachment"]
                .with_user(self.agent)
                .create({"name": "shirt.png", "raw": TINY_PNG, "res_model": "mail.compose.message", "res_id": 0})
            )

        self.reply(channel, "<p>Here it is</p>", attachment_ids=attachment().ids)
        self.reply(channel, "", attachment_ids=attachment().ids)
        self.assertEqual(len(self.calls_to("media/upload")), 1, "the same image is uploaded once (3 days)")
        sent = self.cs_sent(openid)
        self.assertEqual([m["msgtype"] for m in sent], ["image", "text", "image"])
        self.assertEqual(sent[0]["image"], sent[2]["image"])
        self.assertEqual(self.member(openid)._cs_quota()[0], 2)
        # Past WeChat's 3 days, the image is uploaded again.
        self.env["wechat.media"].sudo().search([]).uploaded_at = fields.Datetime.now() - timedelta(days=3)
        self.reply(channel, "", attachment_ids=attachment().ids)
        self.assertEqual(len(self.calls_to("media/upload")), 2)

    def test_other_files_refused(self):
        openid = self.follower("oCSPdf000000000000000000001")
        self.inbound(openid, "text", Content="Invoice?")
        pdf = self.env["ir.attachment"].create(
            {"name": "invoice.pdf", "raw": b"%PDF-1.4", "mimetype": "application/pdf"}
        )
        with self.assertRaises(UserError):
            self.reply(self.channel(openid), "<p>Here</p>", attachment_ids=pdf.ids)
        self.assertFalse(self.cs_sent(openid))


@tagged("post_install", "-at_install")
class TestWeChatCSAssignment(WeChatCSCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.store = cls.env["pos.config"].create({"name": "Store CS"})
        cls.store_agent = new_test_user(
            cls.env,
            login="cs_store_agent",
            groups="base.group_user,wechat_member.group_wechat_customer_service",
        )
        cls.store_manager = new_test_user(cls.env, login="cs_store_manager", groups="base.group_user")
        cls.store.write(
            {"wechat_cs_user_ids": [(6, 0, cls.store_agent.ids)], "wechat_cs_manager_id": cls.store_manager.id}
        )
        cls.qr = cls.env["wechat.qr.channel"].create(
            {
                "name": "Store CS QR",
                "account_id": cls.account.id,
                "channel_type": "store",
                "pos_config_id": cls.store.id,
            }
        )

    def test_store_staff_first_else_group(self):
        openid = self.follower("oCSStore0000000000000000001")
        self.inbound(openid, "text", Content="Hi")
        channel = self.channel(openid)
        self.assertIn(self.agent.partner_id, channel.channel_member_ids.partner_id, "no store: the whole group")
        openid2 = self.follower("oCSStore0000000000000000002")
        self.inbound(openid2, "event", Event="subscribe", EventKey=f"qrscene_{self.qr.scene}")
        self.assertEqual(self.member(openid2).store_id, self.store)
        self.inbound(openid2, "text", Content="Hi from the store")
        channel2 = self.channel(openid2)
        self.assertEqual(channel2.wechat_store_id, self.store)
        self.assertEqual(channel2.channel_member_ids.partner_id, self.store_agent.partner_id)

    def test_no_reply_makes_an_activity_for_the_store_manager(self):
        openid = self.follower("oCSWait00000000000000000001")
        self.member_with_store(openid)
        self.inbound(openid, "text", Content="Anyone?")
        channel = self.channel(openid)
        self.run_cron("wechat_member.ir_cron_wechat_cs_follow_up")
        self.assertFalse(self.member(openid).partner_id.activity_ids, "not yet 30 minutes")
        channel.wechat_waiting_since = fields.Datetime.now() - timedelta(minutes=31)
        self.run_cron("wechat_member.ir_cron_wechat_cs_follow_up")
        activity = self.member(openid).partner_id.activity_ids
        self.assertEqual(activity.user_id, self.store_manager)
        self.run_cron("wechat_member.ir_cron_wechat_cs_follow_up")
        self.assertEqual(len(self.member(openid).partner_id.activity_ids), 1, "once per wait")
        # An answer ends the wait.
        self.reply(channel, "<p>Yes</p>", user=self.store_agent)
        self.assertFalse(channel.wechat_waiting_since)

    def test_answered_in_time_no_activity(self):
        self.account.cs_reply_delay = 10
        openid = self.follower("oCSInTime000000000000000001")
        self.inbound(openid, "text", Content="Hi")
        channel = self.channel(openid)
        self.reply(channel, "<p>Hello</p>")
        channel.sudo().wechat_waiting_since = False
        self.run_cron("wechat_member.ir_cron_wechat_cs_follow_up")
        self.assertFalse(self.member(openid).partner_id.activity_ids)

    def member_with_store(self, openid):
        self.inbound(openid, "event", Event="subscribe", EventKey=f"qrscene_{self.qr.scene}")
        return self.member(openid)


@tagged("post_install", "-at_install")
class TestWeChatCSCard(WeChatCSCommon):
    def test_card_for_agents_of_the_company_only(self):
        openid = self.follower("oCSCardRpc00000000000000001")
        self.inbound(openid, "text", Content="Hi")
        member = self.member(openid)
        card = member.with_user(self.agent).cs_member_card()
        self.assertEqual(card["id"], member.id)
        channel = self.channel(openid).with_user(self.agent)
        data = Store(channel).get_result()  # what Discuss gets of the conversation
        self.assertEqual(data["discuss.channel"][0]["wechat_member_id"], member.id)
        outsider = new_test_user(self.env, login="cs_plain_user", groups="base.group_user")
        with self.assertRaises(AccessError):
            member.with_user(outsider).cs_member_card()


@tagged("post_install", "-at_install")
class TestWeChatCSLinksAndNotices(WeChatCSCommon):
    """From the conversation the agent sends links with one click, and a reply the quota cannot carry goes as a
    notice (template message or subscribe notice) through the notice router: never a refused send."""

    CS_REPLY_KEYWORDS = {"thing1": "reply", "thing2": "store", "time3": "date"}

    def used_up(self, openid):
        self.inbound(openid, "text", Content="Question")
        channel = self.channel(openid)
        for i in range(5):
            self.reply(channel, f"<p>Answer {i}</p>")
        return channel

    def test_links_sent_as_replies_within_the_quota(self):
        openid = self.follower("oCSLinks0000000000000000001")
        self.inbound(openid, "text", Content="Where are you?")
        channel = self.channel(openid)
        self.account.company_id.partner_id.write({"city": "上海", "street": "南京西路 1266 号"})
        store = self.env["pos.config"].create({"name": "Jing'an Store", "wechat_account_id": self.account.id})
        keys = [link["key"] for link in self.member(openid).with_user(self.agent).cs_member_card()["links"]]
        self.assertEqual(keys[0], "member_page")
        store_key = f"store_{store.id}"
        self.assertIn(store_key, keys)
        channel.with_user(self.agent).wechat_send_link("member_page")
        channel.with_user(self.agent).wechat_send_link(store_key)
        texts = [m["text"]["content"] for m in self.cs_sent(openid)]
        self.assertEqual(len(texts), 2)
        self.assertIn(f"/wechat/member/{self.account.id}", texts[0])
        self.assertIn("Jing'an Store", texts[1])
        self.assertIn("南京西路 1266 号", texts[1])
        self.assertIn(f"/wechat/store/{self.account.id}/{store.id}", texts[1], "the store page: hours, directions")
        self.assertEqual(self.member(openid).cs_message_used, 2, "each link is a customer-service message")
        bodies = channel.message_ids.mapped("body")
        self.assertTrue(any(f"/wechat/member/{self.account.id}" in body for body in bodies), "shown in the thread")
        with self.assertRaises(UserError):
            channel.with_user(self.agent).wechat_send_link("store_0")

    def test_out_of_quota_reply_refused_with_the_quota_error(self):
        from odoo.addons.wechat_member.models.discuss_channel import WeChatCSQuotaError

        channel = self.used_up(self.follower("oCSQuotaErr0000000000000001"))
        with self.assertRaises(WeChatCSQuotaError):
            self.reply(channel, "<p>Answer 6</p>")
        with self.assertRaises(WeChatCSQuotaError):
            channel.with_user(self.agent).wechat_send_link("member_page")

    def test_reply_sent_as_template_notice_when_the_quota_is_used_up(self):
        self.map_template("cs_reply", "TPL_CS_REPLY", self.CS_REPLY_KEYWORDS)
        openid = self.follower("oCSNotice000000000000000001")
        channel = self.used_up(openid)
        count = len(channel.message_ids)
        before = len(self.calls_to("/message/template/send"))
        result = channel.with_user(self.agent).wechat_send_as_notice(
            body="<p>Your size M is back in stock on Friday</p>"
        )
        self.assertEqual(result["channel"], "Template message")
        calls = self.calls_to("/message/template/send")[before:]
        self.assertEqual(len(calls), 1)
        body = calls[0]["body"]
        self.assertEqual(body["touser"], openid)
        self.assertTrue(body["data"]["thing1"]["value"].startswith("Your size M is back"))
        self.assertLessEqual(len(body["data"]["thing1"]["value"]), 20, "cut to the keyword's limit")
        self.assertTrue(body["url"].endswith(f"/wechat/member/{self.account.id}#wechat-replies"))
        self.assertEqual(len(self.cs_sent(openid)), 5, "no customer-service message beyond the quota")
        self.assertEqual(len(channel.message_ids), count + 1)
        self.assertIn("Sent as Template message", channel.message_ids[0].body)
        self.assertEqual(channel.message_ids[0].author_id, self.agent.partner_id)
        notice = self.notices("cs_reply", self.member(openid))
        self.assertEqual((notice.state, notice.channel), ("sent", "template"))
        # The member page shows the whole answer (the template's keyword shows 20 characters).
        replies = self.member(openid)._cs_recent_replies()
        self.assertIn("back in stock on Friday", replies[0]["body"])
        self.assertNotIn("Sent as", replies[0]["body"], "the shop's note stays in Discuss")
        self.assertEqual(replies[0]["author"], "CS Agent")

    def test_link_sent_as_notice(self):
        self.map_template("cs_reply", "TPL_CS_REPLY", self.CS_REPLY_KEYWORDS)
        openid = self.follower("oCSNoticeLnk000000000000001")
        channel = self.used_up(openid)
        channel.with_user(self.agent).wechat_send_as_notice(link_key="member_page")
        self.assertEqual(self.notices("cs_reply", self.member(openid)).state, "sent")
        self.assertIn(f"/wechat/member/{self.account.id}", channel.message_ids[0].body)

    def test_no_notice_channel_refused_with_the_reason_and_nothing_posted(self):
        openid = self.follower("oCSNoticeNone00000000000001")
        channel = self.used_up(openid)
        count = len(channel.message_ids)
        before = len(self.calls_to("/message/template/send"))
        with self.assertRaises(UserError) as refused:
            channel.with_user(self.agent).wechat_send_as_notice(body="<p>Answer 6</p>")
        self.assertIn("Not mapped", str(refused.exception))
        self.assertEqual(len(channel.message_ids), count)
        self.assertEqual(len(self.calls_to("/message/template/send")), before)
        with self.assertRaises(UserError):
            channel.with_user(self.agent).wechat_send_as_notice(body="<p> </p>")

    def test_cashier_cannot_send_from_a_conversation(self):
        openid = self.follower("oCSNoticeCash00000000000001")
        self.inbound(openid, "text", Content="Question")
        channel = self.channel(openid)
        for method, args in (("wechat_send_link", ["member_page"]), ("wechat_send_as_notice", ["<p>Hi</p>"])):
            with self.assertRaises(AccessError):
                getattr(channel.with_user(self.cashier), method)(*args)
        self.assertFalse(self.cs_sent(openid))


@tagged("post_install", "-at_install")
class TestWeChatCSReport(WeChatCSCommon):
    def test_conversations_first_response_and_resolution(self):
        answered = self.follower("oCSReport000000000000000001")
        waiting = self.follower("oCSReport000000000000000002")
        self.inbound(answered, "text", Content="Question 1")
        self.inbound(answered, "text", Content="Question 2")
        self.inbound(waiting, "text", Content="Question 3")
        self.reply(self.channel(answered), "<p>Answer</p>")
        self.env.flush_all()
        Report = self.env["wechat.cs.report"]
        rows = Report.search([("member_id", "in", (self.member(answered) | self.member(waiting)).ids)])
        by_member = {row.member_id.openid: row for row in rows}
        self.assertEqual(len(rows), 2, "one row per member and day")
        row = by_member[answered]
        self.assertEqual((row.message_count, row.reply_count, row.user_id), (2, 1, self.agent))
        self.assertTrue(row.resolved)
        self.assertGreaterEqual(row.response_minutes, 0)
        row = by_member[waiting]
        self.assertFalse(row.resolved)
        self.assertFalse(row.user_id)
        groups = Report._read_group(
            [("id", "in", rows.ids)], ["user_id"], ["conversation_count:sum", "resolved_count:sum"]
        )
        self.assertIn((self.agent, 1, 1), groups)

    def test_demo_conversations(self):
        account = self.env.ref("wechat_member.demo_account", raise_if_not_found=False)
        if not account:
            self.skipTest("no demo data")
        channels = self.env["discuss.channel"].search([("wechat_member_id.account_id", "=", account.id)])
        self.assertEqual(len(channels), 2)
        self.assertEqual(len(channels.filtered("wechat_waiting_since")), 1, "one waits for a reply")
        self.assertEqual(len(channels.filtered("wechat_first_response_uid")), 1, "one was answered")
