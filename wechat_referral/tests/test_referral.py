import base64
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import ReferralPosCase

OPENID_A = "oRefA000000000000000000000A1"
OPENID_B = "oRefB000000000000000000000B1"
OPENID_C = "oRefC000000000000000000000C1"


@tagged("post_install", "-at_install")
class TestReferralFlow(ReferralPosCase):
    def setUp(self):
        super().setUp()
        self.follow(OPENID_A)
        self.a = self.member(OPENID_A)
        self.channel = self.a._referral_qr()

    def test_referral_qr_channel(self):
        channel = self.channel
        self.assertEqual(channel.channel_type, "member")
        self.assertEqual(channel.referrer_member_id, self.a)
        self.assertEqual(channel.account_id, self.account)
        self.assertTrue(base64.b64decode(channel.qr_image).startswith(b"\x89PNG"))
        self.assertEqual(
            self.calls_to("/cgi-bin/qrcode/create")[-1]["body"]["action_info"]["scene"]["scene_str"], channel.scene
        )
        calls = len(self.calls_to("/cgi-bin/qrcode/create"))
        self.assertEqual(self.a._referral_qr(), channel, "one personal QR per member")
        self.assertEqual(len(self.calls_to("/cgi-bin/qrcode/create")), calls, "a valid QR is not asked again")
        channel.qr_expires_at = fields.Datetime.now() + timedelta(hours=2)
        self.assertEqual(self.a._referral_qr(), channel)
        self.assertEqual(len(self.calls_to("/cgi-bin/qrcode/create")), calls + 1, "renewed before it expires")
        # The share link names the referrer; a forged one does not.
        token = self.a._referral_token()
        Member = self.env["wechat.member"]
        self.assertEqual(Member._from_referral_token(self.account, token), self.a)
        self.assertFalse(Member._from_referral_token(self.account, self.a.member_code), "a bare code names nobody")
        self.assertFalse(Member._from_referral_token(self.account, f"{self.a.id}-forged0000000000000"))
        self.assertIn(f"/wechat/r/{self.account.id}/{token}", self.a._referral_url())

    def test_happy_path_reward_once_and_clawback(self):
        self.follow(OPENID_B, scene=self.channel.scene)
        b = self.member(OPENID_B)
        referral = self.referral(b)
        self.assertRecordValues(
            referral,
            [
                {
                    "referrer_member_id": self.a.id,
                    "state": "pending",
                    "source": "qr",
                    "channel_id": self.channel.id,
                    "program_id": self.program.id,
                }
            ],
        )
        self.assertEqual(b.referred_by_id, self.a)
        # The friend's welcome perk: one coupon, only worth something on a purchase.
        self.assertEqual(referral.welcome_card_id.partner_id, b.partner_id)
        self.assertEqual(referral.welcome_card_id.program_id, self.welcome_program)
        self.assertEqual(referral.welcome_card_id.points, 1)
        self.assertEqual(referral.welcome_card_id.expiration_date, referral.deadline.date(), "valid for 30 days")
        self.assertFalse(self.points_card(self.a), "no points for the follow itself")

        small, __ = self.buy(b, self.candy)  # 10 < minimum 50
        self.assertEqual(referral.state, "pending")
        self.assertFalse(self.points_card(self.a))

        order, data = self.buy(b, self.tea)
        self.assertEqual(referral.state, "rewarded")
        self.assertEqual(referral.order_id, order)
        card = self.points_card(self.a)
        self.assertEqual(len(card), 1)
        self.assertEqual(card.points, 100)
        self.assertRecordValues(
            card.history_ids, [{"issued": 100, "used": 0, "order_model": "pos.order", "order_id": order.id}]
        )
        self.assertEqual(self.a.referral_points, 100)

        # The same order again: synced twice, counted twice, processed twice.
        self.env["pos.order"].sync_from_ui([data])
        order._wechat_count_purchase()
        self.env["wechat.referral"]._process_orders(order | small)
        self.env["wechat.referral"]._attribute(self.a, b, new_member=True, channel=self.channel)
        card.invalidate_recordset()
        self.assertEqual(card.points, 100)
        self.assertEqual(len(card.history_ids), 1)
        self.assertEqual(self.env["wechat.referral"].search_count([("referee_member_id", "=", b.id)]), 1)

        # A spends 60 of the points, then the friend refunds within the window.
        card.points = 40
        self.refund(order)
        card.invalidate_recordset()
        self.assertEqual(referral.state, "reversed")
        self.assertEqual(card.points, -60, "the clawback may take the balance below zero")
        reversal = card.history_ids.filtered(lambda h: h.issued < 0)
        self.assertEqual(reversal.issued, -100)
        self.assertEqual(referral.reversal_history_id, reversal)
        self.assertEqual(referral.points_net, 0)
        self.assertEqual(self.a.referral_points, 0)

        # Buying again never rewards twice.
        self.buy(b, self.tea)
        card.invalidate_recordset()
        self.assertEqual(card.points, -60)
        self.assertEqual(len(card.history_ids), 2)
        self.assertEqual(referral.state, "reversed")

    def test_partial_refund_above_minimum_keeps_points(self):
        self.follow(OPENID_B, scene=self.channel.scene)
        b = self.member(OPENID_B)
        order, __ = self.buy(b, self.tea, qty=2)  # 200
        self.assertEqual(self.points_card(self.a).points, 100)
        refund = self.create_ui_order_data(
            [{"product": self.tea, "quantity": -1, "refunded_orderline_id": order.lines.id}], customer=b.partner_id
        )
        self.sync(refund)
        self.assertEqual(self.referral(b).state, "rewarded", "100 left, still above the minimum")
        self.assertEqual(self.points_card(self.a).points, 100)

    def test_existing_card_and_bonus_tier(self):
        card = self.env["loyalty.card"].create(
            {"program_id": self.points_program.id, "partner_id": self.a.partner_id.id, "points": 7}
        )
        self.program.write({"tier_threshold": 2, "tier_points": 150})
        self.follow(OPENID_B, scene=self.channel.scene)
        self.follow(OPENID_C, scene=self.channel.scene)
        self.buy(self.member(OPENID_B))
        self.assertEqual(card.points, 107, "credited on the member's existing card")
        self.buy(self.member(OPENID_C))
        self.assertEqual(card.points, 257, "the 2nd rewarded friend earns the bonus")
        self.assertEqual(self.points_card(self.a), card)

    def test_window_and_expiry(self):
        self.follow(OPENID_B, scene=self.channel.scene)
        b = self.member(OPENID_B)
        referral = self.referral(b)
        deadline = referral.deadline
        self.program.qualification_days = 60
        self.assertEqual(referral.deadline, deadline, "the window is frozen at attribution")
        self.program.qualification_days = 30
        referral.date = fields.Datetime.now() - timedelta(days=31)
        self.buy(b)
        self.assertEqual(referral.state, "pending", "a purchase after the window does not qualify")
        self.env["wechat.referral"]._cron_expire()
        self.assertRecordValues(referral, [{"state": "rejected", "reject_reason": "expired"}])
        self.assertFalse(self.points_card(self.a))

    def test_refund_after_window_keeps_points(self):
        self.follow(OPENID_B, scene=self.channel.scene)
        b = self.member(OPENID_B)
        order, __ = self.buy(b)
        referral = self.referral(b)
        referral.date = fields.Datetime.now() - timedelta(days=31)  # the window closed meanwhile
        self.refund(order)
        self.assertEqual(referral.state, "rewarded")
        self.assertEqual(self.points_card(self.a).points, 100)

    def test_manual_review(self):
        self.program.manual_review = True
        self.follow(OPENID_B, scene=self.channel.scene)
        self.follow(OPENID_C, scene=self.channel.scene)
        b, c = self.member(OPENID_B), self.member(OPENID_C)
        self.buy(b)
        self.buy(c)
        ref_b, ref_c = self.referral(b), self.referral(c)
        self.assertEqual((ref_b.state, ref_c.state), ("review", "review"))
        self.assertFalse(self.points_card(self.a), "nothing paid before a manager approves")
        ref_b.action_approve()
        self.assertEqual(ref_b.state, "rewarded")
        self.assertEqual(ref_b.reviewed_by_id, self.env.user)
        self.assertEqual(self.points_card(self.a).points, 100)
        ref_c.action_reject()
        self.assertRecordValues(ref_c, [{"state": "rejected", "reject_reason": "manual"}])
        self.assertEqual(self.points_card(self.a).points, 100)

    def test_invite_keyword(self):
        self.follow(OPENID_B, scene=self.channel.scene)
        self.buy(self.member(OPENID_B))
        for keyword in ("邀请", "invite"):
            self.receive(OPENID_A, MsgType="text", Content=keyword, MsgId=f"9{len(keyword)}")
            reply = self.last_reply
            self.assertIn(self.a._referral_url(), reply["content"])
            self.assertIn("Friends invited: 1, of whom 1 bought. Points earned: 100.", reply["content"])
            self.assertIn(self.welcome_program.name, reply["content"])

    def test_points_keyword(self):
        """ "积分" answers the referral points, with or without wechat_coupon installed."""
        self.receive(OPENID_A, MsgType="text", Content="积分", MsgId="81")
        self.assertIn("No points yet", self.last_reply["content"])
        self.follow(OPENID_B, scene=self.channel.scene)
        self.buy(self.member(OPENID_B))
        self.receive(OPENID_A, MsgType="text", Content="积分", MsgId="82")
        self.assertIn("Member points: 100 points", self.last_reply["content"])
        self.assertIn(self.a.partner_id.wechat_member_code, self.last_reply["content"])
        self.assertEqual(self.a.partner_id._wechat_points_balance(), 100)
