from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from odoo.addons.wechat_member.models import wechat_campaign, wechat_tag
from odoo.addons.wechat_member.tools.wechat_api import WeChatApi, WeChatError

from .common import WeChatCase, WeChatHttpCase


class CampaignCaseMixin:
    def followers(self, n):
        openids = [self.fake_account.add_follower() for __ in range(n)]
        Member = self.env["wechat.member"]
        return Member.browse([Member._get_or_create(self.account, o)[0].id for o in openids])

    def segment_of(self, members):
        return self.env["wechat.segment"].create(
            {"name": "Chosen", "account_id": self.account.id, "domain": f"[('id', 'in', {members.ids})]"}
        )

    def campaign(self, members, **values):
        vals = {
            "name": "Spring",
            "account_id": self.account.id,
            "audience": "segment",
            "segment_id": self.segment_of(members).id,
            "text_content": "春季新品 / Spring is here",
        }
        vals.update(values)
        return self.env["wechat.campaign"].create(vals)

    def send_now(self, campaign):
        """ "Send Now" queues the campaign; the campaigns cron sends it."""
        campaign.action_send_now()
        self.assertEqual(campaign.state, "scheduled", "queued, not sent by the request")
        return self.run_cron("wechat_member.ir_cron_wechat_campaigns")

    def received(self, members):
        return {m.openid: len(self.fake_account.received.get(m.openid, [])) for m in members}


