from odoo.tests import TransactionCase, tagged

STAGES = ["scanned", "followed", "member", "first_purchase", "repeat_purchase"]
GROUPINGS = [
    [],
    ["company_id"],
    ["channel_type"],
    ["channel_id"],
    ["store_id"],
    ["store_id", "channel_id"],
    ["date:month"],
    ["date:month", "channel_id"],
]


@tagged("post_install", "-at_install")
class TestDemoData(TransactionCase):
    """The demo tells a consistent story: a retailer in yuan whose acquisition funnel narrows at every stage."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls.env.ref("wechat_member.demo_account", raise_if_not_found=False)

    def setUp(self):
        super().setUp()
        if not self.account:
            self.skipTest("installed without demo data: no demo account (wechat_member.demo_account)")

    def test_company(self):
        company = self.account.company_id
        self.assertEqual(company, self.env.ref("wechat_member.demo_company"))
        self.assertEqual(company.currency_id.name, "CNY")
        self.assertEqual(company.partner_id.tz, "Asia/Shanghai")
        self.assertEqual(company.country_id.code, "CN")
        self.assertTrue(company.logo)
        stores = self.env.ref("wechat_member.demo_pos_shanghai") | self.env.ref("wechat_member.demo_pos_beijing")
        self.assertEqual(stores.currency_id.mapped("name"), ["CNY"])
        self.assertEqual(stores.pricelist_id.currency_id.mapped("name"), ["CNY"])
        self.assertEqual(stores.company_id, company)

    def test_funnel_narrows(self):
        Funnel = self.env["wechat.referral.funnel"]
        domain = [("account_id", "=", self.account.id)]
        [totals] = Funnel._read_group(domain, [], [f"{stage}:sum" for stage in STAGES])
        self.assertTrue(all(totals[:3]), f"scanned, followed and members are counted: {totals}")
        self.assertTrue(totals[3] and totals[4], f"the demo members bought, some twice: {totals}")
        for groupby in GROUPINGS:
            for row in Funnel._read_group(domain, groupby, [f"{stage}:sum" for stage in STAGES]):
                groups, values = row[: len(groupby)], row[len(groupby) :]
                counts = dict(zip(STAGES, values, strict=True))
                for upper, lower in zip(STAGES, STAGES[1:], strict=False):
                    self.assertGreaterEqual(
                        counts[upper], counts[lower], f"{lower} ≤ {upper} by {groupby} in {groups}: {counts}"
                    )

    def test_members_story(self):
        members = self.env["wechat.member"].search([("account_id", "=", self.account.id)])
        self.assertGreaterEqual(len(members), 30)
        self.assertFalse(members.filtered(lambda m: not m.tag_ids), "every demo member has a tag")
        self.assertFalse(members.filtered(lambda m: not m.channel_id), "every demo member came through a QR channel")
        follows = self.env["wechat.event"].search([("account_id", "=", self.account.id), ("event", "=", "subscribe")])
        self.assertEqual(members - follows.member_id, members.browse(), "every demo member has a follow event")
        campaign = self.env.ref("wechat_member.demo_campaign_member_day")
        self.assertEqual(campaign.state, "done")
        self.assertTrue(campaign.recipient_ids)
        self.assertEqual(campaign.total_count, sum(campaign.chunk_ids.mapped("member_count")))
        self.assertGreater(campaign.sent_count, 0)
        self.assertGreater(campaign.error_count, 0)
        self.assertEqual(campaign.processed_count, campaign.total_count, "the form's progress bar is full")
        referrals = self.env["wechat.referral"].search([("account_id", "=", self.account.id)])
        self.assertGreaterEqual(len(referrals), 2)
        self.assertIn("rewarded", referrals.mapped("state"))
