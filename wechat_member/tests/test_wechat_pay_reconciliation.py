"""Day-end reconciliation of WeChat Pay with the trade bill (v2 ``pay/downloadbill``) of the fake platform."""

import uuid
from datetime import timedelta

from fakewechat.pay import PayState, _record_refund

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, tagged

from ..models.wechat_pay_reconciliation import beijing_day_bounds, beijing_now, last_bill_day
from ..tools.wechat_pay_bill import TradeBillError, parse_trade_bill, parse_trade_bill_summary
from .common import PosMemberCommon, v3_credentials

OPENID = "oRECON00000000000000000000A01"

# A bill in WeChat's format (documented sample, plus a refund line and a reversed charge).
SAMPLE_BILL = (
    "\ufeff交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,"
    "货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,"
    "商户数据包,手续费,费率,订单金额,申请退款金额,费率备注\r\n"
    "`2014-11-10 16:33:45,`wx2421b1c4370ec43b,`10000100,`0,`POS7,`1001690740201411100005734289,`1415640626,"
    "`085e9858e3ba5186aafcbaed1,`MICROPAY,`SUCCESS,`OTHERS,`CNY,`12.34,`0.00,`0,`0,`0.00,`0.00,`,`,"
    "`被扫支付测试, 含逗号,`订单额外描述,`0.07404,`0.60%,`12.34,`0.00,`\r\n"
    "`2014-11-10 17:01:02,`wx2421b1c4370ec43b,`10000100,`0,`POS7,`1001690740201411100005734289,`1415640626,"
    "`085e9858e3ba5186aafcbaed1,`MICROPAY,`REFUND,`OTHERS,`CNY,`0.00,`0.00,`50000000382014111000001,"
    "`R1415640626,`2.30,`0.00,`ORIGINAL,`SUCCESS,`被扫支付测试,`订单额外描述,`-0.01380,`0.60%,`12.34,`2.30,`\r\n"
    "`2014-11-10 18:00:00,`wx2421b1c4370ec43b,`10000100,`0,`POS7,`1002780740201411100005729794,`1415635270,"
    "`085e9858e90ca40c0b5aee463,`MICROPAY,`REVOKED,`OTHERS,`CNY,`0.01,`0.00,`0,`0,`0.00,`0.00,`,`,"
    "`被扫支付测试,`,`0.00006,`0.60%,`0.01,`0.00,`\r\n"
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n"
    "`3,`12.35,`2.30,`0.00,`0.06030,`12.35,`2.30\r\n"
)


@tagged("post_install", "-at_install")
class TestWeChatPayBillParser(TransactionCase):
    def test_parse_sample_bill(self):
        rows = parse_trade_bill(SAMPLE_BILL)
        self.assertEqual([r["kind"] for r in rows], ["pay", "refund", "pay"])
        pay, refund, revoked = rows
        self.assertEqual(pay["out_trade_no"], "1415640626")
        self.assertEqual(pay["transaction_id"], "1001690740201411100005734289")
        self.assertEqual(pay["amount_fen"], 1234)
        self.assertEqual(pay["trade_state"], "SUCCESS")
        self.assertEqual(pay["trade_time"], "2014-11-10 16:33:45")
        self.assertEqual(pay["out_refund_no"], "")
        self.assertEqual(pay["sub_mch_id"], "")
        self.assertEqual(pay["device_info"], "POS7")
        self.assertEqual(refund["out_refund_no"], "R1415640626")
        self.assertEqual(refund["refund_id"], "50000000382014111000001")
        self.assertEqual(refund["amount_fen"], 230)
        self.assertEqual(refund["refund_status"], "SUCCESS")
        self.assertEqual(refund["out_trade_no"], "1415640626")
        self.assertEqual(revoked["trade_state"], "REVOKED")
        self.assertEqual(revoked["amount_fen"], 1)
        self.assertEqual(parse_trade_bill_summary(SAMPLE_BILL)["总交易单数"], "3")

    def test_parse_refuses_what_is_not_a_bill(self):
        for text in ("", "<xml><return_code>FAIL</return_code></xml>", "a,b\n`1,`2"):
            with self.assertRaises(TradeBillError):
                parse_trade_bill(text)


