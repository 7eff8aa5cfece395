"""Refunds and retries never leave wrong points.

A refund order takes back, once, the points its refunded lines earned on each
nominative card (proportionally for a partial refund: by amount, by quantity
for a rule per unit), a refunded reward gives its points back, and a POS that
confirms an order's points twice adds them once.  All synced as the cashier,
as the till does.
"""

from odoo import Command
from odoo.exceptions import AccessError
from odoo.models import check_method_name
from odoo.tests import tagged

from odoo.addons.wechat_coupon.tests.common import create_member_points_program
from odoo.addons.wechat_member.tests.common import PosMemberCommon


@tagged("post_install", "-at_install")
class TestPosRefundPoints(PosMemberCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["loyalty.program"].search([]).write({"active": False})
        cls.coffee = cls.create_product("Coffee", cls.categ_basic, 30.0)
        cls.cake = cls.create_product("Cake", cls.categ_basic, 50.0)
        cls.points = create_member_points_program(cls.env, "Lotus points (refund)", cls.config, 100)
        cls.stamps = cls.env["loyalty.program"].create(
            {
                "name": "Coffee stamps",
                "program_type": "loyalty",
                "applies_on": "both",
                "trigger": "auto",
                "wechat_stamp_card": True,
                "pos_ok": True,
                "pos_config_ids": [Command.link(cls.config.id)],
                "rule_ids": [
                    Command.create(
                        {
                            "reward_point_mode": "unit",
                            "reward_point_amount": 1,
                            "product_ids": [Command.set(cls.coffee.ids)],
                        }
                    )
                ],
                "reward_ids": [Command.create({"reward_type": "discount", "discount": 100, "required_points": 10})],
            }
        )

    def setUp(self):
        super().setUp()
        self.open_new_session()
        self.fake.clear_logs()
        self.Order = self.env["pos.order"].with_user(self.cashier)

    def tearDown(self):
        self.assertEqual(self.fake.violations, [], "the fake platform saw no misuse")
        super().tearDown()

    # ------------------------------------------------------------------ helpers
    def _sync(self, data):
        result = self.Order.sync_from_ui([data])
        return self.env["pos.order"].browse(result["pos.order"][0]["id"]), result

    def _confirm(self, order, won, spent=None):
        """What the POS does after the sync: confirm the points (``{program: points}``), then their history."""
        spent = spent or {}
        coupon_data = {}
        for program in set(won) | set(spent):
            card = self._card(program)
            key = card.id if card else -program.id
            coupon_data[str(key)] = {
                "points": won.get(program, 0) - spent.get(program, 0),
                "program_id": program.id,
                "coupon_id": key,
                "partner_id": self.lily.id,
            }
        res = self.Order.browse(order.id).confirm_coupon_programs(coupon_data)
        history = [
            {
                "order_id": order.id,
                "card_id": vals["coupon_id"],
                "won": won.get(self.env["loyalty.program"].browse(vals["program_id"]), 0),
                "spent": spent.get(self.env["loyalty.program"].browse(vals["program_id"]), 0),
            }
            for vals in coupon_data.values()
        ]
        updates = [{"id": u["id"], "old_id": u["old_id"]} for u in res["coupon_updates"]]
        self.Order.browse(order.id).add_loyalty_history_lines(history, updates)
        return res

    def _sell(self, lines, won, **kwargs):
        order, _result = self._sync(self.create_ui_order_data(lines, customer=self.lily, **kwargs))
        self._confirm(order, won)
        return order

    def _refund(self, order, quantities, **extra):
        """A refund of ``order``: ``{original line: quantity refunded}``, paid back in cash."""
        lines = [
            {"product": line.product_id, "quantity": -qty, "refunded_orderline_id": line.id}
            for line, qty in quantities.items()
        ]
        data = self.create_ui_order_data(lines, customer=self.lily)
        for command, (line, qty) in zip(data["lines"], quantities.items(), strict=True):
            vals = command[2]
            if line.is_reward_line:
                # A reward line is refunded at its own (negative) price, as the ticket screen does.
                vals.update(price_unit=line.price_unit, price_subtotal=-line.price_subtotal * qty / line.qty)
                vals["price_subtotal_incl"] = -line.price_subtotal_incl * qty / line.qty
        total = sum(command[2]["price_subtotal_incl"] for command in data["lines"])
        data.update(amount_total=total, amount_paid=total, amount_tax=0)
        data["payment_ids"][0][2]["amount"] = total
        data.update(extra)
        return self._sync(data)[0], data

    def _card(self, program):
        return self.env["loyalty.card"].search([("partner_id", "=", self.lily.id), ("program_id", "=", program.id)])

    def _history(self, order, kind):
        return self.env["loyalty.history"].search(
            [("order_model", "=", "pos.order"), ("order_id", "=", order.id), ("wechat_kind", "=", kind)]
        )

    def _line(self, order, product):
        return order.lines.filtered(lambda line: line.product_id == product)

    # ------------------------------------------------------------------ takeback
    def test_full_refund_takes_back_everything(self):
        order = self._sell([(self.tea, 2)], {self.points: 200})
        card = self._card(self.points)
        self.assertEqual(card.points, 200)
        # Another member got points for this order (a referrer, wechat_referral): not this refund's to take.
        referrer = self.env["loyalty.card"].create({"program_id": self.points.id, "partner_id": self.stranger.id})
        self.env["loyalty.history"].create(
            {
                "card_id": referrer.id,
                "order_model": "pos.order",
                "order_id": order.id,
                "description": "Referral",
                "issued": 50,
                "used": 0,
            }
        )
        referrer.points = 50
        refund, _data = self._refund(order, {order.lines: 2})
        self.assertEqual(referrer.points, 50)
        self.assertTrue(refund.wechat_refund_points_done)
        self.assertEqual(card.points, 0)
        line = self._history(refund, "refund")
        self.assertEqual((line.card_id, line.used, line.issued), (card, 200, 0))
        self.assertIn(order.display_name, line.description)

    def test_partial_refund_by_amount_and_by_unit(self):
        """¥90 of coffee (3 stamps) and a ¥50 cake: 140 points; refund one coffee: 30 points and 1 stamp."""
        order = self._sell([(self.coffee, 3), (self.cake, 1)], {self.points: 140, self.stamps: 3})
        points, stamps = self._card(self.points), self._card(self.stamps)
        self._refund(order, {self._line(order, self.coffee): 1})
        self.assertEqual(points.points, 110, "30 of 140 paid: 30 points")
        self.assertEqual(stamps.points, 2, "1 of 3 coffees: 1 stamp")
        # The cake now: the rest of the points, no stamp (the cake earned none).
        refund, _data = self._refund(order, {self._line(order, self.cake): 1})
        self.assertEqual(points.points, 60)
        self.assertEqual(stamps.points, 2)
        self.assertFalse(self._history(refund, "refund").filtered(lambda h: h.card_id == stamps))

    def test_two_partial_refunds_never_take_back_more_than_earned(self):
        """The order really earned 260 (a level multiplier): each half takes back 130, a third refund nothing."""
        order = self._sell([(self.tea, 2)], {self.points: 260})
        card = self._card(self.points)
        line = order.lines
        first, _data = self._refund(order, {line: 1})
        self.assertEqual(card.points, 130)
        second, _data = self._refund(order, {line: 1})
        self.assertEqual(card.points, 0)
        self.assertEqual(self._history(second, "refund").used, 130)
        # One more unit refunded than sold (the server does not stop it): nothing more is taken back.
        third, _data = self._refund(order, {line: 1})
        self.assertEqual(card.points, 0)
        self.assertFalse(self._history(third, "refund"))

    def test_refund_synced_twice_takes_back_once(self):
        order = self._sell([(self.tea, 2)], {self.points: 200})
        card = self._card(self.points)
        card.points += 50  # other purchases
        refund, data = self._refund(order, {order.lines: 1})
        self.assertEqual(card.points, 150)
        self.Order.sync_from_ui([data])  # the answer was lost: the till sends it again
        self.assertEqual(self.env["pos.order"].search_count([("uuid", "=", refund.uuid)]), 1)
        refund._wechat_refund_points()
        refund._wechat_take_back_points()
        self.assertEqual(card.points, 150, "taken back once, whatever the number of calls")
        self.assertEqual(len(self._history(refund, "refund")), 1)

    def test_refund_order_earns_nothing(self):
        """pos_loyalty counts a rule per order even on a refund: the server adds no points for it."""
        order = self._sell([(self.tea, 1)], {self.points: 100})
        card = self._card(self.points)
        refund, _data = self._refund(order, {order.lines: 1})
        self.assertEqual(card.points, 0)
        self.Order.browse(refund.id).confirm_coupon_programs(
            {str(card.id): {"points": 10, "program_id": self.points.id, "coupon_id": card.id}}
        )
        self.assertEqual(card.points, 0)

    def test_balance_may_go_negative(self):
        """The member spent the points already: the refund takes them back all the same (a debt)."""
        order = self._sell([(self.tea, 1)], {self.points: 100})
        card = self._card(self.points)
        card.points = 40
        self._refund(order, {order.lines: 1})
        self.assertEqual(card.points, -60)

    def test_refund_of_an_order_without_points_history(self):
        """Points never confirmed (no history): nothing to take back."""
        order, _result = self._sync(self.create_ui_order_data([(self.tea, 1)], customer=self.lily))
        refund, _data = self._refund(order, {order.lines: 1})
        self.assertTrue(refund.wechat_refund_points_done)
        self.assertFalse(self._history(refund, "refund"))
        self.assertFalse(self._card(self.points))

    # ------------------------------------------------------------------ rewards refunded
    def test_refunded_reward_gives_its_points_back(self):
        card = self.env["loyalty.card"].create(
            {"program_id": self.points.id, "partner_id": self.lily.id, "points": 250}
        )
        reward = self.points.reward_ids
        data = self.create_ui_order_data([(self.tea, 1), (reward.discount_line_product_id, 1)], customer=self.lily)
        data["wechat_bind_method"] = "customer_confirmed"
        reward_vals = data["lines"][1][2]
        reward_vals.update(
            price_unit=-10,
            price_subtotal=-10,
            price_subtotal_incl=-10,
            is_reward_line=True,
            reward_id=reward.id,
            coupon_id=card.id,
            points_cost=100,
            reward_identifier_code="rw1",
        )
        data.update(amount_total=90, amount_paid=90)
        data["payment_ids"][0][2]["amount"] = 90
        order, _result = self._sync(data)
        self._confirm(order, {self.points: 100}, spent={self.points: 100})
        self.assertEqual(card.points, 250, "earned 100 (the tea), spent 100")
        reward_line = order.lines.filtered("is_reward_line")
        refund, _data = self._refund(order, {self._line(order, self.tea): 1, reward_line: 1})
        self.assertEqual(self._history(refund, "refund").used, 100)
        restore = self._history(refund, "refund_restore")
        self.assertEqual((restore.card_id, restore.issued, restore.used), (card, 100, 0))
        self.assertEqual(card.points, 250, "as before the order")
        refund._wechat_refund_points()
        self.env["pos.order"].browse(refund.id)._wechat_restore_reward_points()
        self.assertEqual(card.points, 250, "given back once")

    # ------------------------------------------------------------------ once per order
    def test_double_confirm_adds_once(self):
        order, _result = self._sync(self.create_ui_order_data([(self.tea, 1)], customer=self.lily))
        coupon_data = {
            "-1": {"points": 100, "program_id": self.points.id, "coupon_id": -1, "partner_id": self.lily.id},
        }
        history = [{"order_id": order.id, "card_id": -1, "won": 100, "spent": 0}]
        first = self.Order.browse(order.id).confirm_coupon_programs(coupon_data)
        updates = [{"id": u["id"], "old_id": u["old_id"]} for u in first["coupon_updates"]]
        self.Order.browse(order.id).add_loyalty_history_lines(history, updates)
        card = self._card(self.points)
        self.assertEqual(card.points, 100)
        self.assertTrue(order.wechat_points_done)
        # The POS calls again (lost answer, retry): no points, the same answer, one history line.
        second = self.Order.browse(order.id).confirm_coupon_programs(coupon_data)
        self.Order.browse(order.id).add_loyalty_history_lines(history, updates)
        self.assertEqual(card.points, 100)
        self.assertEqual(len(self._card(self.points)), 1)
        self.assertEqual(second["coupon_updates"], first["coupon_updates"])
        self.assertEqual(first["coupon_updates"][0]["points"], 100)
        self.assertEqual(set(second), {"coupon_updates", "program_updates", "new_coupon_info", "coupon_report"})
        lines = self.env["loyalty.history"].search([("order_model", "=", "pos.order"), ("order_id", "=", order.id)])
        self.assertEqual(lines.mapped("issued"), [100])
        # With the card's own id this time (the POS has loaded it): still nothing.
        third = self.Order.browse(order.id).confirm_coupon_programs(
            {str(card.id): {"points": 500, "program_id": self.points.id, "coupon_id": card.id}}
        )
        self.assertEqual(card.points, 100)
        self.assertEqual(third["coupon_updates"][0]["id"], card.id)

    # ------------------------------------------------------------------ access
    def test_cashier_cannot_reset_the_guards(self):
        order = self._sell([(self.tea, 1)], {self.points: 100})
        card = self._card(self.points)
        refund, data = self._refund(order, {order.lines: 1})
        self.assertEqual(card.points, 0)
        with self.assertRaises(AccessError):
            self.Order.browse(refund.id).write({"wechat_refund_points_done": False})
        with self.assertRaises(AccessError):
            self.Order.browse(order.id).write({"wechat_points_done": False})
        for method in ("_wechat_refund_points", "_wechat_take_back_points", "_wechat_restore_reward_points"):
            with self.assertRaises(AccessError):
                check_method_name(method)
        # A till that says the refund was settled already: the server decides.
        order2 = self._sell([(self.tea, 1)], {self.points: 100})
        self.assertEqual(card.points, 100)
        self._refund(order2, {order2.lines: 1}, wechat_refund_points_done=True, wechat_points_done=True)
        self.assertEqual(card.points, 0)

    def test_cashier_refund_sends_back_the_cards(self):
        """The sync answers with the member's cards after the takeback: the receipt shows that balance."""
        order = self._sell([(self.tea, 2)], {self.points: 200})
        card = self._card(self.points)
        lines = [{"product": self.tea, "quantity": -1, "refunded_orderline_id": order.lines.id}]
        data = self.create_ui_order_data(lines, customer=self.lily)
        _refund, result = self._sync(data)
        sent = {vals["id"]: vals["points"] for vals in result.get("loyalty.card", [])}
        self.assertEqual(sent.get(card.id), 100)
