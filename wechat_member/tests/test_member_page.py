from odoo.tests import tagged

from .common import WeChatHttpCase


@tagged("post_install", "-at_install")
class TestMemberPage(WeChatHttpCase):
    def test_oauth_visit_creates_member_and_shows_code(self):
        openid = "oPageVisitor0000000000000001"
        self.fake.set_browser_user(self.appid, openid)
        resp = self.url_open(f"/wechat/member/{self.account.id}?lang=en")
        self.assertEqual(resp.status_code, 200)
        member = self.env["wechat.member"].search([("openid", "=", openid)])
        self.assertEqual(member.state, "visitor", "a page visitor who never followed")
        self.assertIn(member.partner_id.wechat_member_code, resp.text)
        self.assertIn("data:image/png;base64", resp.text)
        # The session remembers the openid: no second OAuth round trip.
        before = len(self.calls_to("/sns/oauth2/access_token"))
        self.url_open(f"/wechat/member/{self.account.id}")
        self.assertEqual(len(self.calls_to("/sns/oauth2/access_token")), before)

    def test_profile_form_validates_and_saves(self):
        openid = "oPageForm0000000000000000001"
        self.fake.set_browser_user(self.appid, openid)
        page = self.url_open(f"/wechat/member/{self.account.id}?lang=en")
        csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        url = f"/wechat/member/{self.account.id}/profile"
        resp = self.url_open(url, data={"csrf_token": csrf, "phone": "abc", "birthday": "2999-01-01", "consent": "1"})
        self.assertIn("valid phone", resp.text)
        self.assertIn("valid birthday", resp.text)
        resp = self.url_open(url, data={"csrf_token": csrf, "phone": "13800138000"})
        self.assertIn("Please agree", resp.text)
        partner = self.env["wechat.member"].search([("openid", "=", openid)]).partner_id
        self.assertFalse(partner.phone, "nothing saved without consent")
        resp = self.url_open(
            url,
            data={
                "csrf_token": csrf,
                "phone": "+86 138 0013 8000",
                "birthday": "1988-05-20",
                "gender": "female",
                "city": "杭州",
                "consent": "1",
            },
        )
        self.assertEqual(resp.status_code, 200)
        self.assertIn("saved", resp.text)
        partner.invalidate_recordset()
        self.assertEqual(partner.phone, "+86 138 0013 8000")
        self.assertEqual(str(partner.wechat_birthday), "1988-05-20")
        self.assertEqual(partner.wechat_gender, "female")
        self.assertEqual(partner.city, "杭州")
        self.assertTrue(partner.wechat_consent)

    def test_forged_oauth_state_refused(self):
        resp = self.url_open(f"/wechat/oauth/{self.account.id}?code=abc&state=/wechat/member/1|forged")
        self.assertEqual(resp.status_code, 400)
        self.assertFalse(self.env["wechat.member"].search([("account_id", "=", self.account.id)]))

    def test_member_page_tour_on_a_phone(self):
        openid = "oPageTour0000000000000000001"
        self.fake.set_browser_user(self.appid, openid)
        self.browser_size = "375x812"
        self.start_tour(f"/wechat/member/{self.account.id}?lang=en", "wechat_member_page_tour")
        partner = self.env["wechat.member"].search([("openid", "=", openid)]).partner_id
        self.assertEqual(partner.city, "Suzhou")
        self.assertTrue(partner.wechat_consent)
