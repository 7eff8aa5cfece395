import itertools
import time

from odoo.addons.point_of_sale.tests.common import TestPoSCommon
from odoo.addons.wechat_member.tests.common import WeChatFakeMixin

_create_times = itertools.count(int(time.time()))


class ReferralProgramMixin:
    """A sandbox account with a referral program: 100 points per friend, first purchase ≥ 50 within 30 days."""

    @classmethod
    def _setup_referral_program(cls, company):
        Loyalty = cls.env["loyalty.program"]
        cls.points_program = Loyalty.create(
            {"name": "Member points", "program_type": "loyalty", "company_id": company.id}
        )
        cls.welcome_program = Loyalty.create(
            {"name": "10% off your first purchase", "program_type": "coupons", "company_id": company.id}
        )
        cls.program = cls.env["wechat.referral.program"].create(
            {
                "name": "Invite a friend",
                "account_id": cls.account.id,
                "points_program_id": cls.points_program.id,
                "points_per_referral": 100,
                "min_purchase_amount": 50,
                "qualification_days": 30,
                "weekly_cap": 3,
                "welcome_program_id": cls.welcome_program.id,
            }
        )

    # ------------------------------------------------------------------ WeChat side
    def receive(self, openid, **msg):
        """Push one webhook message (as the controller would) and return the stored event."""
        msg = {"ToUserName": "gh_test", "FromUserName": openid, "CreateTime": str(next(_create_times)), **msg}
        self.last_reply = self.env["wechat.event"]._receive(self.account, msg)
        event = self.env["wechat.event"].search([("openid", "=", openid)], order="id desc", limit=1)
        self.assertEqual(event.state, "done", event.error)
        return event

    def follow(self, openid, scene=None):
        msg = {"MsgType": "event", "Event": "subscribe"}
        if scene:
            msg["EventKey"] = f"qrscene_{scene}"
        return self.receive(openid, **msg)

    def unfollow(self, openid):
        return self.receive(openid, MsgType="event", Event="unsubscribe")

    def member(self, openid):
        return self.env["wechat.member"].search([("account_id", "=", self.account.id), ("openid", "=", openid)])

    def referral(self, referee):
        return self.env["wechat.referral"].search([("referee_member_id", "=", referee.id)], order="id desc", limit=1)

    def points_card(self, member):
        return self.env["loyalty.card"].search(
            [("program_id", "=", self.points_program.id), ("partner_id", "=", member.partner_id.id)]
        )


class ReferralPosCase(ReferralProgramMixin, WeChatFakeMixin, TestPoSCommon):
    @classmethod
    def _create_basic_config(cls):
        # The test user (a fresh accountant) manages WeChat: POS configurations read WeChat accounts.
        cls.env.user.sudo().groups_id += cls.env.ref("wechat_member.group_wechat_manager")
        return super()._create_basic_config()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.config = cls.basic_config
        if cls.account.company_id != cls.config.company_id:
            cls.account.company_id = cls.config.company_id
        cls._setup_referral_program(cls.config.company_id)
        cls.tea = cls.create_product("Tea", cls.categ_basic, 100.0)
        cls.candy = cls.create_product("Candy", cls.categ_basic, 10.0)

    def setUp(self):
        super().setUp()
        self.open_new_session()

    def sync(self, data):
        result = self.env["pos.order"].sync_from_ui([data])
        return self.env["pos.order"].browse(result["pos.order"][0]["id"])

    def buy(self, member, product=None, qty=1):
        """A paid POS order of ``member``; returns ``(order, ui data)``."""
        data = self.create_ui_order_data([(product or self.tea, qty)], customer=member.partner_id)
        return self.sync(data), data

    def refund(self, order):
        lines = [
            {"product": line.product_id, "quantity": -line.qty, "refunded_orderline_id": line.id}
            for line in order.lines
        ]
        data = self.create_ui_order_data(lines, customer=order.partner_id)
        return self.sync(data)
