from odoo.tests import tagged

from .common import WeChatCase


@tagged("post_install", "-at_install")
class TestCampaignReach(WeChatCase):
    """Before a mass send: the followers it reaches (within the monthly cap of 4 and the budget), and the rest."""

    def member(self, state="follower"):
        openid = self.fake_account.add_follower() if state == "follower" else self.fake_account.add_nonfollower()
        return self.env["wechat.member"]._get_or_create(self.account, openid, state=state)[0]

    def reach(self, campaign):
        campaign.invalidate_recordset(["reach_summary", "reach_count", "unreachable_count"])
        return campaign.reach_count, campaign.unreachable_count, campaign.reach_summary

    def test_reach_of_a_mass_send(self):
        Log = self.env["wechat.message.log"]
        self.account.budget_per_week = 2
        ok = self.member() | self.member()
        capped, budget, gone = self.member(), self.member(), self.member("unfollowed")
        for __ in range(4):
            Log._log(self.account, capped.ids, "mass")
        Log._log(self.account, budget.ids, "cs")
        Log._log(self.account, budget.ids, "cs")
        Log._log(self.account, ok.ids, "notice")  # transactional notices count against nothing
        members = ok | capped | budget | gone
        segment = self.env["wechat.segment"].create(
            {
                "name": "All four",
                "account_id": self.account.id,
                "followers_only": False,
                "domain": f"[('id', 'in', {members.ids})]",
            }
        )
        campaign = self.env["wechat.campaign"].create(
            {
                "name": "Spring",
                "account_id": self.account.id,
                "audience": "segment",
                "segment_id": segment.id,
                "text_content": "Spring is here",
            }
        )
        self.assertEqual(
            self.reach(campaign),
            (
                2,
                3,
                "Mass send 2 · not reachable 3 (not following 1, over WeChat's 4 a month 1, over the contact "
                "budget 1)",
            ),
        )
        campaign.audience = "all"
        self.assertEqual(self.reach(campaign)[:2], (2, 2), "all followers: the unfollowed one is not in it")
        # It is what the send excludes.
        campaign.audience = "segment"
        campaign._prepare()
        self.assertEqual(
            (campaign.recipient_count, campaign.excluded_quota_count, campaign.excluded_budget_count), (2, 1, 1)
        )
        campaign.state = "done"
        self.assertEqual(self.reach(campaign), (0, 0, False), "no reach shown once sent")
