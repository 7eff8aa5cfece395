"""Trust at the callback and on the member pages: forged, replayed or hostile requests get a 4xx."""

import logging
import socket
import time
from unittest.mock import patch
from urllib.parse import parse_qs, urlsplit

import requests

from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..controllers import main as callback_main
from ..controllers import member_page
from .common import WeChatCase, WeChatHttpCase
from .test_webhook import signed_query

CONTROLLER_LOGGER = "odoo.addons.wechat_member.controllers.main"


def event_xml(openid, content="hello", msg_id="1"):
    return (
        f"<xml><ToUserName>gh_test</ToUserName><FromUserName>{openid}</FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType>text</MsgType>"
        f"<Content>{content}</Content><MsgId>{msg_id}</MsgId></xml>"
    ).encode()


@tagged("post_install", "-at_install")
class TestTrustCallback(WeChatHttpCase):
    def url(self, query):
        return f"/wechat/callback/{self.account.id}?{query}"

    def events(self, openid):
        return self.env["wechat.event"].search([("account_id", "=", self.account.id), ("openid", "=", openid)])

    @mute_logger(CONTROLLER_LOGGER)
    def test_signature_used_once_per_nonce(self):
        query = signed_query("cbtoken", nonce="replay0001")
        body = event_xml("oReplayNonce0000000000000001", msg_id="111")
        self.assertEqual(self.url_open(self.url(query), data=body).status_code, 200)
        # WeChat's own retry: same signed URL, same body: answered (the event is deduplicated).
        self.assertEqual(self.url_open(self.url(query), data=body).status_code, 200)
        # The same signature/timestamp/nonce with another body: a replay.
        forged = event_xml("oReplayNonce0000000000000002", content="积分", msg_id="222")
        self.assertEqual(self.url_open(self.url(query), data=forged).status_code, 403)
        self.assertFalse(self.events("oReplayNonce0000000000000002"), "nothing of the replay is processed")
        self.assertEqual(len(self.events("oReplayNonce0000000000000001")), 1)
        # The URL check too: one echostr per nonce.
        query = signed_query("cbtoken", nonce="replay0002")
        self.assertEqual(self.url_open(self.url(query) + "&echostr=abc").text, "abc")
        self.assertEqual(self.url_open(self.url(query) + "&echostr=xyz").status_code, 403)
        # The nonces are kept in the database, and purged once out of the window.
        Nonce = self.env["wechat.callback.nonce"]
        self.assertEqual(Nonce.search_count([("account_id", "=", self.account.id)]), 2)
        self.env.cr.execute("UPDATE wechat_callback_nonce SET used_at = used_at - INTERVAL '2 hours'")
        Nonce._cron_purge()
        self.assertFalse(Nonce.search_count([("account_id", "=", self.account.id)]))

    @mute_logger(CONTROLLER_LOGGER)
    def test_non_ascii_values_are_refused_not_crashing(self):
        body = event_xml("oNonAscii00000000000000000001")
        timestamp = str(int(time.time()))
        for query in (
            f"signature=签名&timestamp={timestamp}&nonce=n1",
            "signature=abc&timestamp=١٧٠٠٠٠٠٠٠٠&nonce=n1",
            f"signature=abc&timestamp={timestamp}&nonce=随机",
            f"signature=%FF%FE&timestamp={timestamp}&nonce=n1",
        ):
            self.assertEqual(self.url_open(self.url(query), data=body).status_code, 403, query)
            self.assertEqual(self.url_open(self.url(query) + "&echostr=x").status_code, 403, query)
        query = signed_query("cbtoken", nonce="nonascii1") + "&encrypt_type=aes&msg_signature=签名"
        self.assertIn(self.url_open(self.url(query), data=body).status_code, (400, 403))

    @mute_logger(CONTROLLER_LOGGER)
    def test_empty_callback_token(self):
        with self.assertRaises(ValidationError):
            self.account.callback_token = ""
        with self.assertRaises(ValidationError):
            self.account.callback_token = "   "
        # A blank token that reached the database anyway signs nothing: sha1 over ("", timestamp, nonce).
        self.env.cr.execute("UPDATE wechat_account SET callback_token = '' WHERE id = %s", [self.account.id])
        self.account.invalidate_recordset()
        query = signed_query("", nonce="emptytok1")
        self.assertEqual(self.url_open(self.url(query) + "&echostr=x").status_code, 403)
        self.assertEqual(
            self.url_open(self.url(query), data=event_xml("oEmptyTok0000000000000000001")).status_code, 403
        )

    def _raw(self, query, head_chunks, finish=True, timeout=5):
        """POST a chunked body (no Content-Length) on a raw socket; returns the status line."""
        sock = socket.create_connection(("127.0.0.1", self.http_port()), timeout=timeout)
        try:
            sock.sendall(
                f"POST {self.url(query)} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\n"
                "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n".encode()
            )
            for chunk in head_chunks:
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            if finish:
                sock.sendall(b"0\r\n\r\n")
            data = b""
            while b"\r\n" not in data:
                part = sock.recv(4096)
                if not part:
                    break
                data += part
            return data.split(b"\r\n", 1)[0].decode()
        finally:
            sock.close()

    @mute_logger(CONTROLLER_LOGGER)
    def test_chunked_body(self):
        # A chunked body within the limit is read and processed.
        body = event_xml("oChunked000000000000000000001", msg_id="333")
        resp = requests.post(
            self.base_url() + self.url(signed_query("cbtoken", nonce="chunk0001")),
            data=iter([body[:40], body[40:]]),
            headers={"Content-Type": "text/xml"},
            timeout=10,
        )
        self.assertEqual(resp.status_code, 200)
        self.assertEqual(len(self.events("oChunked000000000000000000001")), 1)
        # Without a length to check first, a body is read up to the limit, then refused (never read whole):
        # the body never ends, so an answer at all (before the socket's timeout) means it did not wait for it.
        status = self._raw(signed_query("cbtoken", nonce="chunk0002"), [b"<xml>" + b"a" * 8192] * 9, finish=False)
        self.assertIn(" 400 ", status, "answered without waiting for the end of the body")
        # The signature is checked before the body is read: a bad one is refused while the body never ends.
        status = self._raw(signed_query("wrong", nonce="chunk0003"), [b"<xml>"], finish=False)
        self.assertIn(" 403 ", status)

    def test_query_string_not_in_access_log(self):
        query = signed_query("cbtoken", nonce="logged0001") + "&openid=oSecretOpenid0000000000000001"
        # Installed at import on werkzeug's logger, which writes the request lines ("GET /path?query HTTP/1.1").
        werkzeug_filters = logging.getLogger("werkzeug").filters
        self.assertTrue(any(isinstance(f, callback_main._StripCallbackQuery) for f in werkzeug_filters))
        # The filter itself, on werkzeug's request line.
        record = logging.LogRecord(
            "werkzeug",
            logging.INFO,
            __file__,
            1,
            '127.0.0.1 - - [x] "%s" %s %s',
            (f"POST /wechat/callback/1?{query} HTTP/1.1", "200", "-"),
            None,
        )
        callback_main._StripCallbackQuery().filter(record)
        self.assertEqual(record.getMessage(), '127.0.0.1 - - [x] "POST /wechat/callback/1?[hidden] HTTP/1.1" 200 -')
        record = logging.LogRecord(
            "werkzeug",
            logging.INFO,
            __file__,
            1,
            '"%s" %s %s',
            ("GET /wechat/oauth/1?code=secretcode&state=secretstate HTTP/1.1", "400", "-"),
            None,
        )
        callback_main._StripCallbackQuery().filter(record)
        self.assertNotIn("secret", record.getMessage())
        record = logging.LogRecord(
            "werkzeug",
            logging.INFO,
            __file__,
            1,
            '"%s" %s %s',
            ("GET /wechat/member/1?lang=en HTTP/1.1", "200", "-"),
            None,
        )
        callback_main._StripCallbackQuery().filter(record)
        self.assertIn("lang=en", record.getMessage(), "other pages keep their query string")


