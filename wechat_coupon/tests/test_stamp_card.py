"""Stamp cards (集点卡) on Odoo's loyalty: a loyalty program with ``wechat_stamp_card``, one point a stamp."""

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tests.common import Opener

from odoo.addons.wechat_member.tests.common import PosMemberCommon

from .common import CouponHttpCase

OPENID_STAMP = "oSTAMPPAYER00000000000000001"


def create_stamp_program(env, product, mode="order", minimum_amount=100, stamps=10, **vals):
    """A stamp card: a stamp per visit of ``minimum_amount`` or more (``mode='order'``) or per unit of
    ``product`` (``mode='unit'``); ``stamps`` stamps give a free ``product``."""
    rule = {"reward_point_mode": mode, "reward_point_amount": 1}
    if mode == "order":
        rule["minimum_amount"] = minimum_amount
    else:
        rule["product_ids"] = [Command.set(product.ids)]
    values = {
        "name": "Coffee stamps",
        "program_type": "loyalty",
        "applies_on": "both",
        "trigger": "auto",
        "pos_ok": True,
        "wechat_stamp_card": True,
        "rule_ids": [Command.create(rule)],
        "reward_ids": [
            Command.create({"reward_type": "product", "reward_product_id": product.id, "required_points": stamps})
        ],
    }
    values.update(vals)
    return env["loyalty.program"].create(values)


