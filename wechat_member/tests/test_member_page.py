import hashlib
import json
import re
import time
from datetime import timedelta
from html import unescape
from unittest.mock import patch

from odoo import fields
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

    def test_replies_from_the_shop_shown_to_the_member_only(self):
        """A notice sent instead of a customer-service reply links to the page: the whole answer shows there."""
        openid = "oPageReplies0000000000000001"
        self.fake_account.add_follower(openid)
        member = self.env["wechat.member"]._get_or_create(self.account, openid)[0]
        channel = member._cs_channel()
        agent = self.env["res.users"].create(
            {
                "name": "Xiao Wang",
                "login": "cs_page_agent",
                "groups_id": [(6, 0, [self.env.ref("wechat_member.group_wechat_customer_service").id])],
            }
        )
        channel._wechat_post_history(
            body="<p>Your size M is back in stock on Friday</p>", message_type="comment", author_id=agent.partner_id.id
        )
        channel._wechat_post_history(
            body="<p>Member's own question</p>", author_id=member.partner_id.id, message_type="comment"
        )
        self.fake.set_browser_user(self.appid, openid)
        page = self.url_open(f"/wechat/member/{self.account.id}?lang=en").text
        self.assertIn('id="wechat-replies"', page)
        self.assertIn("Your size M is back in stock on Friday", page)
        self.assertIn("Xiao Wang", page)
        self.assertNotIn("Member&#39;s own question", page)
        self.assertNotIn("Member's own question", page)
        other = "oPageReplies0000000000000002"
        self.fake_account.add_follower(other)
        self.fake.set_browser_user(self.appid, other)
        self.url_open("/web/session/logout")
        page = self.url_open(f"/wechat/member/{self.account.id}?lang=en").text
        self.assertNotIn("back in stock", page, "another member sees none of it")
        self.assertNotIn('id="wechat-replies"', page)

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


