from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestDemoWallets(TransactionCase):
    def test_demo_wallets(self):
        campaign = self.env.ref("wechat_coupon.demo_coupon_campaign", raise_if_not_found=False)
        if not campaign:
            self.skipTest("installed without demo data: no demo coupon campaign (wechat_coupon.demo_coupon_campaign)")
        self.assertEqual(campaign.state, "issued")
        cards = campaign.card_ids
        self.assertTrue(cards.partner_id.wechat_member_ids, "the coupons are in members' wallets")
        self.assertEqual(campaign.issued_count, len(cards))
        self.assertEqual(campaign.claimed_count, 3)
        self.assertEqual(campaign.redeemed_count, 1)
        self.assertIn(cards.filtered("wechat_redeem_order_id").wechat_redeem_order_id.state, ("paid", "done"))
        self.assertEqual(campaign.company_id.currency_id.name, "CNY")