@tagged("post_install", "-at_install")
class TestWeChatPayReconciliation(PosMemberCommon):
    def setUp(self):
        super().setUp()
        self.open_new_session()
        self.fake.clear_logs()
        # The fake lives for the class, Odoo's records for the test: each test starts with an empty ledger.
        with self.fake.lock:
            self.fake.payments = PayState()
        self.today = beijing_now().date()
        self.Reconciliation = self.env["wechat.pay.reconciliation"]

    # ------------------------------------------------------------------ helpers
    def _to_bill_time(self):
        """The fake's time moves to the morning after today (Beijing), when today's bill exists; back after."""
        seconds = self.fake.advance_to_bill(self.today)
        self.addCleanup(self.fake.advance, -seconds)

    def _txn(self, order):
        return order.payment_ids.wechat_pay_transaction_id

    def _reconcile(self, day=None):
        wizard = self.env["wechat.pay.reconcile.wizard"].create(
            {"payment_method_id": self.wechat_pm.id, "bill_date": day or self.today}
        )
        action = wizard.action_reconcile()
        return self.Reconciliation.browse(action["res_id"])

    def _refund(self, txn, fee, on_fake=True, state="done"):
        """A done refund of ``txn`` in Odoo (the refund flow is another part's: built here) and on the fake."""
        out_refund_no = self.env["wechat.pay.refund"]._out_refund_no(str(uuid.uuid4()), str(uuid.uuid4()))
        refund_id = False
        if on_fake:
            with self.fake.lock:
                order = self.fake.order(txn.out_trade_no)
                done = _record_refund(self.fake, order, fee, "refund", out_refund_no)
                self.fake.payments.refunds_by_no[(order.mch_id, out_refund_no)] = done
                order.state = "REFUND"
                refund_id = done["refund_id"]
        return (
            self.env["wechat.pay.refund"]
            .sudo()
            .create(
                {
                    "out_refund_no": out_refund_no,
                    "transaction_id": txn.id,
                    "payment_method_id": self.wechat_pm.id,
                    "company_id": txn.company_id.id,
                    "amount": fee / 100,
                    "refund_fee": fee,
                    "state": state,
                    "refund_id": refund_id,
                    "done_at": fields.Datetime.now(),
                }
            )
        )

    # ------------------------------------------------------------------ matching
    def test_matching_day_has_no_mismatch(self):
        orders = [self._pay_with_wechat(False, OPENID, amount) for amount in (100.0, 100.0, 100.0)]
        refund = self._refund(self._txn(orders[0]), 3000)
        self._to_bill_time()
        rec = self._reconcile()
        self.assertRecordValues(
            rec,
            [
                {
                    "state": "matched",
                    "mismatch_count": 0,
                    "odoo_count": 3,
                    "wechat_count": 3,
                    "odoo_amount": 300.0,
                    "wechat_amount": 300.0,
                    "odoo_refund_count": 1,
                    "wechat_refund_count": 1,
                    "wechat_refund_amount": 30.0,
                    "bill_date": self.today,
                }
            ],
        )
        self.assertEqual(refund.state, "done")
        self.assertFalse(rec.activity_ids)
        self.assertEqual(self.calls_to("/pay/downloadbill")[0]["body"]["bill_type"], "ALL")

    def test_wizard_proposes_the_only_wechat_pay_method(self):
        Wizard = self.env["wechat.pay.reconcile.wizard"].with_company(self.wechat_pm.company_id)
        self.assertEqual(Wizard.new({}).payment_method_id, self.wechat_pm)
        self.wechat_pm.copy({"name": "WeChat Pay 2"})
        self.assertFalse(Wizard.new({}).payment_method_id, "two methods: the manager chooses")

    def test_payment_missing_in_wechat(self):
        kept = self._pay_with_wechat(False, OPENID)
        dropped = self._pay_with_wechat(False, OPENID)
        self.fake.pay_bill_omit(self._txn(dropped).out_trade_no)
        self._to_bill_time()
        rec = self._reconcile()
        self.assertEqual(rec.state, "mismatch")
        self.assertRecordValues(
            rec.line_ids,
            [
                {
                    "kind": "missing_wechat",
                    "is_refund": False,
                    "pos_order_id": dropped.id,
                    "transaction_id": self._txn(dropped).id,
                    "out_trade_no": self._txn(dropped).out_trade_no,
                    "wechat_transaction_id": self._txn(dropped).transaction_id,
                    "odoo_amount": 100.0,
                    "wechat_amount": 0.0,
                }
            ],
        )
        self.assertTrue(kept)

    def test_payment_missing_in_odoo(self):
        self._pay_with_wechat(False, OPENID)
        # Charged at WeChat, but the POS never synced the order (closed the browser ...).
        line = {"order_uuid": str(uuid.uuid4()), "payment_uuid": str(uuid.uuid4())}
        code = self.fake.pay_script(self.fake.auth_code(), "SUCCESS", openid=OPENID)
        res = self.wechat_pm.wechat_pay_charge(dict(line, auth_code=code, amount=45.5, currency="CNY"))
        self.assertEqual(res["status"], "done")
        self._to_bill_time()
        rec = self._reconcile()
        txn = self.env["wechat.pay.transaction"].search([("payment_uuid", "=", line["payment_uuid"])])
        self.assertRecordValues(
            rec.line_ids,
            [
                {
                    "kind": "missing_odoo",
                    "transaction_id": txn.id,
                    "pos_order_id": False,
                    "wechat_transaction_id": res["transaction_id"],
                    "odoo_amount": 0.0,
                    "wechat_amount": 45.5,
                }
            ],
        )
        self.assertEqual(rec.wechat_count, 2)
        self.assertEqual(rec.odoo_count, 1)

    def test_amount_differs(self):
        order = self._pay_with_wechat(False, OPENID)
        self.fake.pay_bill_amount(self._txn(order).out_trade_no, 9900)
        self._to_bill_time()
        rec = self._reconcile()
        self.assertRecordValues(
            rec.line_ids,
            [{"kind": "amount", "pos_order_id": order.id, "odoo_amount": 100.0, "wechat_amount": 99.0}],
        )

    def test_refund_mismatches(self):
        order = self._pay_with_wechat(False, OPENID)
        txn = self._txn(order)
        only_odoo = self._refund(txn, 1000, on_fake=False)
        differs = self._refund(txn, 2000)
        self.fake.pay_bill_amount(differs.out_refund_no, 1500)
        self._refund(self._txn(self._pay_with_wechat(False, OPENID)), 500, on_fake=True).unlink()
        self._to_bill_time()
        rec = self._reconcile()
        lines = {line.kind: line for line in rec.line_ids}
        self.assertEqual(len(rec.line_ids), 3, rec.line_ids.mapped("kind"))
        self.assertRecordValues(
            lines["missing_wechat"],
            [{"is_refund": True, "refund_record_id": only_odoo.id, "pos_order_id": order.id, "odoo_amount": 10.0}],
        )
        self.assertRecordValues(
            lines["amount"],
            [{"is_refund": True, "refund_record_id": differs.id, "odoo_amount": 20.0, "wechat_amount": 15.0}],
        )
        self.assertRecordValues(lines["missing_odoo"], [{"is_refund": True, "wechat_amount": 5.0}])
        self.assertTrue(lines["missing_odoo"].refund_id)

    def test_no_bill(self):
        rec = self._reconcile(self.today - timedelta(days=5))
        self.assertEqual(rec.state, "no_bill")
        self.assertFalse(rec.line_ids)
        self.assertIn("no bill", rec.message.lower())

    def test_paid_day_without_bill_is_missing_in_wechat(self):
        order = self._pay_with_wechat(False, OPENID)
        day = self.today - timedelta(days=5)
        self._txn(order).sudo().charged_at = beijing_day_bounds(day)[0] + timedelta(hours=3)
        rec = self._reconcile(day)
        self.assertEqual(rec.state, "mismatch")
        self.assertEqual(rec.line_ids.kind, "missing_wechat")

    def test_network_error_recorded(self):
        self.fake.inject("/pay/downloadbill", reset=True)
        rec = self._reconcile(self.today - timedelta(days=3))
        self.assertEqual(rec.state, "error")
        self.assertTrue(rec.message)
        self.assertFalse(rec.activity_ids)

    def test_network_error_keeps_former_result(self):
        day = self.today - timedelta(days=3)
        self._txn(self._pay_with_wechat(False, OPENID)).sudo().charged_at = beijing_day_bounds(day)[0]
        rec = self._reconcile(day)
        self.assertRecordValues(rec, [{"state": "mismatch", "odoo_count": 1, "mismatch_count": 1}])
        self.fake.inject("/pay/downloadbill", reset=True)
        self.assertEqual(self._reconcile(day), rec)
        self.assertRecordValues(rec, [{"state": "mismatch", "odoo_count": 1, "mismatch_count": 1}])
        self.assertIn("network", rec.message)
        self.assertEqual(len(rec.activity_ids), 1)

    def test_rerun_replaces_result_and_activity(self):
        order = self._pay_with_wechat(False, OPENID)
        number = self._txn(order).out_trade_no
        self.fake.pay_bill_omit(number)
        self._to_bill_time()
        rec = self._reconcile()
        self.assertEqual(rec.mismatch_count, 1)
        activity = rec.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.account._manager_user())
        self.assertIn(str(rec.bill_date), activity.summary)
        self.assertEqual(activity.res_model, "wechat.pay.reconciliation")
        self.assertEqual(activity.res_id, rec.id)
        # Another manager (read access only, not assigned) sees the to-do on the result.
        other = self.env["res.users"].create(
            {
                "name": "Other WeChat Manager",
                "login": "wm_recon_manager2",
                "company_id": self.company.id,
                "company_ids": [(6, 0, self.company.ids)],
                "groups_id": [(6, 0, [self.env.ref("wechat_member.group_wechat_manager").id])],
            }
        )
        self.assertEqual(rec.with_user(other).activity_ids.summary, activity.summary)
        # Running the day again (the same mismatch): one activity still.
        rec.action_reconcile_again()
        self.assertEqual(len(rec.activity_ids), 1)
        self.fake.payments.bill_omit.discard(number)
        again = self._reconcile()
        self.assertEqual(again, rec)
        self.assertEqual(rec.state, "matched")
        self.assertFalse(rec.line_ids)
        self.assertFalse(rec.activity_ids)
        self.assertEqual(self.Reconciliation.search_count([("payment_method_id", "=", self.wechat_pm.id)]), 1)

    # ------------------------------------------------------------------ cron
    def _run_cron(self):
        """As the cron worker runs it: as its user (the superuser), not as the test user."""
        self.env.ref("wechat_member.ir_cron_wechat_pay_reconcile").sudo().ir_actions_server_id.run()

    def test_cron_reconciles_last_published_day(self):
        self._run_cron()
        day = last_bill_day()
        rec = self.Reconciliation.search([("payment_method_id", "=", self.wechat_pm.id)])
        self.assertEqual(rec.bill_date, day)
        self.assertEqual(rec.state, "no_bill")
        self.assertLess(day, self.today)
        self.assertEqual(len(self.calls_to("/pay/downloadbill")), 1)
        # Run again the same day: the day is done, WeChat is not asked again.
        self._run_cron()
        self.assertEqual(len(self.calls_to("/pay/downloadbill")), 1)

    def test_last_bill_day_after_ten_beijing(self):
        # 01:59 UTC = 09:59 Beijing: yesterday's bill is not fetched yet; 02:00 UTC = 10:00 Beijing: it is.
        self.assertEqual(last_bill_day(fields.Datetime.to_datetime("2026-03-10 01:59:00")).isoformat(), "2026-03-08")
        self.assertEqual(last_bill_day(fields.Datetime.to_datetime("2026-03-10 02:00:00")).isoformat(), "2026-03-09")
        start, end = beijing_day_bounds(fields.Date.to_date("2026-03-09"))
        self.assertEqual(fields.Datetime.to_string(start), "2026-03-08 16:00:00")
        self.assertEqual(fields.Datetime.to_string(end), "2026-03-09 16:00:00")

    # ------------------------------------------------------------------ security
    def test_cashier_has_no_access(self):
        self._to_bill_time()
        rec = self._reconcile()
        cashier_env = self.env(user=self.cashier)
        with self.assertRaises(AccessError):
            cashier_env["wechat.pay.reconciliation"].search([])
        with self.assertRaises(AccessError):
            rec.with_user(self.cashier).read(["state"])
        with self.assertRaises(AccessError):
            rec.with_user(self.cashier).action_reconcile_again()
        with self.assertRaises(AccessError):
            cashier_env["wechat.pay.reconcile.wizard"].create(
                {"payment_method_id": self.wechat_pm.id, "bill_date": self.today}
            )
        with self.assertRaises(AccessError):
            self.wechat_pm.with_user(self.cashier).action_wechat_pay_reconcile()
        with self.assertRaises(AccessError):
            cashier_env["wechat.pay.reconciliation.line"].search([])
        menu = self.env.ref("wechat_member.menu_wechat_pay_reconciliation")
        self.assertNotIn(menu.id, cashier_env["ir.ui.menu"]._visible_menu_ids())

    def test_manager_button_opens_wizard(self):
        action = self.wechat_pm.action_wechat_pay_reconcile()
        self.assertEqual(action["res_model"], "wechat.pay.reconcile.wizard")
        wizard = self.env["wechat.pay.reconcile.wizard"].with_context(action["context"]).create({})
        self.assertEqual(wizard.payment_method_id, self.wechat_pm)
        self.assertEqual(wizard.bill_date, last_bill_day())


