"""POS: refunds to the customer's WeChat from Odoo's refund flow and from the back office.

Server side against the fake WeChat platform (``TestPosWeChatPayRefund``), and
the POS refund flow in a browser (``TestPosWeChatPayRefundTour``).
"""

import uuid
from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessDenied, AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import (
    PoSCommonWeChat,
    PosWeChatPayTourCommon,
    WeChatFakeMixin,
    setup_wechat_pos,
    v3_credentials,
)

OPENID_A = "oREFUND000000000000000000A01"


@tagged("post_install", "-at_install")
class TestPosWeChatPayRefund(WeChatFakeMixin, PoSCommonWeChat):
    # WeChat's refund API of the payment method's API version, and its query
    REFUND_PATH = "/secapi/pay/refund"
    REFUND_QUERY_PATH = "/pay/refundquery"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        setup_wechat_pos(cls)
        cls.other_wechat_pm = cls.wechat_pm.copy({"name": "WeChat Pay 2"})
        cls.config.write({"payment_method_ids": [Command.link(cls.other_wechat_pm.id)]})
        cls.cashier = new_test_user(
            cls.env,
            "wechat_refund_cashier",
            groups="wechat_member.group_wechat_cashier",
            company_id=cls.config.company_id.id,
            company_ids=cls.config.company_id.ids,
        )

    def setUp(self):
        super().setUp()
        self.open_new_session()
        self.fake.clear_logs()
        self.Refund = self.env["wechat.pay.refund"]
        self.refunds_before = len(self.fake.refunds)

    def _fake_refunds(self):
        """The refunds the fake recorded during this test (its ledger lasts the whole class)."""
        return self.fake.refunds[self.refunds_before :]

    # ------------------------------------------------------------------ helpers
    def _pay(self, qty=1, wechat=None, cash=0.0, customer=False):
        """A sale of ``qty`` tea paid with WeChat Pay (``wechat``: the amounts of the WeChat lines) and cash."""
        total = self.tea.lst_price * qty
        wechat = wechat if wechat is not None else [total - cash]
        payments = [(self.wechat_pm, amount) for amount in wechat] + ([(self.cash_pm1, cash)] if cash else [])
        order_uuid = str(uuid.uuid4())
        data = self.create_ui_order_data([(self.tea, qty)], customer=customer, uuid=order_uuid, payments=payments)
        for payment, amount in zip(data["payment_ids"], wechat, strict=False):
            line = {"order_uuid": order_uuid, "payment_uuid": str(uuid.uuid4())}
            code = self.fake.pay_script(self.fake.auth_code(), "SUCCESS", openid=OPENID_A)
            res = self.wechat_pm.wechat_pay_charge(
                dict(line, auth_code=code, amount=amount, currency=self.config.currency_id.name)
            )
            self.assertEqual(res["status"], "done", res)
            payment[2].update(uuid=line["payment_uuid"], transaction_id=res["transaction_id"], payment_status="done")
        return self._sync(data)

    def _sync(self, data):
        result = self.env["pos.order"].sync_from_ui([data])
        return self.env["pos.order"].browse(result["pos.order"][0]["id"])

    def _refund_data(self, order, qty=1, wechat=None, cash=0.0, method=None):
        """The refund order the POS builds (Refund in the ticket screen) for ``qty`` tea of ``order``."""
        line = order.lines[0]
        total = -line.price_unit * qty
        wechat = total + cash if wechat is None else wechat
        payments = [(method or self.wechat_pm, wechat)] + ([(self.cash_pm1, -cash)] if cash else [])
        data = self.create_ui_order_data(
            [{"product": self.tea, "quantity": -qty, "refunded_orderline_id": line.id}],
            customer=order.partner_id,
            payments=payments,
        )
        data["payment_ids"][0][2]["uuid"] = str(uuid.uuid4())
        return data

    def _request(self, data, method=None, amount=None):
        payment = data["payment_ids"][0][2]
        return {
            "order_uuid": data["uuid"],
            "payment_uuid": payment["uuid"],
            "amount": payment["amount"] if amount is None else amount,
            "currency": self.config.currency_id.name,
            "refunded_orderline_ids": [line[2]["refunded_orderline_id"] for line in data["lines"]],
        }

    def _refund(self, data, method=None, **kwargs):
        return (method or self.wechat_pm).wechat_pay_refund(self._request(data, **kwargs))

    def _status(self, data, method=None):
        return (method or self.wechat_pm).wechat_pay_refund_status(self._request(data))

    def _assert_sync_refused(self, data):
        """Odoo keeps an order whose payments cannot be processed as a draft (logged): never paid."""
        with self.assertLogs("odoo.addons.point_of_sale.models.pos_order", "ERROR") as logs:
            order = self._sync(data)
        self.assertIn("not made by WeChat Pay", "\n".join(logs.output))
        self.assertEqual(order.state, "draft")
        self.assertFalse(self.Refund.search([("pos_payment_id", "in", order.payment_ids.ids)]))
        return order

    def _line_refunds(self, data):
        return self.Refund.search([("pos_order_uuid", "=", data["uuid"])], order="id")

    # ------------------------------------------------------------------ full / partial
    def test_full_refund_then_status_and_sync(self):
        order = self._pay()
        partner = order.partner_id
        self.assertEqual(partner.wechat_purchase_count, 1)
        data = self._refund_data(order)
        res = self._refund(data)
        # Accepted, then asynchronous: the fake answers PROCESSING to the first query.
        self.assertEqual(res["status"], "processing", res)
        self.assertEqual(res["left"], 0.0)
        refund = self._line_refunds(data)
        txn = order.payment_ids.wechat_pay_transaction_id
        self.assertRecordValues(
            refund,
            [
                {
                    "state": "processing",
                    "amount": 100.0,
                    "refund_fee": 10000,
                    "transaction_id": txn.id,
                    "payment_method_id": self.wechat_pm.id,
                    "out_refund_no": self.Refund._out_refund_no(data["uuid"], data["payment_ids"][0][2]["uuid"]),
                }
            ],
        )
        self.assertTrue(refund.refund_id)
        res = self._status(data)
        self.assertEqual(res["status"], "done")
        self.assertEqual(refund.state, "done")
        self.assertTrue(refund.done_at)
        self.assertEqual(txn.refunded_amount, 100.0)
        self.assertEqual(sum(r["refund_fee"] for r in self._fake_refunds()), 10000)
        refund_order = self._sync(data)
        self.assertEqual(refund_order.state, "paid")
        self.assertEqual(refund.pos_order_id, refund_order)
        self.assertEqual(refund.pos_payment_id, refund_order.payment_ids)
        self.assertEqual(refund.charge_order_id, order)
        # The refund order reverses the statistics, once (a re-sync changes nothing).
        partner.invalidate_recordset()
        self.assertEqual(partner.wechat_purchase_count, 0)
        self.assertAlmostEqual(partner.wechat_purchase_amount, 0.0)
        self.env["pos.order"].sync_from_ui([data])
        refund_order._wechat_count_purchase()
        partner.invalidate_recordset()
        self.assertAlmostEqual(partner.wechat_purchase_amount, 0.0)
        self.assertEqual(len(self.calls_to(self.REFUND_PATH)), 1)
        self.assertEqual(self.fake.violations, [])

    def test_cron_settles_processing_refunds(self):
        """A refund the POS left as processing is followed up by the cron, not by the cashier."""
        order = self._pay()
        data = self._refund_data(order)
        self.fake.refund_script(
            "SUCCESS", processing=2, out_trade_no=order.payment_ids.wechat_pay_transaction_id.out_trade_no
        )
        self.assertEqual(self._refund(data)["status"], "processing")
        refund = self._line_refunds(data)
        self.env["wechat.pay.refund"]._cron_sync()
        self.assertEqual(refund.state, "processing", "still processing for WeChat")
        self.env["wechat.pay.refund"]._cron_sync()
        self.assertRecordValues(refund, [{"state": "done"}])
        self.assertTrue(refund.done_at)
        queries = [c for c in self.fake.calls if self.REFUND_QUERY_PATH in c["path"]]
        self.env["wechat.pay.refund"]._cron_sync()
        self.assertEqual(
            len([c for c in self.fake.calls if self.REFUND_QUERY_PATH in c["path"]]),
            len(queries),
            "a settled refund is not asked again",
        )

    def test_two_refunds_then_over_refund_refused(self):
        order = self._pay(qty=2)
        first = self._refund_data(order)
        self.assertEqual(self._refund(first)["status"], "processing")
        self._sync(first)
        second = self._refund_data(order, wechat=-150.0, cash=0.0)
        res = self._refund(second)
        self.assertEqual(res["status"], "failed")
        self.assertEqual(res["left"], 100.0)
        self.assertIn("Only", res["message"])
        self.assertIn("100.00", res["message"])
        self.assertFalse(self._line_refunds(second))
        self.assertEqual(len(self.calls_to(self.REFUND_PATH)), 1)  # refused before WeChat is asked
        rest = self._refund_data(order)
        self.assertEqual(self._refund(rest)["status"], "processing")
        self.assertEqual(order.payment_ids.wechat_pay_transaction_id.refunded_amount, 200.0)
        self.assertEqual(sum(r["refund_fee"] for r in self._fake_refunds()), 20000)
        self.assertEqual(self.fake.violations, [])

    def test_retried_request_never_refunds_twice(self):
        order = self._pay()
        data = self._refund_data(order)
        self._refund(data)
        res = self._refund(data)
        self.assertEqual(res["status"], "done")
        self.assertEqual(len(self._line_refunds(data)), 1)
        self.assertEqual(len(self.calls_to(self.REFUND_PATH)), 1)
        self.assertEqual(len(self._fake_refunds()), 1)

    def test_network_failure_then_next_sync(self):
        order = self._pay()
        # The request never reaches WeChat: the refund stays pending, the next status sends the same number.
        data = self._refund_data(order)
        self.fake.inject(self.REFUND_PATH, reset=True)
        with self.assertLogs("odoo.addons.wechat_member", "WARNING"):
            res = self._refund(data)
        self.assertEqual(res["status"], "pending")
        refund = self._line_refunds(data)
        self.assertEqual(refund.state, "pending")
        self.assertEqual(self._fake_refunds(), [])
        self.assertEqual(self._status(data)["status"], "processing")
        self.assertEqual(self._status(data)["status"], "done")
        self.assertEqual(len(self._fake_refunds()), 1)
        self.assertEqual(self._fake_refunds()[0]["out_refund_no"], refund.out_refund_no)

    def test_refund_accepted_behind_a_systemerror_is_queried(self):
        order = self._pay()
        data = self._refund_data(order)
        self.fake.refund_script("SYSTEMERROR", processing=0)
        with self.assertLogs("odoo.addons.wechat_member", "WARNING"):
            res = self._refund(data)
        self.assertEqual(res["status"], "done", res)
        self.assertEqual(len(self.calls_to(self.REFUND_PATH)), 1)
        self.assertEqual(len(self._fake_refunds()), 1)

    def test_status_change_and_refundclose(self):
        for outcome, state in (("CHANGE", "change"), ("REFUNDCLOSE", "closed")):
            order = self._pay()
            data = self._refund_data(order)
            self.fake.refund_script(outcome, processing=1)
            self.assertEqual(self._refund(data)["status"], "processing")
            res = self._status(data)
            self.assertEqual(res["status"], state)
            self.assertIn("merchant platform" if outcome == "CHANGE" else "closed", res["message"])
            self.assertEqual(self._line_refunds(data).state, state)
            # Not refunded: the refund order cannot be paid with a WeChat refund.
            self._assert_sync_refused(data)
        # A closed refund gives the amount back to refund.
        self.assertEqual(order.payment_ids.wechat_pay_transaction_id.refunded_amount, 0.0)

    def test_merchant_balance_not_enough(self):
        order = self._pay()
        data = self._refund_data(order)
        self.fake.refund_script("NOTENOUGH")
        res = self._refund(data)
        self.assertEqual(res["status"], "failed")
        self.assertIn("balance", res["message"])
        # Topped up: the same line again sends the same number.
        self.assertEqual(self._refund(data)["status"], "processing")
        self.assertEqual(len(self._line_refunds(data)), 1)

    def test_charge_older_than_the_refund_limit(self):
        order = self._pay()
        order.payment_ids.wechat_pay_transaction_id.charged_at = fields.Datetime.now() - timedelta(days=366)
        res = self._refund(self._refund_data(order))
        self.assertEqual(res["status"], "failed")
        self.assertIn("one year", res["message"])
        self.assertEqual(self.calls_to(self.REFUND_PATH), [])

    # ------------------------------------------------------------------ several charges / methods
    def test_amount_spanning_two_charges_is_split(self):
        order = self._pay(wechat=[60.0, 40.0])
        data = self._refund_data(order)
        self.assertEqual(self._refund(data)["status"], "processing")
        refunds = self._line_refunds(data)
        payment_uuid = data["payment_ids"][0][2]["uuid"]
        self.assertEqual(refunds.mapped("amount"), [60.0, 40.0])
        self.assertEqual(
            refunds.mapped("out_refund_no"),
            [
                self.Refund._out_refund_no(data["uuid"], payment_uuid),
                self.Refund._out_refund_no(data["uuid"], f"{payment_uuid}/2"),
            ],
        )
        self.assertEqual(refunds.transaction_id, order.payment_ids.wechat_pay_transaction_id)
        self.assertEqual(self._status(data)["status"], "done")
        refund_order = self._sync(data)
        self.assertEqual(refunds.pos_payment_id, refund_order.payment_ids)

    def test_multi_method_order_refunds_the_wechat_part_only(self):
        order = self._pay(cash=40.0)
        res = self._refund(self._refund_data(order))
        self.assertEqual(res["status"], "failed")
        self.assertEqual(res["left"], 60.0)
        data = self._refund_data(order, cash=40.0)
        self.assertEqual(data["payment_ids"][0][2]["amount"], -60.0)
        self.assertEqual(self._refund(data)["status"], "processing")
        refund_order = self._sync(data)
        self.assertEqual(refund_order.state, "paid")
        self.assertEqual(sorted(refund_order.payment_ids.mapped("amount")), [-60.0, -40.0])

    def test_wrong_payment_method_refused(self):
        order = self._pay()
        other = self.other_wechat_pm
        with self.assertRaises(ValidationError) as cm:
            self._refund(self._refund_data(order, method=other), method=other)
        self.assertIn("paid with WeChat Pay, not WeChat Pay 2", str(cm.exception))
        # A sale paid in cash only is not refunded through WeChat.
        cash_data = self.create_ui_order_data([(self.tea, 1)])
        cash_order = self._sync(cash_data)
        with self.assertRaises(ValidationError) as cm:
            self._refund(self._refund_data(cash_order))
        self.assertIn("not paid with WeChat Pay", str(cm.exception))
        self.assertEqual(self.calls_to(self.REFUND_PATH), [])

    def test_forged_wechat_refund_payment_refused(self):
        order = self._pay()
        # An insider syncs a refund order with a WeChat Pay payment WeChat never refunded.
        self._assert_sync_refused(self._refund_data(order))
        # Nor may one refund pay for two refund orders (another order reusing its payment line).
        data = self._refund_data(order)
        self._refund(data)
        self._sync(data)
        forged = self._refund_data(order)
        forged["payment_ids"][0][2]["uuid"] = data["payment_ids"][0][2]["uuid"]
        self._assert_sync_refused(forged)

    # ------------------------------------------------------------------ rights
    def test_cashier_refunds_others_cannot(self):
        order = self._pay()
        data = self._refund_data(order)
        res = self.wechat_pm.with_user(self.cashier).wechat_pay_refund(self._request(data))
        self.assertEqual(res["status"], "processing")
        outsider = new_test_user(self.env, "wechat_refund_outsider", groups="base.group_user")
        with self.assertRaises(AccessDenied):
            self.wechat_pm.with_user(outsider).wechat_pay_refund(self._request(self._refund_data(order)))
        # The cashier cannot write the refund records themselves.
        refunds = self.Refund.with_user(self.cashier).search([])
        self.assertTrue(refunds)
        with self.assertRaises(AccessError):
            refunds.write({"state": "done"})

    # ------------------------------------------------------------------ back office
    def test_back_office_refund(self):
        order = self._pay()
        partner = order.partner_id
        refund_order = self.env["pos.order"].browse(order.refund()["res_id"])
        self.make_payment(refund_order, self.wechat_pm, refund_order.amount_total)
        self.assertEqual(refund_order.state, "paid")
        refund = self.Refund.search([("pos_order_id", "=", refund_order.id)])
        self.assertEqual(refund.state, "processing")
        self.assertEqual(refund.pos_payment_id, refund_order.payment_ids)
        self.assertEqual(refund.transaction_id, order.payment_ids.wechat_pay_transaction_id)
        partner.invalidate_recordset()
        self.assertEqual(partner.wechat_purchase_count, 0)
        # Nothing left: a second back-office refund is refused with WeChat's amount left.
        again = self.env["pos.order"].browse(order.refund()["res_id"])
        with self.assertRaises(UserError) as cm:
            self.make_payment(again, self.wechat_pm, again.amount_total)
        self.assertIn("Only", str(cm.exception))
        self.assertEqual(len(self.calls_to(self.REFUND_PATH)), 1)


