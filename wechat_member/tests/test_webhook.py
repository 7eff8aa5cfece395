import hashlib
import re
import time
from types import SimpleNamespace
from unittest.mock import patch

from odoo import fields, sql_db
from odoo.modules import module as odoo_module
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from ..controllers import main as controller_module
from ..controllers.main import WeChatCallbackController
from ..models import wechat_member as wechat_member_model
from .common import WeChatHttpCase


def signed_query(token, timestamp=None, nonce="n0nce"):
    timestamp = str(timestamp or int(time.time()))
    signature = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
    return f"signature={signature}&timestamp={timestamp}&nonce={nonce}"


@tagged("post_install", "-at_install")
class TestWebhookPlain(WeChatHttpCase):
    def url(self):
        return f"/wechat/callback/{self.account.id}"

    def members(self, openid):
        return self.env["wechat.member"].search([("account_id", "=", self.account.id), ("openid", "=", openid)])

    @mute_logger("odoo.addons.wechat_member.controllers.main")
    def test_get_verification(self):
        resp = self.url_open(f"{self.url()}?{signed_query('cbtoken')}&echostr=hello123")
        self.assertEqual(resp.status_code, 200)
        self.assertEqual(resp.text, "hello123")
        resp = self.url_open(f"{self.url()}?{signed_query('wrong')}&echostr=hello123")
        self.assertEqual(resp.status_code, 403)
        resp = self.url_open(f"{self.url()}?{signed_query('cbtoken', timestamp=int(time.time()) - 3600)}&echostr=x")
        self.assertEqual(resp.status_code, 403, "a replayed old signature is refused")
        resp = self.url_open(f"/wechat/callback/999999?{signed_query('cbtoken')}&echostr=x")
        self.assertEqual(resp.status_code, 404)

    def test_follow_creates_member_with_welcome(self):
        self.account.company_id.partner_id.tz = "Asia/Shanghai"
        self.env.ref("base.user_root").tz = "Europe/Brussels"  # the webhook's user, as a demo install leaves it
        resp = self.sim.follow(openid="oFollowPlain0000000000000001")
        self.assertEqual(resp.status_code, 200)
        self.assertIn("Welcome", resp.reply["Content"])
        member = self.members("oFollowPlain0000000000000001")
        self.assertEqual(len(member), 1)
        self.assertEqual(member.state, "follower")
        self.assertTrue(member.subscribe_date)
        self.assertTrue(member.partner_id.wechat_member_code.startswith("WM"))
        self.assertEqual(member.partner_id.tz, "Asia/Shanghai", "the shop's time zone, not the webhook user's")
        self.assertFalse(
            self.env["res.users"].search([("partner_id", "=", member.partner_id.id)]),
            "members are contacts, never users",
        )
        # The shop's time zone is cached (res.company._wechat_tz_name): a change of the company's is seen at once.
        self.account.company_id.partner_id.tz = "Asia/Urumqi"
        self.env.flush_all()  # as the manager's request would have committed it
        self.sim.follow(openid="oFollowPlain0000000000000002")
        self.assertEqual(self.members("oFollowPlain0000000000000002").partner_id.tz, "Asia/Urumqi")

    def test_follow_inserts_its_member_once(self):
        """A new follower's member is inserted with its follow (subscribe date, last interaction, the
        customer-service grant of the follow): no UPDATE of the member follows in the same request."""
        statements = []
        execute = sql_db.Cursor.execute

        def spy(cursor, query, params=None, log_exceptions=True):
            statements.append(str(query.code if hasattr(query, "code") else query))
            return execute(cursor, query, params, log_exceptions)

        with patch.object(sql_db.Cursor, "execute", spy):
            resp = self.sim.follow(openid="oFollowOnce00000000000000001")
        self.assertEqual(resp.status_code, 200)
        member = self.members("oFollowOnce00000000000000001")
        event = self.env["wechat.event"].search([("member_id", "=", member.id)])
        self.assertEqual(len(event), 1)
        when = event._wechat_time()
        self.assertEqual(
            (member.state, member.last_interaction, member.cs_event_at, member.cs_event_used),
            ("follower", when, when, 0),
        )
        self.assertTrue(member.subscribe_date)
        self.assertTrue(member.in_service_window, "a follow opens WeChat's customer-service grant")
        writes = [q for q in statements if re.match(r'\s*(INSERT INTO|UPDATE)\s+"?wechat_member"?\s', q)]
        self.assertEqual(len(writes), 1, writes)
        self.assertIn("INSERT INTO wechat_member", writes[0])
        # Its contact is created when the member is first read (test_member_contact), not in WeChat's 5 seconds.
        self.assertFalse([q for q in statements if re.match(r'\s*INSERT INTO\s+"?res_partner"?\s', q)])
        # The event inserted, not read back.
        reads = [q for q in statements if re.match(r"\s*SELECT\b", q)]
        self.assertFalse([q for q in reads if re.search(r'\bFROM "wechat_event"', q)], reads)

    def test_callback_reads_its_account_once(self):
        """The account is read in one query with what the handlers read after the signature's token."""
        self.env.invalidate_all()
        with patch.object(controller_module, "request", SimpleNamespace(env=self.env)), self.assertQueryCount(1):
            account = WeChatCallbackController()._account(self.account.id)
            self.assertEqual(account.callback_token, "cbtoken")
            self.assertTrue(account.company_id.id)
            self.assertTrue(account.encrypt_mode)
            self.assertIn("Welcome", account.welcome_message, "the default welcome message")
            self.assertEqual(account.timeout, 5)

    def test_follows_plan_one_delayed_profile_fetch(self):
        """A follow plans the user-info cron a little later, once for the follows of that moment: no trigger (and no
        wake-up of the cron workers, a connection to the ``postgres`` database) per follow."""
        cron = self.env.ref("wechat_member.ir_cron_wechat_fetch_user_info")
        Trigger = self.env["ir.cron.trigger"].sudo()
        Trigger.search([("cron_id", "=", cron.id)]).unlink()
        start = fields.Datetime.now()
        self.sim.follow(openid="oFollowFetch0000000000000001")
        self.sim.follow(openid="oFollowFetch0000000000000002")
        self.assertEqual(len(self.members("oFollowFetch0000000000000002")), 1)
        planned = Trigger.search([("cron_id", "=", cron.id)])
        self.assertEqual(len(planned), 1, "one profile fetch for both follows")
        self.assertGreater(planned.call_at, start)

    def test_follows_after_a_planned_fetch_look_for_no_trigger(self):
        """Once a worker planned (or found) the profile fetch, the follows until that run query no trigger."""
        cron = self.env.ref("wechat_member.ir_cron_wechat_fetch_user_info")
        Trigger = self.env["ir.cron.trigger"].sudo()
        Trigger.search([("cron_id", "=", cron.id)]).unlink()
        Member = self.env["wechat.member"]
        self.addCleanup(wechat_member_model._fetch_info_planned.clear)
        with patch.object(odoo_module, "current_test", False):
            Member._trigger_fetch_user_info()
            planned = Trigger.search([("cron_id", "=", cron.id)])
            self.assertEqual(len(planned), 1)
            self.assertEqual(wechat_member_model._fetch_info_planned[self.env.cr.dbname], planned.call_at)
            with self.assertQueryCount(0):
                Member._trigger_fetch_user_info()
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), 1)

    def test_follow_through_store_qr_attributes_channel(self):
        store = self.env["pos.config"].search([], limit=1) or self.env["pos.config"].create({"name": "Store A"})
        channel = self.env["wechat.qr.channel"].create(
            {
                "name": "Store A",
                "account_id": self.account.id,
                "scene": "store_a",
                "welcome_message": "Hi store A",
                "pos_config_id": store.id,
            }
        )
        store.wechat_account_id = self.account
        self.env.flush_all()  # the fake's delivery is another request: it reads what the database holds
        resp = self.sim.follow(openid="oFollowQr00000000000000000001", scene="store_a")
        # The store's door QR leads to the store's page (hours, phone, directions).
        self.assertEqual(
            resp.reply["Content"],
            f'Hi store A\nYour store: <a href="{store._wechat_store_url()}">{store.name}</a>',
        )
        member = self.members("oFollowQr00000000000000000001")
        self.assertEqual(member.channel_id, channel)
        self.assertEqual(member.store_id, store, "members remember their store")
        self.sim.scan("oFollowQr00000000000000000001", "store_a")
        channel.invalidate_recordset()
        self.assertEqual(channel.follow_count, 1)
        self.assertEqual(channel.scan_count, 2)
        self.assertEqual(channel.member_count, 1)
        # A later scan of another channel does not steal the attribution.
        self.env["wechat.qr.channel"].create({"name": "Poster", "account_id": self.account.id, "scene": "poster"})
        self.sim.scan("oFollowQr00000000000000000001", "poster")
        self.assertEqual(member.channel_id, channel)

    def test_keyword_points_reply(self):
        openid = "oKeyword000000000000000000001"
        self.sim.follow(openid=openid)
        member = self.members(openid)
        resp = self.sim.text(openid, "积分")
        self.assertIn(member.partner_id.wechat_member_code, resp.reply["Content"])
        resp = self.sim.text(openid, "消费")
        self.assertIn("No purchase yet", resp.reply["Content"])
        resp = self.sim.text(openid, "hello?")
        self.assertIn("积分", resp.reply["Content"], "unknown words get the default help")
        resp = self.sim.click(openid, "MY_POINTS")
        self.assertIn(member.partner_id.wechat_member_code, resp.reply["Content"])
        member.invalidate_recordset()
        self.assertTrue(member.in_service_window)
        self.assertEqual(member._cs_quota()[0], 5, "the member's own messages opened 5, larger than the click's 3")

    def test_unfollow_keeps_member(self):
        openid = "oUnfollow00000000000000000001"
        self.sim.follow(openid=openid)
        resp = self.sim.unfollow(openid)
        self.assertEqual(resp.text, "success")
        member = self.members(openid)
        self.assertEqual(member.state, "unfollowed")
        self.assertTrue(member.unsubscribe_date)
        self.fake.advance(2)  # events of one user within one second share their dedupe key
        self.sim.follow(openid=openid)
        member.invalidate_recordset()  # changed by the HTTP request
        self.assertEqual(member.state, "follower")
        self.assertEqual(len(self.members(openid)), 1)

    def test_replayed_event_processed_once(self):
        openid = "oReplay0000000000000000000001"
        now = int(time.time())
        event = {
            "ToUserName": self.fake_account.original_id,
            "FromUserName": openid,
            "CreateTime": str(now),
            "MsgType": "event",
            "Event": "subscribe",
            "EventKey": "",
        }
        for __ in range(3):
            resp = self.sim.post_event(dict(event))
            self.assertEqual(resp.status_code, 200)
        self.assertEqual(len(self.members(openid)), 1)
        events = self.env["wechat.event"].search([("openid", "=", openid)])
        self.assertEqual(len(events), 1)
        text = {
            "ToUserName": self.fake_account.original_id,
            "FromUserName": openid,
            "CreateTime": str(now),
            "MsgType": "text",
            "Content": "积分",
            "MsgId": "1234567890123",
        }
        replies = [self.sim.post_event(dict(text)).text for __ in range(3)]
        self.assertIn("<Content>", replies[0])
        self.assertEqual(replies[1:], ["success", "success"])
        self.assertEqual(self.env["wechat.event"].search_count([("openid", "=", openid)]), 2)

    @mute_logger("odoo.addons.wechat_member.controllers.main")
    def test_bad_input_refused_and_nothing_created(self):
        query = signed_query("cbtoken")
        before = self.env["wechat.event"].search_count([])
        xxe = (
            b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<xml><ToUserName>gh</ToUserName><FromUserName>&x;</FromUserName><CreateTime>1</CreateTime>"
            b"<MsgType>text</MsgType><Content>a</Content><MsgId>1</MsgId></xml>"
        )
        self.assertEqual(self.url_open(f"{self.url()}?{query}", data=xxe).status_code, 400)
        self.assertEqual(self.url_open(f"{self.url()}?{query}", data=b"<xml><broken").status_code, 400)
        self.assertEqual(
            self.url_open(f"{self.url()}?{query}", data=b"<xml>" + b"a" * 70000 + b"</xml>").status_code, 400
        )
        self.assertEqual(
            self.url_open(f"{self.url()}?{query}", data=b"<xml><MsgType>text</MsgType></xml>").status_code, 400
        )
        self.assertEqual(
            self.url_open(
                f"{self.url()}?{signed_query('wrong')}", data=b"<xml><MsgType>text</MsgType></xml>"
            ).status_code,
            403,
        )
        self.assertEqual(self.env["wechat.event"].search_count([]), before)

    def test_fake_sees_no_violation(self):
        self.sim.follow(openid="oNoViolation00000000000000001")
        self.assertEqual(self.fake.violations, [])