@tagged("post_install", "-at_install")
class TestWeChatPayReconciliationV3(TestWeChatPayReconciliation):
    """The day-end reconciliation of an APIv3 method (its own tests only: Odoo runs no inherited test)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account.write(v3_credentials(cls.fake, cls.account.pay_mch_id))
        cls.wechat_pm.wechat_pay_api_version = "v3"

    def test_v3_bill_matches_then_one_mismatch(self):
        """An APIv3 method reconciles with /v3/bill/tradebill (gzip file checked against its signed SHA1)."""
        orders = [self._pay_with_wechat(False, OPENID, amount) for amount in (100.0, 50.0)]
        self._refund(self._txn(orders[0]), 2000)
        self._to_bill_time()
        rec = self._reconcile()
        self.assertRecordValues(
            rec, [{"state": "matched", "mismatch_count": 0, "odoo_count": 2, "wechat_count": 2, "wechat_amount": 150.0}]
        )
        self.assertTrue(self.calls_to("/v3/bill/tradebill"))
        self.assertFalse(self.calls_to("/pay/downloadbill"))
        self.fake.pay_bill_omit(self._txn(orders[1]).out_trade_no)
        rec = self._reconcile()
        self.assertRecordValues(rec.line_ids, [{"kind": "missing_wechat", "pos_order_id": orders[1].id}])