@tagged("post_install", "-at_install")
class TestCampaigns(CampaignCaseMixin, WeChatCase):
    def setUp(self):
        super().setUp()
        self.account.budget_per_week = 0  # the budget has its own test

    def test_chunks_with_a_fault_resume_and_deliver_once(self):
        members = self.followers(10)
        campaign = self.campaign(members)
        real_post, sends = WeChatApi.post, []

        def busy_on_second_chunk(api_client, path, data, **params):
            if path == "message/mass/send":
                sends.append(path)
                if len(sends) == 2:
                    raise WeChatError(-1, "system busy", self.env)
            return real_post(api_client, path, data, **params)

        with patch.object(wechat_campaign, "CHUNK_SIZE", 4), patch.object(WeChatApi, "post", busy_on_second_chunk):
            self.send_now(campaign)  # chunk 1 goes, chunk 2 hits "system busy": paused
            self.assertEqual(campaign.state, "paused")
            self.assertEqual(campaign.chunk_ids.mapped("state"), ["sent", "pending", "pending"])
            self.assertEqual([c.member_count for c in campaign.chunk_ids], [4, 4, 2])
            self.assertEqual(campaign.processed_count, 4, "the progress: 4 of 10 recipients")
            self.assertIn("busy", campaign.error)
            self.assertGreater(campaign.resume_date, fields.Datetime.now() + timedelta(minutes=4))
            self.run_cron("wechat_member.ir_cron_wechat_campaigns")
            self.assertEqual(campaign.state, "paused", "WeChat said later: not before the delay")
            campaign.resume_date = fields.Datetime.now() - timedelta(seconds=1)  # five minutes later
            self.run_cron("wechat_member.ir_cron_wechat_campaigns")  # the cron resumes
        self.assertEqual(campaign.state, "done")
        self.assertEqual(campaign.processed_count, 10)
        self.assertEqual(set(self.received(members).values()), {1}, "every follower exactly once")
        self.assertEqual(self.fake.violations, [])

    def test_retry_after_crash_is_not_sent_twice(self):
        members = self.followers(3)
        campaign = self.campaign(members)
        self.send_now(campaign)
        chunk = campaign.chunk_ids
        msg_id = chunk.msg_id
        # As if the worker died after WeChat accepted the chunk but before our commit.
        chunk.write({"state": "pending", "msg_id": False})
        campaign.state = "sending"
        self.fake.advance(5)
        campaign._send()
        self.assertEqual(chunk.msg_id, msg_id, "WeChat answered 45065 with the first msg_id")
        self.assertEqual(set(self.received(members).values()), {1})

    def test_fifth_campaign_in_a_month_is_filtered(self):
        members = self.followers(3)
        for __ in range(4):
            self.send_now(self.campaign(members))
            self.fake.advance(2)
        fifth = self.campaign(members)
        with self.assertRaisesRegex(UserError, "Nobody to send to"):
            fifth.action_send_now()
        self.assertEqual(set(self.received(members).values()), {4})
        # With one member still under quota, the others are excluded and counted.
        newcomer = self.followers(2)
        fifth = self.campaign(members | newcomer)
        self.send_now(fifth)
        self.assertEqual(fifth.excluded_quota_count, 3)
        self.assertEqual(fifth.recipient_count, 2)

    def test_contact_budget(self):
        self.account.budget_per_week = 1
        members = self.followers(4)
        self.send_now(self.campaign(members[:2]))
        second = self.campaign(members)
        self.send_now(second)
        self.assertEqual(second.excluded_budget_count, 2)
        self.assertEqual(set(self.received(members[:2]).values()), {1})

    def test_holdout_is_not_sent(self):
        members = self.followers(40)
        campaign = self.campaign(members, holdout_percent=30)
        self.send_now(campaign)
        holdout = campaign.recipient_ids.filtered("holdout").member_id
        self.assertTrue(0 < len(holdout) < 40)
        self.assertEqual(campaign.holdout_count + campaign.recipient_count, 40)
        self.assertEqual(set(self.received(holdout).values()), {0})
        self.assertEqual(set(self.received(members - holdout).values()), {1})

    def test_send_by_tag(self):
        members = self.followers(3)
        tag = self.env["wechat.tag"].create(
            {"name": "VIP", "account_id": self.account.id, "member_ids": [(6, 0, members.ids)]}
        )
        tag.action_sync_to_wechat()
        campaign = self.env["wechat.campaign"].create(
            {
                "name": "VIP",
                "account_id": self.account.id,
                "audience": "tag",
                "tag_id": tag.id,
                "text_content": "VIP night",
            }
        )
        self.send_now(campaign)
        call = self.calls_to("/cgi-bin/message/mass/sendall")[-1]
        self.assertEqual(call["body"]["filter"], {"is_to_all": False, "tag_id": tag.wechat_tag_id})
        self.assertTrue(campaign.chunk_ids.by_tag)
        self.assertEqual(set(self.received(members).values()), {1})

    def test_bad_audiences_and_content(self):
        members = self.followers(2)
        with self.assertRaisesRegex(UserError, "at least 2"):
            self.campaign(members[:1]).action_send_now()
        members[1].state = "unfollowed"
        with self.assertRaisesRegex(UserError, "at least 2"):
            self.campaign(members).action_send_now()
        with self.assertRaisesRegex(UserError, "at most 600"):
            self.campaign(members, text_content="好" * 601).action_send_now()
        with self.assertRaisesRegex(UserError, "Nobody to send to"):
            self.campaign(self.env["wechat.member"]).action_send_now()
        self.assertFalse(self.calls_to("/cgi-bin/message/mass/send"), "nothing reached WeChat")

    def test_scheduled_campaign_sent_by_cron(self):
        members = self.followers(2)
        campaign = self.campaign(members, schedule_date="2000-01-01 00:00:00")
        campaign.action_schedule()
        self.assertEqual(campaign.state, "scheduled")
        self.run_cron("wechat_member.ir_cron_wechat_campaigns")
        self.assertEqual(campaign.state, "done")

    def test_send_now_only_queues_and_the_cron_sends_a_step_a_call(self):
        members = self.followers(10)
        campaign = self.campaign(members, repeat="weekly")
        later = self.campaign(members, schedule_date=fields.Datetime.now() + timedelta(days=1))
        later.action_schedule()
        sends = len(self.calls_to("/cgi-bin/message/mass/send"))
        with patch.object(wechat_campaign, "CHUNK_SIZE", 4):
            campaign.action_send_now()
            self.assertEqual(campaign.state, "scheduled")
            self.assertFalse(campaign.chunk_ids, "nothing prepared by the request")
            self.assertEqual(len(self.calls_to("/cgi-bin/message/mass/send")), sends, "nor sent")
            cron = self.env.ref("wechat_member.ir_cron_wechat_campaigns")
            progresses = []
            for __ in range(5):
                job, progress = cron._add_progress()
                job.ir_actions_server_id.run()
                progresses.append((progress.done, progress.remaining))
        # Prepared (3 chunks left), then a chunk a call; the last one finishes the send.
        self.assertEqual(progresses, [(1, 3), (1, 2), (1, 1), (1, 0), (0, 0)])
        self.assertEqual(campaign.state, "done")
        self.assertEqual(len(self.calls_to("/cgi-bin/message/mass/send")), sends + 3)
        self.assertEqual(later.state, "scheduled", "tomorrow's campaign waits")
        following = self.env["wechat.campaign"].search(
            [("account_id", "=", self.account.id), ("id", "not in", (campaign | later).ids), ("id", ">", later.id)]
        )
        self.assertEqual(following.state, "scheduled", "repeated weekly")
        self.assertEqual(following.schedule_date, campaign.schedule_date + timedelta(weeks=1))
        self.assertEqual(self.fake.violations, [])


