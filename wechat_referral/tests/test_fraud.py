from unittest.mock import patch

from odoo.tests import tagged

from .common import ReferralPosCase

OPENID_A = "oFraudA0000000000000000000A1"
OPENID_B = "oFraudB0000000000000000000B1"


@tagged("post_install", "-at_install")
class TestReferralFraud(ReferralPosCase):
    def setUp(self):
        super().setUp()
        self.follow(OPENID_A)
        self.a = self.member(OPENID_A)
        self.channel = self.a._referral_channel()

    def test_self_referral_same_phone(self):
        self.a.partner_id.phone = "+86 138 0013 8000"
        self.follow(OPENID_B, scene=self.channel.scene)
        b = self.member(OPENID_B)
        referral = self.referral(b)
        self.assertEqual(referral.state, "pending", "the phone is not known at the follow")
        b.partner_id.phone = "13800138000"  # the friend fills in the member form: the referrer's own phone
        self.buy(b)
        self.assertRecordValues(referral, [{"state": "rejected", "reject_reason": "self"}])
        self.assertIn("phone", referral.note)
        self.assertFalse(self.points_card(self.a))

    def test_self_referral_same_contact_or_payer(self):
        Referral = self.env["wechat.referral"]
        self.follow(OPENID_B)
        b = self.member(OPENID_B)
        self.assertEqual(Referral._self_referral(self.a, self.a)[0], "self")
        self.assertEqual(Referral._self_referral(self.a, b)[0], False)
        self.assertEqual(
            Referral._self_referral(self.a, b, payer=self.a)[0],
            "self",
            "the friend's purchase paid with the referrer's WeChat",
        )
        # Attribution of a member to their own QR (e.g. through a share link) is refused.
        referral = Referral._attribute(self.a, self.a, new_member=True)
        self.assertRecordValues(referral, [{"state": "rejected", "reject_reason": "self"}])

    def test_self_referral_paid_with_referrer_wechat(self):
        self.follow(OPENID_B, scene=self.channel.scene)
        b = self.member(OPENID_B)

        def bind_referrer_as_payer(orders):
            # What the WeChat Pay capture records when the referrer scans-to-pay the friend's order.
            orders.write({"wechat_payer_member_id": self.a.id})

        with patch.object(self.registry["pos.order"], "_wechat_bind_payer", bind_referrer_as_payer):
            order, __ = self.buy(b)
        self.assertEqual(order.wechat_payer_member_id, self.a)
        referral = self.referral(b)
        self.assertRecordValues(referral, [{"state": "rejected", "reject_reason": "self", "order_id": order.id}])
        self.assertIn("WeChat", referral.note)
        self.assertFalse(self.points_card(self.a))

    def test_loop(self):
        self.follow(OPENID_B, scene=self.channel.scene)
        b = self.member(OPENID_B)
        self.assertEqual(self.referral(b).state, "pending")
        # A unfollows, then follows again through B's referral QR: B → A would close the loop.
        self.unfollow(OPENID_A)
        self.follow(OPENID_A, scene=b._referral_channel().scene)
        loop = self.referral(self.a)
        self.assertRecordValues(loop, [{"referrer_member_id": b.id, "state": "rejected", "reject_reason": "loop"}])
        self.assertFalse(loop.welcome_card_id)

    def test_refollow_of_former_member(self):
        self.follow(OPENID_B)
        self.unfollow(OPENID_B)
        event = self.follow(OPENID_B, scene=self.channel.scene)
        self.assertFalse(event.new_member)
        b = self.member(OPENID_B)
        referral = self.referral(b)
        self.assertRecordValues(referral, [{"state": "rejected", "reject_reason": "existing"}])
        self.assertFalse(referral.welcome_card_id, "no welcome perk for a former member")
        self.buy(b)
        self.assertEqual(referral.state, "rejected")
        self.assertFalse(self.points_card(self.a))

    def test_weekly_cap(self):
        friends = [f"oFraudCap{i:019d}" for i in range(5)]
        for openid in friends:
            self.follow(openid, scene=self.channel.scene)
        states = [(self.referral(self.member(o)).state, self.referral(self.member(o)).reject_reason) for o in friends]
        self.assertEqual(states, [("pending", False)] * 3 + [("rejected", "weekly_cap")] * 2)
        capped = self.member(friends[3])
        self.buy(capped)
        self.assertFalse(self.points_card(self.a), "a friend over the cap never pays")
        self.assertEqual(self.a.referral_count, 3)