@tagged("post_install", "-at_install")
class TestTrustSafeMode(WeChatHttpCase):
    encrypt_mode = "safe"
    appid = "wxtrustsafe0000001"

    @mute_logger(CONTROLLER_LOGGER)
    def test_plaintext_refused_in_safe_mode(self):
        openid = "oSafePlain000000000000000001"
        resp = self.url_open(
            f"/wechat/callback/{self.account.id}?{signed_query('cbtoken', nonce='safe0001')}",
            data=event_xml(openid, content="积分"),
        )
        self.assertEqual(resp.status_code, 400, "safe mode means encrypted")
        self.assertFalse(self.env["wechat.event"].search([("openid", "=", openid)]))
        resp = self.sim.follow(openid=openid)
        self.assertEqual(resp.status_code, 200)
        self.assertIn("<Encrypt>", resp.text)
        self.assertNotIn("Welcome", resp.text, "nothing in clear")


@tagged("post_install", "-at_install")
class TestTrustCompatibleMode(WeChatHttpCase):
    encrypt_mode = "compatible"
    appid = "wxtrustcompat00001"

    def test_compatible_mode_accepts_both(self):
        resp = self.sim.follow(openid="oCompatAes000000000000000001")
        self.assertEqual(resp.status_code, 200)
        self.assertIn("<Encrypt>", resp.text, "an encrypted message gets an encrypted reply")
        self.assertIn("Welcome", resp.reply["Content"])
        resp = self.url_open(
            f"/wechat/callback/{self.account.id}?{signed_query('cbtoken', nonce='compat01')}",
            data=event_xml("oCompatPlain0000000000000001", content="积分"),
        )
        self.assertEqual(resp.status_code, 200)
        self.assertTrue(self.env["wechat.event"].search([("openid", "=", "oCompatPlain0000000000000001")]))


