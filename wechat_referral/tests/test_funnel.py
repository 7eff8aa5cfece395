from datetime import timedelta

from odoo import fields
from odoo.tests import TransactionCase, tagged

from odoo.addons.wechat_member.tests.common import WeChatFakeMixin

from .common import ReferralProgramMixin

MEASURES = ["scanned:sum", "followed:sum", "member:sum", "first_purchase:sum", "repeat_purchase:sum", "referrer:sum"]


@tagged("post_install", "-at_install")
class TestFunnel(ReferralProgramMixin, WeChatFakeMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_referral_program(cls.account.company_id)
        cls.store = cls.env["pos.config"].create({"name": "Funnel Store"})
        cls.session = cls.env["pos.session"].create({"config_id": cls.store.id})
        Channel = cls.env["wechat.qr.channel"]
        cls.counter = Channel.create(
            {"name": "Counter", "account_id": cls.account.id, "channel_type": "store", "pos_config_id": cls.store.id}
        )
        cls.poster = Channel.create({"name": "Poster", "account_id": cls.account.id, "channel_type": "poster"})
        cls.openids = iter(f"oFunnel{i:021d}" for i in range(10000))

    def events(self, channel, event, count, days_ago=0):
        Event = self.env["wechat.event"].sudo()
        when = fields.Datetime.now() - timedelta(days=days_ago)
        events = Event.create(
            [
                {
                    "account_id": self.account.id,
                    "dedupe_key": f"test:{channel.id if channel else 0}:{event}:{i}:{days_ago}",
                    "msg_type": "event",
                    "event": event,
                    "openid": next(self.openids),
                    "channel_id": channel.id if channel else False,
                }
                for i in range(count)
            ]
        )
        if days_ago:
            self.env.flush_all()
            self.env.cr.execute("UPDATE wechat_event SET create_date = %s WHERE id = ANY(%s)", [when, events.ids])
        return events

    def members(self, channel, count, purchases=0):
        members = self.env["wechat.member"]
        for __ in range(count):
            member = self.env["wechat.member"]._get_or_create(self.account, next(self.openids))[0]
            member.write({"channel_id": channel.id if channel else False, "subscribe_date": fields.Datetime.now()})
            if purchases:
                self.buy(member.partner_id, purchases)
            members |= member
        return members

    def buy(self, partner, count, amount=10.0):
        """``count`` paid POS orders of ``partner``: the funnel reads the paid purchases (pos.order)."""
        return self.env["pos.order"].create(
            [
                {
                    "session_id": self.session.id,
                    "partner_id": partner.id,
                    "amount_total": amount,
                    "amount_tax": 0.0,
                    "amount_paid": amount,
                    "amount_return": 0.0,
                    "state": "paid",
                }
                for __ in range(count)
            ]
        )

    def refer(self, referrer, state="pending"):
        friend = self.members(False, 1)
        return self.env["wechat.referral"].create(
            {
                "program_id": self.program.id,
                "account_id": self.account.id,
                "referrer_member_id": referrer.id,
                "referee_member_id": friend.id,
                "state": state,
                "reject_reason": "weekly_cap" if state == "rejected" else False,
            }
        )

    def funnel(self, domain):
        self.env.flush_all()
        return self.env["wechat.referral.funnel"]._read_group(domain, [], MEASURES)[0]

    def test_funnel_known_data_set(self):
        # The counter QR: 100 scans (60 of them follows), 30 members, 12 bought, 5 again, 2 referred a friend.
        self.events(self.counter, "subscribe", 60)
        self.events(self.counter, "SCAN", 40)
        never = self.members(self.counter, 18)
        once = self.members(self.counter, 7, purchases=1)
        repeat = self.members(self.counter, 5, purchases=3)
        self.refer(repeat[0])
        self.refer(repeat[0], state="rewarded")
        self.refer(once[0], state="reversed")
        self.refer(never[0], state="rejected")  # a rejected friend does not make a referrer
        # Noise: another channel, a search follow without QR, an old scan.
        self.events(self.poster, "subscribe", 3)
        self.members(self.poster, 2, purchases=1)
        self.events(False, "subscribe", 4)
        self.events(self.counter, "SCAN", 10, days_ago=60)

        recent = [("date", ">=", fields.Datetime.now() - timedelta(days=30))]
        self.assertEqual(self.funnel([("channel_id", "=", self.counter.id)] + recent), (100, 60, 30, 12, 5, 2))
        self.assertEqual(self.funnel([("store_id", "=", self.store.id)] + recent), (100, 60, 30, 12, 5, 2))
        self.assertEqual(self.funnel([("channel_id", "=", self.counter.id)]), (110, 60, 30, 12, 5, 2))
        self.assertEqual(self.funnel([("channel_id", "=", self.poster.id)]), (3, 3, 2, 2, 0, 0))
        # Per channel type, in one query: the referral friends came without a channel.
        by_type = {
            channel_type: values
            for channel_type, *values in self.env["wechat.referral.funnel"]._read_group(
                [("account_id", "=", self.account.id)] + recent, ["channel_type"], MEASURES
            )
        }
        self.assertEqual(by_type["store"], [100, 60, 30, 12, 5, 2])
        self.assertEqual(by_type["poster"], [3, 3, 2, 2, 0, 0])
        self.assertEqual(by_type[False], [0, 4, 4, 0, 0, 0])

    def test_funnel_company_rule(self):
        self.events(self.counter, "SCAN", 2)
        self.env.flush_all()
        other = self.env["res.company"].create({"name": "Other Co"})
        user = self.env["res.users"].create(
            {
                "name": "Other manager",
                "login": "funnel_other_mgr",
                "company_id": other.id,
                "company_ids": [(6, 0, other.ids)],
                "groups_id": [(6, 0, self.env.ref("wechat_member.group_wechat_manager").ids)],
            }
        )
        Funnel = self.env["wechat.referral.funnel"].with_user(user)
        self.assertFalse(Funnel.search([("account_id", "=", self.account.id)]))
        self.assertEqual(
            self.env["wechat.referral"].with_user(user).search_count([]), 0, "referrals: own companies only"
        )
