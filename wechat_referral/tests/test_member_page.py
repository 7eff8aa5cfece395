from odoo.tests import tagged

from odoo.addons.wechat_member.tests.common import WeChatHttpCase

from .common import ReferralProgramMixin

OPENID_A = "oPageRefA0000000000000000001"
OPENID_B = "oPageRefB0000000000000000001"
OPENID_C = "oPageRefC0000000000000000001"


@tagged("post_install", "-at_install")
class TestReferralPages(ReferralProgramMixin, WeChatHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_referral_program(cls.account.company_id)

    def test_follow_through_referral_qr_and_share_link(self):
        self.sim.follow(openid=OPENID_A)
        a = self.member(OPENID_A)
        # A's member page shows the personal QR code and the share link.
        self.fake.set_browser_user(self.appid, OPENID_A)
        page = self.url_open(f"/wechat/member/{self.account.id}?lang=en")
        self.assertEqual(page.status_code, 200)
        channel = a._referral_channel(create=False)
        self.assertTrue(channel.qr_image, "generated on demand by the member page")
        self.assertIn("Invite friends", page.text)
        self.assertIn('id="wm-referral-qr"', page.text)
        self.assertIn(a._referral_url(), page.text)
        ids = [page.text.index(f'id="{html_id}"') for html_id in ("wm-points", "wm-referral", "wm-profile")]
        self.assertEqual(ids, sorted(ids), "the section sits between the points and the details form")

        # B follows through A's QR code (the fake pushes a signed subscribe with qrscene_<scene>).
        resp = self.sim.follow(openid=OPENID_B, scene=channel.scene)
        self.assertEqual(resp.status_code, 200)
        b = self.member(OPENID_B)
        referral_b = self.referral(b)
        self.assertRecordValues(referral_b, [{"referrer_member_id": a.id, "state": "pending", "source": "qr"}])
        self.assertIn(referral_b.welcome_card_id.code, resp.reply["Content"], "the friend hears of the perk")

        # C opens A's share link in WeChat: a silent OAuth makes C a member attributed to A.
        self.url_open("/web/session/logout")
        self.fake.set_browser_user(self.appid, OPENID_C)
        page = self.url_open(a._referral_url().split(self.base_url(), 1)[-1] + "?lang=en")
        self.assertEqual(page.status_code, 200)
        c = self.member(OPENID_C)
        self.assertEqual(c.state, "visitor")
        self.assertRecordValues(self.referral(c), [{"referrer_member_id": a.id, "state": "pending", "source": "link"}])
        self.assertFalse(self.referral(c).welcome_card_id, "no perk for a page visit alone")
        # Opening it again changes nothing.
        self.url_open(a._referral_url().split(self.base_url(), 1)[-1])
        self.assertEqual(self.env["wechat.referral"].search_count([("referee_member_id", "=", c.id)]), 1)
        # C follows: the welcome perk that waited for the follow, on C's page.
        resp = self.sim.follow(openid=OPENID_C)
        self.assertEqual(resp.status_code, 200)
        self.assertTrue(self.referral(c).welcome_card_id)
        page = self.url_open(f"/wechat/member/{self.account.id}?lang=en")
        self.assertIn(self.referral(c).welcome_card_id.code, page.text, "C's page shows the welcome code")

        # A sees both friends.
        self.url_open("/web/session/logout")
        self.fake.set_browser_user(self.appid, OPENID_A)
        page = self.url_open(f"/wechat/member/{self.account.id}?lang=en")
        self.assertIn('id="wm-referral-invited">2<', page.text)

    def test_share_link_to_existing_member_does_not_count(self):
        openid_a, openid_b = OPENID_A.replace("A0", "A2"), OPENID_B.replace("B0", "B2")
        self.sim.follow(openid=openid_a)
        self.sim.follow(openid=openid_b)
        a, b = self.member(openid_a), self.member(openid_b)
        self.fake.set_browser_user(self.appid, openid_b)
        self.url_open(a._referral_url().split(self.base_url(), 1)[-1])
        self.assertRecordValues(self.referral(b), [{"state": "rejected", "reject_reason": "existing"}])
        resp = self.url_open(f"/wechat/r/{self.account.id}/{a.id}-forged")
        self.assertEqual(resp.status_code, 404)
