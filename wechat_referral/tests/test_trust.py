"""Share links name only a member who signed them; a welcome perk needs a follow or a purchase."""

import re

from odoo.tests import tagged

from odoo.addons.wechat_member.tests.common import WeChatHttpCase

from .common import ReferralPosCase, ReferralProgramMixin

OPENID_A = "oTrustRefA000000000000000001"
OPENID_B = "oTrustRefB000000000000000001"
OPENID_C = "oTrustRefC000000000000000001"


@tagged("post_install", "-at_install")
class TestReferralLinkTrust(ReferralProgramMixin, WeChatHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_referral_program(cls.account.company_id)

    def page(self, token):
        resp = self.url_open(f"/wechat/r/{self.account.id}/{token}?lang=en", allow_redirects=False)
        # The page's own per-session values aside (CSRF token), two answers must be the same.
        return resp.status_code, re.sub(r'csrf_token["\':=\s]+[^"\'\s,}]+', "csrf", resp.text)

    def test_unknown_code_and_bad_signature_look_the_same(self):
        openid_a = OPENID_A.replace("A0", "A9")
        self.sim.follow(openid=openid_a)
        a = self.member(openid_a)
        good = a._referral_token()
        self.assertRegex(good, rf"^{a.id}-[0-9a-f]{{20}}$")
        self.assertEqual(self.url_open(f"/wechat/r/{self.account.id}/{good}", allow_redirects=False).status_code, 303)
        answers = {
            "member code": self.page(a.member_code),
            "unknown code": self.page("WM0000000001"),
            "bad signature": self.page(f"{a.id}-{'0' * 20}"),
            "unknown member": self.page(f"{a.id + 1000}-{good.split('-')[1]}"),
            "non-ASCII": self.page(f"{a.id}-签名签名"),
            "non-ASCII digits": self.page("١٢-abc"),
        }
        first = answers["bad signature"]
        self.assertEqual(first[0], 404)
        self.assertIn("This invitation link is invalid.", first[1])
        for name, answer in answers.items():
            self.assertEqual(answer, first, name)
        self.assertFalse(self.env["wechat.referral"].search([("referrer_member_id", "=", a.id)]))
        # The OAuth way back of a bare member code names nobody either.
        Member = self.env["wechat.member"]
        self.assertFalse(Member._from_referral_token(self.account, a.member_code))
        self.assertFalse(Member._from_referral_token(self.account, f"{a.id}-签名"))

    def test_share_link_visitor_gets_the_perk_on_follow(self):
        self.sim.follow(openid=OPENID_A)
        a = self.member(OPENID_A)
        self.fake.set_browser_user(self.appid, OPENID_B)
        self.url_open(a._referral_url().split(self.base_url(), 1)[-1])
        b = self.member(OPENID_B)
        referral = self.referral(b)
        self.assertRecordValues(referral, [{"referrer_member_id": a.id, "state": "pending", "source": "link"}])
        self.assertFalse(referral.welcome_card_id, "a page visit alone earns nothing")
        resp = self.sim.follow(openid=OPENID_B)
        referral.invalidate_recordset()
        self.assertTrue(referral.welcome_card_id, "the follow brings the perk")
        self.assertIn(referral.welcome_card_id.code, resp.reply["Content"], "told in the follow's reply")


@tagged("post_install", "-at_install")
class TestReferralPerkTrust(ReferralPosCase):
    def test_share_link_visitor_gets_the_perk_on_first_purchase(self):
        self.follow(OPENID_A)
        a = self.member(OPENID_A)
        c, __ = self.env["wechat.member"]._get_or_create(self.account, OPENID_C, state="visitor")
        referral = self.env["wechat.referral"]._attribute(a, c, new_member=True, source="link")
        self.assertEqual(referral.state, "pending")
        self.assertFalse(referral.welcome_card_id, "a page visit alone earns nothing")
        self.buy(c, self.candy)  # a paid purchase, under the referral minimum
        self.assertTrue(referral.welcome_card_id, "the first paid purchase brings the perk")
        self.assertEqual(referral.welcome_card_id.partner_id, c.partner_id)
        self.assertEqual(referral.state, "pending", "the referrer's reward still needs a qualifying purchase")
        card = referral.welcome_card_id
        self.buy(c, self.candy)
        self.assertEqual(referral.welcome_card_id, card, "one perk")