@tagged("post_install", "-at_install")
class TestPosWeChatPayRefundTour(PosWeChatPayTourCommon):
    def setUp(self):
        super().setUp()
        self.refunds_before = len(self.fake.refunds)  # the fake's ledger lasts the whole class

    def test_pos_refund_tour(self):
        for code in ("134567890123456791", "134567890123456792"):
            self.fake.pay_script(code, "SUCCESS", openid=OPENID_A)
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("WeChatPosRefundTour", login="pos_user")
        orders = self._orders()
        self.assertEqual(len(orders), 5)
        self.assertEqual(set(orders.mapped("state")), {"paid"})
        refunds = self.env["wechat.pay.refund"].search([("payment_method_id", "=", self.wechat_pm.id)], order="id")
        self.assertEqual(len(refunds), 3)
        self.assertEqual(refunds.pos_order_id, orders[1] | orders[3] | orders[4])
        self.assertEqual(set(refunds.mapped("state")) - {"processing", "done"}, set())
        sale_1, sale_2 = orders[0], orders[2]
        self.assertEqual(refunds[0].charge_order_id, sale_1)
        self.assertEqual(refunds[1:].charge_order_id, sale_2)
        self.assertEqual(sum(r["refund_fee"] for r in self.fake.refunds[self.refunds_before :]), 198 + 396)
        # The refund orders took the statistics back: the payer has no purchase left.
        member = self.env["wechat.member"].search([("account_id", "=", self.account.id), ("openid", "=", OPENID_A)])
        self.assertEqual(member.partner_id.wechat_purchase_count, 0)
        self.assertEqual(self.fake.violations, [])

    def test_pos_refund_over_tour(self):
        self.fake.pay_script("134567890123456793", "SUCCESS", openid=OPENID_A)
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("WeChatPosRefundOverTour", login="pos_user")
        orders = self._orders()
        self.assertEqual(len(orders), 3)
        self.assertEqual(set(orders.mapped("state")), {"paid"})
        refunds = self.env["wechat.pay.refund"].search([("payment_method_id", "=", self.wechat_pm.id)])
        self.assertEqual(len(refunds), 1)  # the second part was refused before WeChat was asked
        self.assertEqual(refunds.amount, 1.98)
        self.assertEqual(orders[2].payment_ids.payment_method_id.mapped("type"), ["cash"])
        self.assertEqual(len(self.fake.calls_to("/secapi/pay/refund")), 1)
        self.assertEqual(self.fake.violations, [])


@tagged("post_install", "-at_install")
class TestPosWeChatPayRefundV3(TestPosWeChatPayRefund):
    """The same refunds through an APIv3 payment method (``/v3/refund/domestic/refunds``)."""

    allow_inherited_tests_method = True
    REFUND_PATH = "/v3/refund/domestic/refunds"
    REFUND_QUERY_PATH = "/v3/refund/domestic/refunds/"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account.write(v3_credentials(cls.fake, cls.account.pay_mch_id))
        (cls.wechat_pm | cls.other_wechat_pm).write({"wechat_pay_api_version": "v3"})