@tagged("post_install", "-at_install")
class TestMemberPageNotifyMe(WeChatHttpCase):
    """The "Notify me" block: subscribe-notice buttons on a page signed with the account's jsapi_ticket."""

    WECHAT_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger/8.0.47 NetType/WIFI"

    def map_subscribe(self, kind_code, template_id, lines):
        self.fake_account.add_subscribe_template(template_id, keywords=tuple(k for k, __ in lines))
        return self.env["wechat.notice.template"].create(
            {
                "account_id": self.account.id,
                "kind_id": self.env["wechat.notice.kind"]._get(kind_code).id,
                "channel": "subscribe",
                "template_id": template_id,
                "line_ids": [(0, 0, {"keyword": k, "value_key": v}) for k, v in lines],
            }
        )

    def setUp(self):
        super().setUp()
        self.tickets_before = self.fake_account.jsapi_ticket_calls  # one fake per class: count from here

    def ticket_calls(self):
        return self.fake_account.jsapi_ticket_calls - self.tickets_before

    def test_jsapi_config_signature_and_ticket_cache(self):
        config = self.account._jsapi_config("http://shop.example.com/wechat/member/1?lang=zh#coupons")
        ticket = self.account.sudo().jsapi_ticket
        self.assertTrue(ticket)
        self.assertIn(ticket, self.fake.jsapi_tickets, "the ticket WeChat issued")
        self.assertEqual(self.ticket_calls(), 1)
        plain = (
            f"jsapi_ticket={ticket}&noncestr={config['nonceStr']}&timestamp={config['timestamp']}"
            "&url=http://shop.example.com/wechat/member/1?lang=zh"
        )
        self.assertEqual(config["signature"], hashlib.sha1(plain.encode()).hexdigest())
        self.assertEqual(config["appId"], self.appid)
        self.assertAlmostEqual(config["timestamp"], time.time(), delta=60)
        # Stored once, reused: a second page needs no second ticket.
        again = self.account._jsapi_config("http://shop.example.com/other")
        self.assertEqual(self.ticket_calls(), 1)
        self.assertNotEqual(again["nonceStr"], config["nonceStr"])
        # Expired: refreshed once.
        self.env.cr.execute(
            "UPDATE wechat_account SET jsapi_ticket_expires_at = %s WHERE id = %s",
            [fields.Datetime.now() - timedelta(seconds=1), self.account.id],
        )
        self.account.invalidate_recordset(["jsapi_ticket", "jsapi_ticket_expires_at"])
        self.account._jsapi_config("http://shop.example.com/other")
        self.assertEqual(self.ticket_calls(), 2)
        self.assertNotEqual(self.account.sudo().jsapi_ticket, ticket)
        self.assertGreater(self.account.sudo().jsapi_ticket_expires_at, fields.Datetime.now() + timedelta(hours=1))
        # New credentials: the ticket is gone with the token.
        self.account.appsecret = "test-secret-0002"
        self.assertFalse(self.account.sudo().jsapi_ticket)
        self.assertFalse(self.account.sudo().jsapi_ticket_expires_at)

    def test_wechat_sample_signature(self):
        """WeChat's own example (JS-SDK 附录1) gives WeChat's signature."""
        ticket = "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg"
        with (
            patch.object(type(self.account), "_get_jsapi_ticket", return_value=ticket),
            patch("secrets.token_hex", return_value="Wm3WZYTPz0wzccnW"),
            patch("time.time", return_value=1414587457),
        ):
            config = self.account._jsapi_config("http://mp.weixin.qq.com#wechat_redirect")
        self.assertEqual(config["signature"], "f4d90daf4b3bca3078ab155816175ba34c443a7b")

    def test_page_lists_mapped_kinds_with_own_optins(self):
        mapping = self.map_subscribe("points_change", "SUBpoints0001", [("number1", "points"), ("number2", "balance")])
        openid = "oPageNotify00000000000000001"
        self.fake.set_browser_user(self.appid, openid)
        page = self.url_open(f"/wechat/member/{self.account.id}?lang=en")
        member = self.env["wechat.member"].search([("openid", "=", openid)])
        other, __ = self.env["wechat.member"]._get_or_create(self.account, "oPageNotifyOther000000000001")
        Optin = self.env["wechat.notice.optin"]
        Optin._record(member, [mapping.template_id, mapping.template_id])
        Optin._record(other, [mapping.template_id] * 3)
        Optin._record(member, [mapping.template_id]).state = "used"
        page = self.url_open(f"/wechat/member/{self.account.id}?lang=en")
        self.assertEqual(page.status_code, 200)
        html = page.text
        self.assertIn('<wx-open-subscribe template="SUBpoints0001"', html)
        self.assertIn('id="wm-notify-points_change"', html)
        self.assertNotIn('id="wm-notify-pos_thanks"', html, "no mapping, no button")
        self.assertEqual(html.count("<wx-open-subscribe"), 1)
        self.assertIn("Notices left: 2", html, "the member's own available opt-ins only")
        self.assertIn('type="text/wxtag-template"', html)
        self.assertIn(f'src="{self.fake.url}/open/js/jweixin-1.6.0.js"', html, "the sandbox's JS-SDK")
        config = json.loads(unescape(re.search(r'data-wx-config="([^"]*)"', html).group(1)))
        self.assertEqual(config["openTagList"], ["wx-open-subscribe"])
        self.assertEqual(config["jsApiList"], [])
        ticket = self.account.sudo().jsapi_ticket
        plain = (
            f"jsapi_ticket={ticket}&noncestr={config['nonceStr']}&timestamp={config['timestamp']}"
            f"&url={self.base_url()}/wechat/member/{self.account.id}?lang=en"
        )
        self.assertEqual(config["signature"], hashlib.sha1(plain.encode()).hexdigest(), "signed for the page's URL")
        self.assertEqual(self.ticket_calls(), 1, "two page loads, one ticket")
        self.assertNotIn("Open this page in WeChat", html)
        # A broken mapping offers nothing.
        mapping.write({"state": "broken"})
        html = self.url_open(f"/wechat/member/{self.account.id}?lang=en").text
        self.assertNotIn("<wx-open-subscribe", html)
        self.assertNotIn('id="wm-notify"', html)
        self.assertEqual(self.fake.violations, [])

    def test_real_account_outside_wechat_needs_wechat(self):
        self.map_subscribe("points_change", "SUBpoints0002", [("number1", "points")])
        # A real account (not the sandbox) whose WeChat endpoints are the fake platform's.
        self.account.write({"sandbox": False, "api_base_url": self.fake.url, "oauth_base_url": self.fake.url})
        openid = "oPageNotifyReal0000000000001"
        self.fake.set_browser_user(self.appid, openid)
        html = self.url_open(f"/wechat/member/{self.account.id}?lang=en").text
        self.assertIn('id="wm-notify-needs-wechat"', html)
        self.assertIn("Open this page in WeChat", html)
        self.assertNotIn("<wx-open-subscribe", html)
        self.assertNotIn("jweixin", html)
        self.assertEqual(self.ticket_calls(), 0, "no ticket for a page that cannot use it")
        # The same page in WeChat's browser: the buttons and WeChat's own JS-SDK.
        html = self.url_open(f"/wechat/member/{self.account.id}?lang=en", headers={"User-Agent": self.WECHAT_UA}).text
        self.assertNotIn("Open this page in WeChat", html)
        self.assertIn('<wx-open-subscribe template="SUBpoints0002"', html)
        self.assertIn('src="https://res.wx.qq.com/open/js/jweixin-1.6.0.js"', html)
        self.assertNotIn("data-fake-openid", html, "only the sandbox tells its stand-in who the visitor is")

    def test_chinese_page(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["wechat_member"], ["zh_CN"])
        self.map_subscribe("points_change", "SUBpoints0003", [("number1", "points")])
        self.fake.set_browser_user(self.appid, "oPageNotifyZh00000000000001")
        html = self.url_open(f"/wechat/member/{self.account.id}?lang=zh").text
        self.assertIn("通知我", html)
        self.assertIn("剩余通知：0", html)
        self.assertIn("积分变动", html)
        self.assertIn("我们会通知您。", html)