@tagged("post_install", "-at_install")
class TestWebhookSafeMode(WeChatHttpCase):
    encrypt_mode = "safe"
    appid = "wxtestsafe00000001"

    def test_encrypted_follow_and_reply(self):
        openid = "oSafeMode000000000000000000001"
        resp = self.sim.follow(openid=openid)
        self.assertEqual(resp.status_code, 200)
        self.assertIn("<Encrypt>", resp.text, "the reply is encrypted in safe mode")
        self.assertIn("Welcome", resp.reply["Content"])
        resp = self.sim.text(openid, "points")
        member = self.env["wechat.member"].search([("openid", "=", openid)])
        self.assertIn(member.partner_id.wechat_member_code, resp.reply["Content"])

    @mute_logger("odoo.addons.wechat_member.controllers.main")
    def test_bad_encryption_refused(self):
        query = signed_query("cbtoken")
        url = f"/wechat/callback/{self.account.id}?{query}&encrypt_type=aes&msg_signature=bad"
        body = b"<xml><ToUserName>gh</ToUserName><Encrypt>bm90IGVuY3J5cHRlZA==</Encrypt></xml>"
        self.assertEqual(self.url_open(url, data=body).status_code, 403)
        # Right msg_signature over garbage ciphertext: unreadable, 400.
        timestamp, nonce, encrypt = query.split("timestamp=")[1].split("&")[0], "n0nce", "bm90IGVuY3J5cHRlZA=="
        msg_sig = hashlib.sha1("".join(sorted(["cbtoken", timestamp, nonce, encrypt])).encode()).hexdigest()
        url = f"/wechat/callback/{self.account.id}?{query}&encrypt_type=aes&msg_signature={msg_sig}"
        self.assertEqual(self.url_open(url, data=body).status_code, 400)
        self.assertFalse(self.env["wechat.event"].search([("account_id", "=", self.account.id)]))