@tagged("post_install", "-at_install")
class TestTrustOAuth(WeChatHttpCase):
    def start_login(self, session=None):
        """Open the member page without a session: the redirect to WeChat and the way back (code, state)."""
        get = (session or self.opener).get
        resp = get(f"{self.base_url()}/wechat/member/{self.account.id}?lang=en", allow_redirects=False, timeout=10)
        self.assertEqual(resp.status_code, 303)
        back = requests.get(resp.headers["Location"], allow_redirects=False, timeout=10).headers["Location"]
        query = parse_qs(urlsplit(back).query)
        return back, query["code"][0], query["state"][0]

    def members(self, openid):
        return self.env["wechat.member"].search([("account_id", "=", self.account.id), ("openid", "=", openid)])

    def test_state_bound_to_the_browser_and_used_once(self):
        openid = "oLoginCsrf000000000000000001"
        self.fake.set_browser_user(self.appid, openid)
        back, code, state = self.start_login()
        self.assertNotIn("/wechat/", state, "the state is a random nonce, the return path stays in the session")
        # The victim's browser opens the attacker's code: no such state in its session, nobody signed in.
        other = requests.Session()
        resp = other.get(back, timeout=10)
        self.assertEqual(resp.status_code, 400)
        self.assertFalse(self.members(openid), "the code was not even exchanged")
        resp = other.get(f"{self.base_url()}/wechat/member/{self.account.id}", allow_redirects=False, timeout=10)
        self.assertEqual(resp.status_code, 303, "still not signed in")
        # The browser that started the login is signed in, once.
        resp = self.url_open(back)
        self.assertEqual(resp.status_code, 200)
        self.assertIn(self.members(openid).partner_id.wechat_member_code, resp.text)
        self.assertEqual(self.url_open(back).status_code, 400, "a replayed state is refused")

    def test_expired_and_hostile_states(self):
        self.fake.set_browser_user(self.appid, "oLoginExpired000000000000001")
        with patch.object(member_page, "STATE_TTL", -1):
            back, __, __ = self.start_login()
        self.assertEqual(self.url_open(back).status_code, 400, "an expired state is refused")
        for state in ("签名", "%FF%FE", "/wechat/member/1|forged", "x" * 500):
            resp = self.url_open(f"/wechat/oauth/{self.account.id}?code=abc&state={state}")
            self.assertEqual(resp.status_code, 400, state)
            resp = self.url_open(f"/wechat/oauth/{self.account.id}?code=码&state={state}")
            self.assertEqual(resp.status_code, 400, state)
        self.assertFalse(self.members("oLoginExpired000000000000001"))

    def test_bad_codes_throttled_per_address(self):
        self.fake.set_browser_user(self.appid, "oThrottle0000000000000000001")
        for i in range(5):
            __, __, state = self.start_login()
            resp = self.url_open(f"/wechat/oauth/{self.account.id}?code=guessed{i}&state={state}")
            self.assertEqual(resp.status_code, 400)
        back, __, __ = self.start_login()
        resp = self.url_open(back)
        self.assertEqual(resp.status_code, 429, "even a good code waits after 5 failures in 10 minutes")
        self.assertFalse(self.members("oThrottle0000000000000000001"))
        # Once the failures are older than the window, the address is let through again.
        self.env.cr.execute("UPDATE wechat_oauth_failure SET used_at = used_at - INTERVAL '11 minutes'")
        self.env["wechat.oauth.failure"]._cron_purge()
        self.assertFalse(self.env["wechat.oauth.failure"].search_count([]))
        back, __, __ = self.start_login()
        self.assertEqual(self.url_open(back).status_code, 200)


