from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import CouponHttpCase

FALLBACK = "No offer right now. Follow us to hear first about new offers."


@tagged("post_install", "-at_install")
class TestOffersKeyword(CouponHttpCase):
    """ "优惠" (offers), sent through the signed webhook, answers with the campaigns the member can claim now."""

    def offers_reply(self, member, keyword="优惠"):
        resp = self.sim.text(member.openid, keyword)
        self.assertEqual(resp.status_code, 200)
        return resp.reply["Content"]

    def claim_campaign(self, name, **vals):
        values = {"audience": "claim", "claim_enabled": True, "state": "issued", "name": name}
        values.update(vals)
        return self.make_campaign(**values)

    def claim_url(self, campaign):
        return f"/wechat/coupons/{campaign.account_id.id}/claim/{campaign.id}"

    def test_no_running_offer(self):
        member = self.make_member()
        self.assertEqual(self.offers_reply(member), FALLBACK)
        # Campaigns that are not claimable do not count.
        self.make_campaign(name="Draft", audience="claim", claim_enabled=True)
        self.claim_campaign("No claim page", claim_enabled=False)
        self.assertEqual(self.offers_reply(member), FALLBACK)

    def test_one_running_offer(self):
        member = self.make_member()
        until = self.account.company_id._wechat_today() + timedelta(days=10)
        campaign = self.claim_campaign("Spring sale", expiration_date=until)
        text = self.offers_reply(member)
        self.assertTrue(text.startswith("Offers running now:"), text)
        self.assertIn("Spring sale: 10% on your order", text, "what the coupon gives: the program's reward")
        self.assertIn(f"until {fields.Date.to_string(until)}", text)
        self.assertIn(f"{campaign.get_base_url()}{self.claim_url(campaign)}", text, "the claim link")
        self.assertEqual(self.offers_reply(member, "offers"), text, "every keyword of the rule answers the same")

    def test_running_offers_only(self):
        member = self.make_member()
        today = self.account.company_id._wechat_today()
        running = self.claim_campaign("Running", expiration_date=today)
        open_ended = self.claim_campaign("Open ended", claim_limit=5, claim_count=4)
        expired = self.claim_campaign("Expired", expiration_date=today - timedelta(days=1))
        sold_out = self.claim_campaign("Sold out", claim_limit=3, claim_count=3)
        claimed = self.claim_campaign("Claimed already")
        claimed._claim(member)
        ended_program = self.env["loyalty.program"].create(
            {
                "name": "Ended program",
                "program_type": "coupons",
                "date_to": today - timedelta(days=1),
                "reward_ids": [(0, 0, {"reward_type": "discount", "discount": 5, "required_points": 1})],
            }
        )
        program_ended = self.claim_campaign("Program ended", program_id=ended_program.id)
        other_company = self.env["res.company"].create({"name": "Other shop"})
        other_account = self.env["wechat.account"].create(
            {"name": "Other shop", "appid": "wxother00000000001", "company_id": other_company.id}
        )
        other_program = self.program.copy({"company_id": other_company.id})
        others = self.claim_campaign("Other company's", account_id=other_account.id, program_id=other_program.id)

        text = self.offers_reply(member)
        self.assertIn("Running: 10% on your order", text)
        self.assertIn("Open ended: 10% on your order. Claim:", text, "no end date: no 'until'")
        for campaign in (running, open_ended):
            self.assertIn(self.claim_url(campaign), text)
        for campaign in (expired, sold_out, claimed, program_ended, others):
            self.assertNotIn(campaign.name, text)
            self.assertNotIn(self.claim_url(campaign), text)
        self.assertLess(text.index("Running"), text.index("Open ended"), "the offer ending soonest comes first")

    def test_at_most_five_within_reply_limit(self):
        member = self.make_member()
        for number in range(8):
            self.claim_campaign(f"{number} " + "春季大促销" * 40)
        text = self.offers_reply(member)
        self.assertEqual(text.count("Claim:"), 5)
        self.assertLessEqual(len(text.encode()), 2048, "WeChat's limit of a text reply")
        self.assertIn("…", text, "long names are shortened")

    def test_chinese_member(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        member = self.make_member()
        member.partner_id.lang = "zh_CN"
        self.env.flush_all()  # the webhook reads the member's language from the database
        self.assertEqual(self.offers_reply(member), "暂无优惠活动。关注我们，第一时间获取最新优惠。")
        until = self.account.company_id._wechat_today() + timedelta(days=3)
        campaign = self.claim_campaign("春季特惠", expiration_date=until)
        text = self.offers_reply(member)
        self.assertTrue(text.startswith("正在进行的优惠："), text)
        self.assertIn("春季特惠：", text)
        self.assertIn(f"有效期至 {fields.Date.to_string(until)}", text)
        self.assertIn(self.claim_url(campaign), text)


@tagged("post_install", "-at_install")
class TestOffersFromDiscuss(CouponHttpCase):
    """The agent sends the coupon wallet and an offer to claim from the member card of the conversation."""

    def test_wallet_and_offer_links_sent_as_replies(self):
        from odoo.tests import new_test_user

        agent = new_test_user(
            self.env, login="cs_offer_agent", groups="base.group_user,wechat_member.group_wechat_customer_service"
        )
        member = self.make_member(window=True)
        campaign = self.make_campaign(name="Autumn sale", audience="claim", claim_enabled=True, state="issued")
        self.make_campaign(name="Draft sale", audience="claim", claim_enabled=True)
        links = {link["key"]: link for link in member._cs_links()}
        self.assertIn("wallet", links)
        self.assertIn(f"offer_{campaign.id}", links, "a claimable offer")
        self.assertEqual([k for k in links if k.startswith("offer_")], [f"offer_{campaign.id}"], "not the draft")
        channel = member.sudo()._cs_channel()
        channel.with_user(agent).wechat_send_link(f"offer_{campaign.id}")
        channel.with_user(agent).wechat_send_link("wallet")
        texts = [m["text"]["content"] for m in self.fake_account.cs_messages if m["touser"] == member.openid]
        self.assertIn(f"/wechat/coupons/{self.account.id}/claim/{campaign.id}", texts[0])
        self.assertIn("Autumn sale", texts[0])
        self.assertTrue(texts[1].endswith(f"/wechat/coupons/{self.account.id}"))
        self.assertEqual(self.fake.violations, [])
