from odoo import Command

from odoo.addons.wechat_member.tests.common import WeChatCase, WeChatHttpCase


def create_member_points_program(env, name, config, required_points):
    """A POS loyalty card program: a point per currency unit, ¥10 off the order for ``required_points``."""
    return env["loyalty.program"].create(
        {
            "name": name,
            "program_type": "loyalty",
            "applies_on": "both",
            "trigger": "auto",
            "pos_ok": True,
            "pos_config_ids": [Command.link(config.id)],
            "rule_ids": [Command.create({"reward_point_mode": "money", "reward_point_amount": 1})],
            "reward_ids": [
                Command.create(
                    {
                        "reward_type": "discount",
                        "discount": 10,
                        "discount_mode": "per_order",
                        "required_points": required_points,
                    }
                )
            ],
        }
    )


class CouponMixin:
    """A coupon program (10 % off the order, 1 point a coupon) and helpers to make members."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program = cls.env["loyalty.program"].create(
            {
                "name": "WeChat 10% off",
                "program_type": "coupons",
                "trigger": "with_code",
                "applies_on": "current",
                "rule_ids": [],
                "reward_ids": [
                    (
                        0,
                        0,
                        {
                            "reward_type": "discount",
                            "discount": 10,
                            "discount_mode": "percent",
                            "discount_applicability": "order",
                            "required_points": 1,
                        },
                    )
                ],
            }
        )
        cls.counter = 0

    def setUp(self):
        super().setUp()
        self.fake.clear_logs()

    @classmethod
    def make_member(cls, state="follower", window=False, openid=None):
        """A member on the sandbox account and the fake platform (window: the member just wrote to the account,
        which opens WeChat's customer-service quota of 5 messages within 48 h)."""
        cls.counter += 1
        openid = openid or f"oCoupon{cls.counter:021d}"
        if state == "follower":
            cls.fake_account.add_follower(openid)
        else:
            cls.fake_account.add_nonfollower(openid)
        member = cls.env["wechat.member"]._get_or_create(cls.account, openid, state=state)[0]
        if window:
            with cls.fake.lock:
                cls.fake_account.users[openid].open_cs_window(cls.fake.now(), "message")
            member._touch(grant="message")
        return member

    def make_campaign(self, members=None, **vals):
        values = {
            "name": "Spring",
            "account_id": self.account.id,
            "program_id": self.program.id,
            "audience": "members",
            "member_ids": [(6, 0, members.ids)] if members else [],
        }
        values.update(vals)
        return self.env["wechat.coupon.campaign"].create(values)


class CouponCase(CouponMixin, WeChatCase):
    pass


class CouponHttpCase(CouponMixin, WeChatHttpCase):
    pass