@tagged("post_install", "-at_install")
class TestTagSync(CampaignCaseMixin, WeChatCase):
    def test_batches_of_50_resumable(self):
        members = self.followers(120)
        tag = self.env["wechat.tag"].create(
            {"name": "高价值", "account_id": self.account.id, "member_ids": [(6, 0, members.ids)]}
        )
        # WeChat is busy on the second batch: the first is kept, the rest waits for the next sync.
        real_post, batches = WeChatApi.post, []

        def flaky_post(api_client, path, data, **params):
            if path == "tags/members/batchtagging":
                batches.append(len(data["openid_list"]))
                if len(batches) == 2:
                    raise WeChatError(-1, "system busy")
            return real_post(api_client, path, data, **params)

        with patch.object(WeChatApi, "post", flaky_post):
            result = tag.action_sync_to_wechat()
            self.assertEqual(result["params"]["type"], "warning")
            self.assertEqual(len(tag.synced_member_ids), 50)
            self.assertTrue(tag.sync_error)
            tag.action_sync_to_wechat()
        self.assertEqual(batches, [50, 50, 50, 20], "ceil(120 / 50) = 3 calls once, the failed one again")
        self.assertFalse(tag.sync_error)
        self.assertEqual(self.fake_account.tag_count(tag.wechat_tag_id), 120)
        self.assertEqual(tag.pending_count, 0)
        tag.member_ids = [(3, m.id) for m in members[:10]]
        tag.action_sync_to_wechat()
        self.assertEqual(len(self.calls_to("batchuntagging")), 1)
        self.assertEqual(self.fake_account.tag_count(tag.wechat_tag_id), 110)
        self.assertEqual(self.fake.violations, [])

    def test_exact_calls_read_by_pages(self):
        """ceil(N / 50) calls each way, the pending members read a page at a time (here 100: 2 calls a page)."""
        members = self.followers(122)
        members[-2:].write({"state": "unfollowed"})  # not sent: WeChat only tags followers
        tag = self.env["wechat.tag"].create(
            {"name": "分页", "account_id": self.account.id, "member_ids": [(6, 0, members.ids)]}
        )
        self.assertEqual((tag.member_count, tag.pending_count), (122, 120))
        real_post, batches = WeChatApi.post, []

        def counting_post(api_client, path, data, **params):
            if path.startswith("tags/members/"):
                batches.append((path.split("/")[-1], len(data["openid_list"])))
            return real_post(api_client, path, data, **params)

        with patch.object(wechat_tag, "PAGE", 100), patch.object(WeChatApi, "post", counting_post):
            tag.action_sync_to_wechat()
            self.assertEqual(batches, [("batchtagging", 50), ("batchtagging", 50), ("batchtagging", 20)])
            self.assertEqual(self.fake_account.tag_count(tag.wechat_tag_id), 120)
            self.assertEqual(tag.synced_member_ids, members[:120])
            self.assertEqual(tag.pending_count, 0)
            batches.clear()
            tag.member_ids = [(3, m.id) for m in members[:110]]
            self.assertEqual(tag.pending_count, 110)
            tag.action_sync_to_wechat()
        self.assertEqual(batches, [("batchuntagging", 50), ("batchuntagging", 50), ("batchuntagging", 10)])
        self.assertEqual(self.fake_account.tag_count(tag.wechat_tag_id), 10)
        self.assertEqual((tag.member_count, tag.pending_count), (12, 0))
        self.assertEqual(self.fake.violations, [])

    def test_limits(self):
        with self.assertRaisesRegex(ValidationError, "1 to 30 bytes"):
            self.env["wechat.tag"].create({"name": "x" * 31, "account_id": self.account.id})
        member = self.followers(1)
        tags = self.env["wechat.tag"].create([{"name": f"t{i}", "account_id": self.account.id} for i in range(21)])
        with self.assertRaisesRegex(Exception, "more than 20 tags"):
            member.tag_ids = [(6, 0, tags.ids)]

    def test_existing_wechat_tag_adopted_and_imported(self):
        members = self.followers(3)
        api_client = self.account._api()
        wechat_id = api_client.post("tags/create", {"tag": {"name": "老客"}})["tag"]["id"]
        api_client.post("tags/members/batchtagging", {"openid_list": members.mapped("openid"), "tagid": wechat_id})
        tag = self.env["wechat.tag"].create({"name": "老客", "account_id": self.account.id})
        tag._ensure_wechat_tag()
        self.assertEqual(tag.wechat_tag_id, wechat_id, "45157 duplicate name: the WeChat tag is adopted")
        stranger = self.fake_account.add_follower()
        api_client.post("tags/members/batchtagging", {"openid_list": [stranger], "tagid": wechat_id})
        self.env["wechat.tag"]._sync_from_wechat(self.account)
        self.assertEqual(len(tag.member_ids), 4)
        self.assertIn(stranger, tag.member_ids.mapped("openid"), "followers only known to WeChat become members")