@tagged("post_install", "-at_install")
class TestTrustClicks(WeChatHttpCase):
    def test_one_click_per_member_or_browser(self):
        campaign = self.env["wechat.campaign"].create(
            {
                "name": "Spring",
                "account_id": self.account.id,
                "text_content": "Spring sale",
                "link_url": "https://shop.example.com/spring",
            }
        )
        path = campaign._click_url().replace(campaign.get_base_url(), "")
        for __ in range(3):
            resp = self.url_open(path, allow_redirects=False)
            self.assertEqual(resp.status_code, 303)
        campaign.invalidate_recordset()
        self.assertEqual(campaign.click_count, 1, "one browser, one click")
        # A client that drops cookies is still one visitor.
        for __ in range(3):
            requests.get(
                self.base_url() + path,
                allow_redirects=False,
                timeout=10,
                headers={"User-Agent": self.opener.headers["User-Agent"]},
            )
        campaign.invalidate_recordset()
        self.assertEqual(campaign.click_count, 1)
        # Another browser counts; a signed-in member counts once whatever the browser.
        self.opener.cookies.clear()
        self.fake.set_browser_user(self.appid, "oClicker00000000000000000001")
        self.url_open(f"/wechat/member/{self.account.id}")
        self.url_open(path, allow_redirects=False)
        self.url_open(path, allow_redirects=False)
        campaign.invalidate_recordset()
        self.assertEqual(campaign.click_count, 2)
        self.assertEqual(self.url_open(f"/wechat/c/{campaign.id}/签名", allow_redirects=False).status_code, 404)


@tagged("post_install", "-at_install")
class TestTrustMemberCodes(WeChatCase):
    def test_member_codes_random_and_scannable(self):
        Partner = self.env["res.partner"]
        codes = Partner._wechat_new_member_codes(50)
        self.assertEqual(len(set(codes)), 50)
        for code in codes:
            self.assertRegex(code, r"^WM\d{10}$")
        numbers = sorted(int(c[2:]) for c in codes)
        self.assertGreater(max(b - a for a, b in zip(numbers, numbers[1:], strict=False)), 1000, "not sequential")
        members = self.env["wechat.member"]
        members._bulk_create(self.account, [f"oBulkCode{i:019d}" for i in range(5)])
        bulk = members.search([("openid", "like", "oBulkCode")])
        self.assertEqual(len(bulk), 5)
        for code in bulk.partner_id.mapped("wechat_member_code"):
            self.assertRegex(code, r"^WM\d{10}$")
        partner = Partner.create({"name": "Walk-in"})
        partner._wechat_ensure_member_code()
        self.assertRegex(partner.wechat_member_code, r"^WM\d{10}$")
        parsed = self.env.ref("barcodes.default_barcode_nomenclature").parse_barcode(partner.wechat_member_code)
        self.assertEqual(parsed["type"], "client", "the till scans it as a customer")
        # A code already taken is drawn again.
        taken = partner.wechat_member_code
        with patch("secrets.randbelow", side_effect=[int(taken[2:]), 1234567890]):
            self.assertEqual(Partner._wechat_new_member_codes(1), ["WM1234567890"])
