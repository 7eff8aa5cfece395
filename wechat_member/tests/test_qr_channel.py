import base64

from psycopg2 import IntegrityError

from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import WeChatCase


@tagged("post_install", "-at_install")
class TestQrChannel(WeChatCase):
    def test_generate_permanent_qr_and_poster(self):
        channel = self.env["wechat.qr.channel"].create(
            {"name": "Counter", "account_id": self.account.id, "channel_type": "store"}
        )
        self.assertTrue(channel.scene.startswith("ch"))
        channel.action_generate_qr()
        self.assertTrue(channel.ticket)
        self.assertTrue(channel.qr_url)
        self.assertTrue(base64.b64decode(channel.qr_image).startswith(b"\x89PNG"))
        self.assertFalse(channel.qr_expires_at, "permanent codes do not expire")
        call = self.calls_to("/cgi-bin/qrcode/create")[-1]
        self.assertEqual(call["body"]["action_name"], "QR_LIMIT_STR_SCENE")
        self.assertEqual(call["body"]["action_info"]["scene"]["scene_str"], channel.scene)
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("wechat_member.report_wechat_qr_poster", channel.ids)[0]
            .decode()
        )
        self.assertIn("关注即会员", html)
        self.assertIn("Follow us = become a member", html)
        self.assertIn("data:image/png;base64", html)

    def test_temporary_qr_limits(self):
        channel = self.env["wechat.qr.channel"].create(
            {"name": "Flyer", "account_id": self.account.id, "qr_type": "temporary", "expire_days": 7}
        )
        channel.action_generate_qr()
        self.assertTrue(channel.qr_expires_at)
        self.assertEqual(self.calls_to("/cgi-bin/qrcode/create")[-1]["body"]["expire_seconds"], 7 * 86400)
        with self.assertRaises(ValidationError):
            channel.expire_days = 31

    def test_scene_unique_per_account(self):
        self.env["wechat.qr.channel"].create({"name": "A", "account_id": self.account.id, "scene": "dup"})
        with self.assertRaises(IntegrityError), self.cr.savepoint(), mute_logger("odoo.sql_db"):
            self.env["wechat.qr.channel"].create({"name": "B", "account_id": self.account.id, "scene": "dup"})