@tagged("post_install", "-at_install")
class TestStampCardPos(PosMemberCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["loyalty.program"].search([]).write({"active": False})
        cls.coffee = cls.create_product("Coffee", cls.categ_basic, 30.0)

    def setUp(self):
        super().setUp()
        self.open_new_session()
        self.fake.clear_logs()
        self.Order = self.env["pos.order"].with_user(self.cashier)

    def _stamp_program(self, **kw):
        program = create_stamp_program(self.env, self.coffee, **kw)
        program.pos_config_ids = [Command.link(self.config.id)]
        return program

    def _sell(self, lines, customer):
        """An order synced by the cashier, then its stamps confirmed as the POS does (its points per program)."""
        result = self.Order.sync_from_ui([self.create_ui_order_data(lines, customer=customer)])
        order = self.Order.browse(result["pos.order"][0]["id"])
        program = self.program
        points = order._wechat_program_points(program)
        card = self._card(customer)
        key = str(card.id) if card else "-1"
        if points:
            res = order.confirm_coupon_programs(
                {
                    key: {
                        "points": points,
                        "program_id": program.id,
                        "coupon_id": card.id if card else -1,
                        "partner_id": customer.id,
                    }
                }
            )
            order.add_loyalty_history_lines(
                [{"card_id": key, "won": points, "spent": 0}],
                [{"id": u["id"], "old_id": u["old_id"]} for u in res["coupon_updates"]],
            )
        return order, points

    def _card(self, partner):
        return self.env["loyalty.card"].search([("partner_id", "=", partner.id), ("program_id", "=", self.program.id)])

    def test_stamps_per_unit(self):
        self.program = self._stamp_program(mode="unit")
        order, points = self._sell([(self.coffee, 3), (self.tea, 2)], self.lily)
        self.assertEqual(points, 3, "a stamp per coffee, none for the tea")
        card = self._card(self.lily)
        self.assertEqual(card.points, 3)
        self._sell([(self.coffee, 2)], self.lily)
        self.assertEqual(card.points, 5)
        self.assertEqual(len(self._card(self.lily)), 1, "one card kept across orders")
        history = card.history_ids.sorted("id")
        self.assertEqual(history.mapped("issued"), [3, 2])
        self.assertEqual(history[0].order_id, order.id)
        self.assertEqual(self.lily._wechat_stamp_cards(self.company)[0]["remaining"], 5)
        self.assertNotIn(card, self.lily._wechat_points_cards(), "stamps are not points")

    def test_stamp_per_visit_above_an_amount(self):
        self.program = self._stamp_program(mode="order", minimum_amount=100)
        __, points = self._sell([(self.coffee, 3)], self.lily)
        self.assertEqual(points, 0, "¥90: below the amount of a visit")
        self.assertFalse(self._card(self.lily))
        __, points = self._sell([(self.coffee, 5)], self.lily)
        self.assertEqual(points, 1, "one stamp for the visit, whatever the quantity")
        __, points = self._sell([(self.tea, 1)], self.lily)
        self.assertEqual(self._card(self.lily).points, 2)

    def test_wechat_payer_gets_the_stamp(self):
        """The WeChat payer bound at the sync (no customer at the till) gets the stamp of the visit, once."""
        self.program = self._stamp_program(mode="order", minimum_amount=100)
        order = self._pay_with_wechat(False, OPENID_STAMP, amount=100.0)
        self.assertEqual(order.wechat_bind_method, "payer")
        card = self._card(order.partner_id)
        self.assertEqual(card.points, 1)
        order._wechat_payer_bound()
        self.assertEqual(card.points, 1)

    def test_redeem_a_full_card(self):
        self.program = self._stamp_program(mode="order", minimum_amount=30, stamps=3)
        card = self.env["loyalty.card"].create({"program_id": self.program.id, "partner_id": self.lily.id, "points": 3})
        self.assertTrue(self.lily._wechat_stamp_cards(self.company)[0]["full"])
        result = self.Order.sync_from_ui([self.create_ui_order_data([(self.coffee, 1)], customer=self.lily)])
        order = self.Order.browse(result["pos.order"][0]["id"])
        order.confirm_coupon_programs(
            {str(card.id): {"points": -3 + 1, "program_id": self.program.id, "coupon_id": card.id}}
        )
        self.assertEqual(card.points, 1, "the full card spent on the reward, the visit's stamp on the new round")

    def test_cashier_access(self):
        """The cashier's POS reads the stamp card fields; the cashier cannot turn a program into a stamp card nor
        make a QR channel start one."""
        self.program = self._stamp_program()
        program = self.program.with_user(self.cashier)
        data = program._load_pos_data_fields(self.config.id)
        self.assertIn("wechat_stamp_card", data)
        self.assertEqual(program.read(["wechat_stamp_card", "wechat_stamp_count"])[0]["wechat_stamp_count"], 10)
        with self.assertRaises(AccessError):
            program.write({"wechat_welcome_stamps": 5})
        channel = self.env["wechat.qr.channel"].create({"name": "Counter", "account_id": self.account.id})
        with self.assertRaises(AccessError):
            channel.with_user(self.cashier).write({"wechat_stamp_program_id": self.program.id})

    def test_validation(self):
        """A stamp card: a nominative loyalty program, one reward of 2 stamps or more, rules per unit or per order."""
        program = self._stamp_program()
        two_rewards = [
            Command.create({"reward_type": "product", "reward_product_id": self.coffee.id, "required_points": 10}),
            Command.create({"reward_type": "discount", "discount": 10, "required_points": 5}),
        ]
        with self.assertRaisesRegex(ValidationError, "exactly one reward"):
            create_stamp_program(self.env, self.coffee, reward_ids=two_rewards)
        one_stamp = [
            Command.create({"reward_type": "product", "reward_product_id": self.coffee.id, "required_points": 1})
        ]
        with self.assertRaisesRegex(ValidationError, "at least 2 stamps"):
            create_stamp_program(self.env, self.coffee, reward_ids=one_stamp)
        with self.assertRaisesRegex(ValidationError, "per unit paid or per order"):
            create_stamp_program(
                self.env,
                self.coffee,
                rule_ids=[Command.create({"reward_point_mode": "money", "reward_point_amount": 1})],
            )
        with self.assertRaisesRegex(ValidationError, "per unit paid or per order"):
            create_stamp_program(self.env, self.coffee, rule_ids=[])
        with self.assertRaisesRegex(ValidationError, "per customer"):
            create_stamp_program(self.env, self.coffee, applies_on="current")
        with self.assertRaisesRegex(ValidationError, "loyalty card program"):
            create_stamp_program(self.env, self.coffee, program_type="promotion")
        with self.assertRaisesRegex(ValidationError, "fewer than the stamps"):
            create_stamp_program(self.env, self.coffee, wechat_welcome_stamps=10)
        with self.assertRaisesRegex(ValidationError, "exactly one reward"):
            program.write({"reward_ids": [two_rewards[1]]})
        # Not a stamp card: none of these rules.
        other = create_stamp_program(self.env, self.coffee, wechat_stamp_card=False, reward_ids=two_rewards)
        self.assertFalse(other.wechat_stamp_card)

    def test_program_template(self):
        Program = self.env["loyalty.program"]
        self.assertIn("wechat_stamp_card", Program.get_program_templates())
        self.assertNotIn("wechat_stamp_card", Program.with_context(menu_type="gift_ewallet").get_program_templates())
        action = Program.create_from_template("wechat_stamp_card")
        program = Program.browse(action["res_id"])
        self.assertTrue(program.wechat_stamp_card)
        self.assertTrue(program.is_nominative)
        self.assertEqual(program.wechat_stamp_count, 10)
        self.assertEqual(program.rule_ids.reward_point_mode, "order")


@tagged("post_install", "-at_install")
class TestStampCardPages(CouponHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["loyalty.program"].search([("wechat_stamp_card", "=", True)]).write({"active": False})
        cls.coffee = cls.env["product.product"].create({"name": "Free coffee", "list_price": 30})
        cls.stamps = create_stamp_program(
            cls.env, cls.coffee, name="Coffee stamps", company_id=cls.account.company_id.id
        )

    def browse_as(self, openid):
        self.fake.set_browser_user(self.appid, openid)
        self.opener = Opener(self.cr)

    def test_member_page_draws_the_stamps(self):
        member = self.make_member()
        self.env["loyalty.card"].create({"program_id": self.stamps.id, "partner_id": member.partner_id.id, "points": 4})
        self.browse_as(member.openid)
        page = self.url_open(f"/wechat/member/{self.account.id}?lang=en").text
        self.assertIn('id="wc-stamp-cards"', page)
        self.assertEqual(page.count("wc-stamp wc-stamp-filled"), 4)
        self.assertEqual(page.count("wc-stamp wc-stamp-empty"), 6)
        self.assertIn("4/10", page)
        self.assertIn("6 more stamps to get", page)
        ids = [page.index(f'id="{html_id}"') for html_id in ("wm-points", "wc-stamp-cards", "wm-profile")]
        self.assertEqual(ids, sorted(ids))

    def test_member_page_without_a_card_yet(self):
        member = self.make_member()
        self.browse_as(member.openid)
        page = self.url_open(f"/wechat/member/{self.account.id}?lang=en").text
        self.assertEqual(page.count("wc-stamp wc-stamp-filled"), 0)
        self.assertEqual(page.count("wc-stamp wc-stamp-empty"), 10)
        self.assertIn("Your next purchase starts your card.", page)
        # In Chinese.
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["wechat_member", "wechat_coupon"], ["zh_CN"])
        page = self.url_open(f"/wechat/member/{self.account.id}?lang=zh").text
        self.assertIn("下次消费即可开始集章", page)

    def test_no_stamp_program_no_section(self):
        self.stamps.active = False
        member = self.make_member()
        self.browse_as(member.openid)
        page = self.url_open(f"/wechat/member/{self.account.id}?lang=en").text
        self.assertIn('id="wm-points"', page)
        self.assertNotIn('id="wc-stamp-cards"', page)

    def test_qr_channel_starts_a_card_once(self):
        self.stamps.wechat_welcome_stamps = 2
        channel = self.env["wechat.qr.channel"].create(
            {
                "name": "Coffee counter",
                "account_id": self.account.id,
                "scene": "coffee_counter",
                "wechat_stamp_program_id": self.stamps.id,
            }
        )
        openid = "oSTAMPCHANNEL000000000000001"
        self.env.flush_all()  # the simulator posts to the webhook itself (url_open would flush)
        self.sim.follow(openid=openid, scene="coffee_counter")
        member = self.env["wechat.member"].search([("openid", "=", openid)])
        cards = self.env["loyalty.card"].search([("partner_id", "=", member.partner_id.id)])
        self.assertEqual(cards.program_id, self.stamps)
        self.assertEqual(cards.points, 2)
        self.assertEqual(cards.history_ids.issued, 2)
        self.assertIn(channel.name, cards.history_ids.description)
        # A second scan gives nothing more.
        self.sim.scan(openid, "coffee_counter")
        cards = self.env["loyalty.card"].search([("partner_id", "=", member.partner_id.id)])
        self.assertEqual(len(cards), 1)
        self.assertEqual(cards.points, 2)
        self.assertEqual(len(cards.history_ids), 1)
        # A member who came before the channel started cards gets one on their next scan.
        old = self.make_member()
        self.sim.scan(old.openid, "coffee_counter")
        self.assertEqual(
            self.env["loyalty.card"].search([("partner_id", "=", old.partner_id.id)]).program_id, self.stamps
        )

    def test_qr_channel_without_stamp_card(self):
        self.env["wechat.qr.channel"].create({"name": "Poster", "account_id": self.account.id, "scene": "poster_x"})
        openid = "oSTAMPCHANNEL000000000000002"
        self.sim.follow(openid=openid, scene="poster_x")
        member = self.env["wechat.member"].search([("openid", "=", openid)])
        self.assertEqual(len(member), 1)
        self.assertFalse(self.env["loyalty.card"].search([("partner_id", "=", member.partner_id.id)]))
