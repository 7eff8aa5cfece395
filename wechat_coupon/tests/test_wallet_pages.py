from odoo.tests import tagged
from odoo.tests.common import Opener

from .common import CouponHttpCase


@tagged("post_install", "-at_install")
class TestWalletPages(CouponHttpCase):
    def browse_as(self, openid):
        """A new WeChat browser (own session) for ``openid``."""
        self.fake.set_browser_user(self.appid, openid)
        self.opener = Opener(self.cr)

    @staticmethod
    def csrf(resp):
        return resp.text.split('name="csrf_token" value="')[1].split('"')[0]

    def test_wallet_through_oauth_shows_code_and_qr(self):
        member = self.make_member()
        campaign = self.make_campaign(member)
        campaign.action_issue()
        card = campaign.card_ids
        self.browse_as(member.openid)
        resp = self.url_open(f"/wechat/coupons/{self.account.id}?lang=en")
        self.assertEqual(resp.status_code, 200)
        self.assertTrue(self.calls_to("/sns/oauth2/access_token"), "identified by OAuth")
        self.assertIn(card.code, resp.text)
        self.assertIn("data:image/png;base64", resp.text)
        self.assertIn("My points", resp.text)
        card.invalidate_recordset()
        self.assertTrue(card.wechat_claim_date, "seen in the wallet")
        # The member page has a "My coupons" section.
        page = self.url_open(f"/wechat/member/{self.account.id}?lang=en")
        self.assertIn("wc-member-coupons", page.text)
        ids = [page.text.index(f'id="{html_id}"') for html_id in ("wm-points", "wc-member-coupons", "wm-profile")]
        self.assertEqual(ids, sorted(ids), "the section sits between the points and the details form")
        self.assertIn(f"/wechat/coupons/{self.account.id}", page.text)

    def test_claim_page_claims_once(self):
        campaign = self.make_campaign(audience="claim", claim_enabled=True, claim_limit=10)
        campaign.action_issue()
        openid = "oClaimPage000000000000000001"
        self.browse_as(openid)
        url = f"/wechat/coupons/{self.account.id}/claim/{campaign.id}"
        page = self.url_open(url + "?lang=en")
        self.assertIn("wc-claim-form", page.text)
        resp = self.url_open(url, data={"csrf_token": self.csrf(page)})
        self.assertEqual(resp.status_code, 200)
        self.assertIn("wc-claimed", resp.text)
        member = self.env["wechat.member"].search([("openid", "=", openid)])
        card = self.env["loyalty.card"].search([("wechat_campaign_id", "=", campaign.id)])
        self.assertEqual(card.partner_id, member.partner_id)
        self.assertIn(card.code, resp.text)
        again = self.url_open(url, data={"csrf_token": self.csrf(page)})
        self.assertEqual(again.status_code, 409)
        self.assertIn("already claimed", again.text)
        self.assertEqual(self.env["loyalty.card"].search_count([("wechat_campaign_id", "=", campaign.id)]), 1)
        campaign.invalidate_recordset()
        self.assertEqual(campaign.claim_count, 1)

    def test_forward_to_a_friend_through_the_pages(self):
        holder = self.make_member()
        campaign = self.make_campaign(holder)
        campaign.action_issue()
        card = campaign.card_ids
        old_code = card.code
        self.browse_as(holder.openid)
        wallet = self.url_open(f"/wechat/coupons/{self.account.id}?lang=en")
        link = wallet.text.split('class="wc-forward" href="')[1].split('"')[0]
        own = self.url_open(link)
        self.assertIn("wc-share-hint", own.text)
        # The friend opens the link: becomes a member, accepts.
        friend_openid = "oFriend0000000000000000000001"
        self.browse_as(friend_openid)
        page = self.url_open(link + "?lang=en")
        self.assertIn("wc-gift-form", page.text)
        friend = self.env["wechat.member"].search([("openid", "=", friend_openid)])
        self.assertTrue(friend, "the friend became a member")
        resp = self.url_open(link, data={"csrf_token": self.csrf(page)})
        self.assertEqual(resp.status_code, 200)
        self.assertIn("wc-received", resp.text)
        card.invalidate_recordset()
        self.assertEqual(card.partner_id, friend.partner_id)
        self.assertIn(card.code, resp.text)
        self.assertNotEqual(card.code, old_code)
        self.assertEqual(self.env["wechat.coupon.transfer"].search_count([("card_id", "=", card.id)]), 1)
        # The holder no longer has it; the link cannot be used again.
        self.browse_as(holder.openid)
        wallet = self.url_open(f"/wechat/coupons/{self.account.id}?lang=en")
        self.assertNotIn(card.code, wallet.text)
        self.assertNotIn(old_code, wallet.text)
        self.browse_as("oThirdFriend00000000000000001")
        reused = self.url_open(link + "?lang=en")
        self.assertEqual(reused.status_code, 403)
        self.assertIn("already been passed on", reused.text)

    def test_forged_link_refused(self):
        holder = self.make_member()
        campaign = self.make_campaign(holder)
        campaign.action_issue()
        card = campaign.card_ids
        self.browse_as("oForger00000000000000000000001")
        url = f"/wechat/coupons/{self.account.id}/gift/{card.id}/{'f' * 32}"
        resp = self.url_open(url + "?lang=en")
        self.assertEqual(resp.status_code, 403)
        self.assertIn("This link is not valid", resp.text)
        page = self.url_open(f"/wechat/member/{self.account.id}")
        resp = self.url_open(url, data={"csrf_token": self.csrf(page)})
        self.assertEqual(resp.status_code, 403)
        card.invalidate_recordset()
        self.assertEqual(card.partner_id, holder.partner_id)