@tagged("post_install", "-at_install")
class TestCampaignCallbacks(CampaignCaseMixin, WeChatHttpCase):
    def test_job_finish_reaches_the_campaign(self):
        self.account.budget_per_week = 0
        members = self.followers(3)
        campaign = self.campaign(members)
        self.send_now(campaign)
        self.fake.wait_idle(10)
        campaign.chunk_ids.invalidate_recordset()
        self.assertEqual(campaign.sent_count, 3)
        self.assertEqual(campaign.total_count, 3)
        self.assertEqual(campaign.chunk_ids.wechat_status, "send success")

    def test_click_tracking(self):
        campaign = self.campaign(self.followers(2), link_url="https://shop.example.com/spring")
        url = campaign._click_url()
        self.assertIn(url, campaign._message_payload()["text"]["content"])
        resp = self.url_open(url.replace(campaign.get_base_url(), ""), allow_redirects=False)
        self.assertEqual(resp.status_code, 303)
        self.assertEqual(resp.headers["Location"], "https://shop.example.com/spring")
        campaign.invalidate_recordset()
        self.assertEqual(campaign.click_count, 1)
        resp = self.url_open(f"/wechat/c/{campaign.id}/forged", allow_redirects=False)
        self.assertEqual(resp.status_code, 404)

    def test_customer_service_message_wizard(self):
        talking, silent = self.followers(2)
        self.sim.text(talking.openid, "hello")  # opens the 48 h window
        talking.invalidate_recordset()  # written by the HTTP request
        wizard = (
            self.env["wechat.member.wizard"]
            .with_context(active_model="wechat.member", active_ids=[talking.id, silent.id])
            .create({"action": "message", "message": "Your order is ready"})
        )
        result = wizard.action_apply()
        self.assertIn("1 sent, 1 not reachable", result["params"]["message"])
        self.assertEqual(len(self.calls_to("/cgi-bin/message/custom/send")), 1)
        self.assertEqual(self.fake.violations, [])


@tagged("post_install", "-at_install")
class TestMassJobResults(CampaignCaseMixin, WeChatCase):
    def test_job_result_arriving_before_the_chunk_is_committed(self):
        self.account.budget_per_week = 0
        members = self.followers(2)
        campaign = self.campaign(members)
        real_post = WeChatApi.post

        def early_callback(api_client, path, data, **params):
            res = real_post(api_client, path, data, **params)
            if path == "message/mass/send":  # WeChat's callback beats our commit
                self.env["wechat.event"]._receive(
                    self.account,
                    {
                        "ToUserName": "gh",
                        "FromUserName": "gh",
                        "CreateTime": "1",
                        "MsgType": "event",
                        "Event": "MASSSENDJOBFINISH",
                        "MsgID": str(res["msg_id"]),
                        "Status": "send success",
                        "TotalCount": "2",
                        "FilterCount": "2",
                        "SentCount": "2",
                        "ErrorCount": "0",
                    },
                )
            return res

        with patch.object(WeChatApi, "post", early_callback):
            self.send_now(campaign)
        self.assertEqual(campaign.sent_count, 2)
        self.assertEqual(campaign.chunk_ids.wechat_status, "send success")