@tagged("post_install", "-at_install")
class TestWebhookTransaction(TransactionCase):
    """The webhook processes a delivery in the request's own transaction, in READ COMMITTED, when it can."""

    def test_fresh_request_transaction_becomes_read_committed(self):
        with sql_db.db_connect(self.env.cr.dbname).cursor() as cr:
            self.assertTrue(WeChatCallbackController._read_committed(cr))
            cr.execute("SHOW transaction_isolation")
            self.assertEqual(cr.fetchone()[0], "read committed")

    def test_read_committed_costs_no_statement_and_ends_with_the_cursor(self):
        """The level goes with the BEGIN psycopg2 sends anyway; the next cursor on the connection is Odoo's again."""
        statements = []
        execute = sql_db.Cursor.execute

        def spy(cursor, query, params=None, log_exceptions=True):
            statements.append(str(query))
            return execute(cursor, query, params, log_exceptions)

        db = sql_db.db_connect(self.env.cr.dbname)
        with db.cursor() as cr:
            with patch.object(sql_db.Cursor, "execute", spy):
                self.assertTrue(WeChatCallbackController._read_committed(cr))
            self.assertEqual(statements, [])
            cr.execute("SHOW transaction_isolation")
            self.assertEqual(cr.fetchone()[0], "read committed")
            connection = cr._cnx
        with db.cursor() as cr:
            self.assertIs(cr._cnx, connection, "the pool lends the same connection again")
            cr.execute("SHOW transaction_isolation")
            self.assertEqual(cr.fetchone()[0], "repeatable read")

    def test_started_transaction_keeps_its_isolation(self):
        with sql_db.db_connect(self.env.cr.dbname).cursor() as cr:
            cr.execute("SELECT 1")
            self.assertFalse(WeChatCallbackController._read_committed(cr), "a second transaction is used")
            cr.execute("SHOW transaction_isolation")
            self.assertEqual(cr.fetchone()[0], "repeatable read")
