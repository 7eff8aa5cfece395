"""POS: paying with WeChat Pay (scan code) makes the payer a member.

Server side against the fake WeChat platform (``TestPosWeChatPay``), and the
POS in a browser (``TestPosWeChatPayTour``).
"""

import contextlib
import socket
import time
import uuid
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from ..models import pos_payment_method as pos_payment_method_module
from .common import PoSCommonWeChat, PosWeChatPayTourCommon, WeChatFakeMixin, add_wechat_pay_method

OPENID_A = "oPAYER0000000000000000000A01"
OPENID_B = "oPAYER0000000000000000000B02"


@tagged("post_install", "-at_install")
class TestPosWeChatPay(WeChatFakeMixin, PoSCommonWeChat):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.config = cls.basic_config
        if cls.account.company_id != cls.config.company_id:
            cls.account.company_id = cls.config.company_id
        add_wechat_pay_method(cls, cls.config)
        cls.tea = cls.create_product("Tea", cls.categ_basic, 100.0)
        cls.cake = cls.create_product("Cake", cls.categ_basic, 30.0)

    def setUp(self):
        super().setUp()
        self.open_new_session()
        self.fake.clear_logs()
        self.Txn = self.env["wechat.pay.transaction"]

    # ------------------------------------------------------------------ helpers
    def _code(self, outcome="SUCCESS", openid=OPENID_A, is_subscribe="N", recall=0, reverse_userpaying=0):
        return self.fake.pay_script(
            self.fake.auth_code(),
            outcome,
            openid=openid,
            is_subscribe=is_subscribe,
            recall=recall,
            reverse_userpaying=reverse_userpaying,
        )

    def _line(self, order_uuid=None, payment_uuid=None):
        return {"order_uuid": order_uuid or str(uuid.uuid4()), "payment_uuid": payment_uuid or str(uuid.uuid4())}

    def _charge(self, code, line, amount=100.0):
        return self.wechat_pm.wechat_pay_charge(
            dict(line, auth_code=code, amount=amount, currency=self.config.currency_id.name)
        )

    def _age(self, line, seconds=20):
        """Pretend the charge of ``line`` was sent ``seconds`` ago (here and on the fake)."""
        txn = self._txn(line)
        txn.charged_at = fields.Datetime.now() - timedelta(seconds=seconds)
        self.fake.advance(seconds)

    def _txn(self, line):
        return self.Txn.search(
            [("pos_order_uuid", "=", line["order_uuid"]), ("payment_uuid", "=", line["payment_uuid"])],
            order="attempt desc",
            limit=1,
        )

    def _pay_order(self, code=None, customer=False, product=None, qty=1, openid=OPENID_A, order_uuid=None):
        """Charge with WeChat then sync the order as the POS does; return the order."""
        product = product or self.tea
        order_uuid = order_uuid or str(uuid.uuid4())
        data = self.create_ui_order_data(
            [(product, qty)], customer=customer, uuid=order_uuid, payments=[(self.wechat_pm, product.lst_price * qty)]
        )
        line = self._line(order_uuid)
        res = self._charge(code or self._code(openid=openid), line, amount=data["amount_total"])
        self.assertEqual(res["status"], "done", res)
        data["payment_ids"][0][2].update(
            uuid=line["payment_uuid"], transaction_id=res["transaction_id"], payment_status="done"
        )
        return self._sync(data), data

    def _sync(self, data):
        result = self.env["pos.order"].sync_from_ui([data])
        return self.env["pos.order"].browse(result["pos.order"][0]["id"]) if result["pos.order"] else None

    def _member(self, openid=OPENID_A):
        return self.env["wechat.member"].search([("account_id", "=", self.account.id), ("openid", "=", openid)])

    # ------------------------------------------------------------------ charge
    def test_charge_success(self):
        line = self._line()
        res = self._charge(self._code(is_subscribe="Y"), line)
        self.assertEqual(res["status"], "done")
        self.assertEqual(res["openid"], OPENID_A)
        self.assertTrue(res["is_subscribe"])
        order = self.fake.order(res["out_trade_no"])
        self.assertEqual(order.transaction_id, res["transaction_id"])
        self.assertEqual(order.total_fee, 10000)
        self.assertLessEqual(len(res["out_trade_no"]), 32)
        txn = self._txn(line)
        self.assertRecordValues(
            txn,
            [
                {
                    "state": "done",
                    "openid": OPENID_A,
                    "amount": 100.0,
                    "total_fee": 10000,
                    "transaction_id": res["transaction_id"],
                }
            ],
        )
        self.assertEqual(self.fake.violations, [])

    def test_invalid_auth_code_refused(self):
        for code in ("12345", "163456789012345678", "0934567890123456789", "13456789012345678a", ""):
            res = self._charge(code, self._line())
            self.assertEqual(res["status"], "failed")
            self.assertIn("18 digits", res["message"])
        self.assertEqual(self.calls_to("/pay/micropay"), [])
        self.assertFalse(self.Txn.search([("payment_method_id", "=", self.wechat_pm.id)]))

    def test_userpaying_then_success(self):
        line = self._line()
        res = self._charge(self._code(("USERPAYING", 1)), line)
        self.assertEqual(res["status"], "waiting")
        self.assertEqual(self._txn(line).state, "waiting")
        self.assertEqual(self.wechat_pm.wechat_pay_status(line)["status"], "waiting")
        res = self.wechat_pm.wechat_pay_status(line)
        self.assertEqual(res["status"], "done")
        self.assertEqual(res["openid"], OPENID_A)
        self.assertEqual(len(self.calls_to("/pay/micropay")), 1)
        self.assertEqual(len(self.calls_to("/pay/orderquery")), 2)
        self.assertEqual(self.fake.violations, [])

    def test_userpaying_forever_cancel_reverses(self):
        line = self._line()
        res = self._charge(self._code("USERPAYING_FOREVER"), line)
        self.assertEqual(res["status"], "waiting")
        # WeChat wants 15 s between the order and its reverse: the POS is told to wait.
        res = self.wechat_pm.wechat_pay_cancel(line)
        self.assertFalse(res["cancelled"])
        self.assertGreater(res["retry_in"], 0)
        self.assertEqual(self.calls_to("/secapi/pay/reverse"), [])
        self._age(line)
        res = self.wechat_pm.wechat_pay_cancel(line)
        self.assertTrue(res["cancelled"], res)
        self.assertEqual(self.fake.order(self._txn(line).out_trade_no).state, "REVOKED")
        self.assertEqual(self._txn(line).state, "cancelled")
        self.assertEqual(self.wechat_pm.wechat_pay_status(line)["status"], "failed")
        # Cancelling again is harmless.
        self.assertTrue(self.wechat_pm.wechat_pay_cancel(line)["cancelled"])
        self.assertEqual(len(self.calls_to("/secapi/pay/reverse")), 1)
        self.assertEqual(self.fake.violations, [])

    def test_cancel_repeats_while_recall(self):
        line = self._line()
        self._charge(self._code("USERPAYING_FOREVER", recall=2), line)
        self._age(line)
        with patch.object(pos_payment_method_module, "REVERSE_RECALL_DELAY", 0):
            res = self.wechat_pm.wechat_pay_cancel(line)
        self.assertTrue(res["cancelled"])
        self.assertEqual(len(self.calls_to("/secapi/pay/reverse")), 3)
        self.assertEqual(self.fake.order(self._txn(line).out_trade_no).state, "REVOKED")

    def test_cancel_refused_while_the_customer_pays_is_retried(self):
        line = self._line()
        self._charge(self._code("USERPAYING_FOREVER", reverse_userpaying=1), line)
        self._age(line)
        # The customer is still on WeChat's password screen: WeChat refuses the reverse, the POS asks again.
        res = self.wechat_pm.wechat_pay_cancel(dict(line, force=True))
        self.assertFalse(res["cancelled"])
        self.assertEqual(res["retry_in"], 5)
        self.assertIn("still confirming", res["message"])
        self.assertEqual(self._txn(line).state, "waiting")
        self.assertEqual(self.fake.order(self._txn(line).out_trade_no).state, "USERPAYING")
        res = self.wechat_pm.wechat_pay_cancel(dict(line, force=True))
        self.assertTrue(res["cancelled"], res)
        self.assertEqual(self._txn(line).state, "cancelled")
        self.assertEqual(self.fake.order(self._txn(line).out_trade_no).state, "REVOKED")
        self.assertEqual(len(self.calls_to("/secapi/pay/reverse")), 2)
        self.assertEqual(self.fake.violations, [])

    def test_cancel_older_than_7_days_refused_without_calling_wechat(self):
        line = self._line()
        self._charge(self._code("USERPAYING_FOREVER"), line)
        self._age(line, seconds=7 * 86400 + 60)
        res = self.wechat_pm.wechat_pay_cancel(dict(line, force=True))
        self.assertFalse(res["cancelled"])
        self.assertNotIn("retry_in", res)
        self.assertIn("more than 7 days old", res["message"])
        self.assertIn("Refund it instead", res["message"])
        self.assertEqual(self.calls_to("/secapi/pay/reverse"), [])
        self.assertEqual(self._txn(line).state, "waiting")
        # A charge of 6 days is still reversed.
        other = self._line()
        self._charge(self._code("USERPAYING_FOREVER"), other)
        self._age(other, seconds=6 * 86400)
        self.assertTrue(self.wechat_pm.wechat_pay_cancel(dict(other, force=True))["cancelled"])
        self.assertEqual(self.fake.violations, [])

    def _closed_port_url(self):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def test_backup_domain_after_a_network_error(self):
        self.account.write({"sandbox": False, "pay_base_url": self._closed_port_url(), "pay_backup_url": self.fake.url})
        line = self._line()
        with self.assertLogs("odoo.addons.wechat_member.tools.wechat_pay_api", "WARNING") as logs:
            res = self._charge(self._code(), line)
        self.assertEqual(res["status"], "done", res)
        self.assertIn("backup domain", logs.output[0])
        self.assertEqual(len(self.calls_to("/pay/micropay")), 1)
        charges = [o for o in self.fake.payments.orders.values() if o.attach == line["order_uuid"]]
        self.assertEqual([o.state for o in charges], ["SUCCESS"], "charged once")
        self.assertEqual(self.fake.order(res["out_trade_no"]).state, "SUCCESS")
        self.assertEqual(self._txn(line).state, "done")
        # Queries and reverses go there too.
        line = self._line()
        with self.assertLogs("odoo.addons.wechat_member.tools.wechat_pay_api", "WARNING") as logs:
            self.assertEqual(self._charge(self._code(("USERPAYING", 1)), line)["status"], "waiting")
            self.assertEqual(self.wechat_pm.wechat_pay_status(line)["status"], "waiting")
        self.assertEqual(sum("backup domain" in out for out in logs.output), 2)
        line = self._line()
        with self.assertLogs("odoo.addons.wechat_member.tools.wechat_pay_api", "WARNING") as logs:
            self._charge(self._code("USERPAYING_FOREVER"), line)
            self._age(line)
            self.assertTrue(self.wechat_pm.wechat_pay_cancel(line)["cancelled"])
        self.assertEqual(sum("backup domain" in out for out in logs.output), 2)
        self.assertEqual(self.fake.order(self._txn(line).out_trade_no).state, "REVOKED")
        self.assertEqual(len(self.calls_to("/pay/micropay")), 3)
        self.assertEqual(self.fake.violations, [])

    def test_no_backup_domain_in_sandbox_unless_set(self):
        self.assertEqual(self.account.pay_backup_url, "https://api2.mch.weixin.qq.com")
        self.assertFalse(self.account._pay_backup_url(), "the sandbox never talks to WeChat")
        self.account.write({"sandbox_url": self._closed_port_url()})
        with self.assertLogs("odoo.addons.wechat_member.tools.wechat_pay_api", "WARNING") as logs:
            res = self._charge(self._code(), self._line())
        self.assertEqual(res["status"], "waiting")  # unknown outcome: the POS keeps asking
        self.assertFalse([line for line in logs.output if "backup domain" in line])
        self.account.write({"pay_backup_url": self.fake.url})
        self.assertEqual(self.account._pay_backup_url(), self.fake.url)
        with self.assertLogs("odoo.addons.wechat_member.tools.wechat_pay_api", "WARNING"):
            self.assertEqual(self._charge(self._code(), self._line())["status"], "done")
        self.account.write({"sandbox": False, "pay_backup_url": False})
        self.assertFalse(self.account._pay_backup_url())

    def test_charge_timeout_not_resent_to_the_backup_domain(self):
        # The request may have reached WeChat: query it (here through the primary domain), never send it again.
        backup = self.fake.url.replace("127.0.0.1", "localhost")
        self.account.write({"sandbox": False, "pay_base_url": self.fake.url, "pay_backup_url": backup, "timeout": 1})
        self.fake.hang_seconds = 2
        self.fake.inject("/pay/micropay", timeout=True)
        line = self._line()
        with self.assertLogs("odoo.addons.wechat_member.tools.wechat_pay_api", "WARNING") as logs:
            res = self._charge(self._code(), line)
        self.assertEqual(res["status"], "waiting")
        self.assertFalse([out for out in logs.output if "backup domain" in out])
        self.assertEqual(len(self.calls_to("/pay/orderquery")), 1)
        for _i in range(30):  # the fake logs the hung call when it gives up on it
            if self.calls_to("/pay/micropay"):
                break
            time.sleep(0.1)
        self.assertEqual([c["errcode"] for c in self.calls_to("/pay/micropay")], ["timeout"])
        self.assertEqual(self.fake.violations, [])

    def test_systemerror_queries_never_recharges(self):
        for outcome in ("SYSTEMERROR", "BANKERROR"):
            self.fake.clear_logs()
            line = self._line()
            res = self._charge(self._code(outcome), line)
            # Charged behind the merchant's back: the query finds it paid.
            self.assertEqual(res["status"], "done", outcome)
            self.assertEqual(res["openid"], OPENID_A)
            self.assertEqual(len(self.calls_to("/pay/micropay")), 1)
            self.assertGreaterEqual(len(self.calls_to("/pay/orderquery")), 1)
            # The POS retrying the same line does not charge again.
            self.assertEqual(self._charge(self._code(), line)["status"], "done")
            self.assertEqual(len(self.calls_to("/pay/micropay")), 1)
            self.assertEqual(self.fake.violations, [])

    def test_systemerror_uncharged_fails(self):
        line = self._line()
        res = self._charge(self._code("SYSTEMERROR_UNCHARGED"), line)
        self.assertEqual(res["status"], "failed")
        self.assertTrue(res["message"])
        self.assertEqual(len(self.calls_to("/pay/micropay")), 1)
        self.assertEqual(self.fake.violations, [])

    def test_network_timeout_queries(self):
        self.account.timeout = 1
        self.fake.hang_seconds = 2
        self.fake.inject("/pay/micropay", timeout=True)
        line = self._line()
        with self.assertLogs("odoo.addons.wechat_member.tools.wechat_pay_api", "WARNING"):
            res = self._charge(self._code(), line)
        # The outcome is unknown: WeChat is asked, and the POS keeps waiting.
        self.assertEqual(res["status"], "waiting")
        self.assertEqual(len(self.calls_to("/pay/orderquery")), 1)
        # A retry of the line queries again, never charges.
        self.assertEqual(self._charge(self._code(), line)["status"], "waiting")
        for _i in range(30):  # the fake logs the hung call when it gives up on it
            if self.calls_to("/pay/micropay"):
                break
            time.sleep(0.1)
        self.assertEqual([c["errcode"] for c in self.calls_to("/pay/micropay")], ["timeout"])
        self._age(line)
        self.assertTrue(self.wechat_pm.wechat_pay_cancel(line)["cancelled"])

    def test_definitive_failures(self):
        cases = {"NOTENOUGH": "balance", "AUTHCODEEXPIRE": "expired"}
        for outcome, words in cases.items():
            line = self._line()
            res = self._charge(self._code(outcome), line)
            self.assertEqual(res["status"], "failed", outcome)
            self.assertIn(words, res["message"])
            self.assertEqual(self._txn(line).state, "failed")
            self.assertEqual(self._txn(line).err_code, outcome)
            # The customer shows a new code: a new attempt with its own out_trade_no.
            first_no = self._txn(line).out_trade_no
            res = self._charge(self._code(), line)
            self.assertEqual(res["status"], "done")
            self.assertNotEqual(res["out_trade_no"], first_no)
            self.assertEqual(self._txn(line).attempt, 2)
        # A code used twice.
        code = self._code()
        self.assertEqual(self._charge(code, self._line())["status"], "done")
        res = self._charge(code, self._line())
        self.assertEqual(res["status"], "failed")
        self.assertIn("expired", res["message"])
        self.assertEqual(self.fake.violations, [])

    def test_retry_same_line_no_double_charge(self):
        line = self._line()
        code = self._code()
        first = self._charge(code, line)
        self.assertEqual(first["status"], "done")
        again = self._charge(code, line)
        self.assertEqual(again["status"], "done")
        self.assertEqual(again["out_trade_no"], first["out_trade_no"])
        self.assertEqual(again["transaction_id"], first["transaction_id"])
        self.assertEqual(len(self.calls_to("/pay/micropay")), 1)
        self.assertEqual(self.Txn.search_count([("pos_order_uuid", "=", line["order_uuid"])]), 1)
        # Deterministic: the same line always gives the same number.
        self.assertEqual(self.Txn._out_trade_no(line["order_uuid"], line["payment_uuid"]), first["out_trade_no"])
        self.assertEqual(self.fake.violations, [])

    def test_cancel_after_payment_keeps_it(self):
        line = self._line()
        self._charge(self._code(), line)
        res = self.wechat_pm.wechat_pay_cancel(line)
        self.assertFalse(res["cancelled"])
        self.assertEqual(res["status"], "done")
        self.assertEqual(self.calls_to("/secapi/pay/reverse"), [])
        # The POS drops the line anyway (removed while paid behind its back): the money goes back.
        self._age(line)
        res = self.wechat_pm.wechat_pay_cancel(dict(line, force=True))
        self.assertTrue(res["cancelled"])
        self.assertEqual(self._txn(line).state, "cancelled")
        self.assertIn(self._txn(line).out_trade_no, [r["out_trade_no"] for r in self.fake.refunds])
        self.assertEqual(self.fake.violations, [])

    def test_not_a_wechat_method(self):
        with self.assertRaises(ValidationError):
            self.bank_pm1.wechat_pay_charge(dict(self._line(), auth_code=self.fake.auth_code(), amount=1))

    def test_account_of_other_company_refused(self):
        other = self.env["res.company"].create({"name": "Other Shop Co"})
        other_account = (
            self.env["wechat.account"]
            .sudo()
            .create({"name": "Other", "appid": "wxother00000000002", "company_id": other.id})
        )
        with self.assertRaises(ValidationError):
            self.env["pos.payment.method"].create(
                {
                    "name": "WeChat Pay (other company's account)",
                    "journal_id": self.company_data["default_journal_bank"].id,
                    "payment_method_type": "terminal",
                    "use_payment_terminal": "wechat_pay",
                    "wechat_account_id": other_account.id,
                }
            )

    # ------------------------------------------------------------------ capture
    def test_capture_one_member_two_orders(self):
        order1, _data = self._pay_order(openid=OPENID_A)
        member = self._member()
        self.assertEqual(len(member), 1)
        self.assertEqual(member.state, "payer")
        self.assertFalse(member.in_service_window, "a WeChat Pay payment opens no customer-service quota")
        self.assertEqual(order1.state, "paid")
        self.assertEqual(order1.partner_id, member.partner_id)
        self.assertEqual(order1.wechat_payer_member_id, member)
        self.assertEqual(order1.payment_ids.wechat_openid, OPENID_A)
        self.assertEqual(order1.payment_ids.wechat_pay_transaction_id.pos_order_id, order1)
        order2, _data = self._pay_order(openid=OPENID_A, product=self.cake, qty=2)
        self.assertEqual(self._member(), member)
        self.assertEqual(order2.partner_id, member.partner_id)
        partner = member.partner_id
        self.assertEqual(partner.wechat_purchase_count, 2)
        self.assertAlmostEqual(partner.wechat_purchase_amount, 160.0)
        self.assertTrue(order1.wechat_stats_done and order2.wechat_stats_done)
        self.assertEqual(self.fake.violations, [])

    def test_follower_payer_and_existing_member(self):
        member, _created = self.env["wechat.member"]._get_or_create(self.account, OPENID_B, state="follower")
        order, _data = self._pay_order(self._code(openid=OPENID_B, is_subscribe="Y"), openid=OPENID_B)
        self.assertEqual(self._member(OPENID_B), member)
        self.assertEqual(member.state, "follower")
        self.assertEqual(order.partner_id, member.partner_id)
        order_new, _data = self._pay_order(self._code(openid=OPENID_A, is_subscribe="Y"))
        self.assertEqual(self._member(OPENID_A).state, "follower")
        self.assertEqual(order_new.partner_id, self._member(OPENID_A).partner_id)

    def test_resync_same_uuid_counts_once(self):
        order, data = self._pay_order()
        partner = self._member().partner_id
        self.assertEqual(partner.wechat_purchase_count, 1)
        # The POS sends the same order again (lost answer): nothing changes.
        self._sync(data)
        self.assertEqual(self.env["pos.order"].search_count([("uuid", "=", order.uuid)]), 1)
        # Both hooks running again do not count twice either.
        order.action_pos_order_paid()
        order._wechat_count_purchase()
        partner.invalidate_recordset()
        self.assertEqual(partner.wechat_purchase_count, 1)
        self.assertAlmostEqual(partner.wechat_purchase_amount, 100.0)
        self.assertEqual(len(self._member()), 1)

    def test_draft_then_paid_counts_once(self):
        order_uuid = str(uuid.uuid4())
        data = self.create_ui_order_data([(self.tea, 1)], uuid=order_uuid, payments=[(self.wechat_pm, 100.0)])
        line = self._line(order_uuid)
        res = self._charge(self._code(), line)
        data["payment_ids"][0][2].update(uuid=line["payment_uuid"], transaction_id=res["transaction_id"])
        draft = dict(data, state="draft")
        order = self._sync(draft)
        self.assertEqual(order.state, "draft")
        self.assertFalse(order.wechat_stats_done)
        order = self._sync(dict(data, id=order.id))
        self.assertEqual(order.state, "paid")
        partner = self._member().partner_id
        self.assertEqual(partner.wechat_purchase_count, 1)
        self.assertEqual(order.partner_id, partner)

    def test_cashier_customer_kept(self):
        order, _data = self._pay_order(customer=self.customer)
        member = self._member()
        self.assertEqual(order.partner_id, self.customer)
        self.assertEqual(order.wechat_payer_member_id, member)
        self.assertFalse(member.in_service_window, "a WeChat Pay payment opens no customer-service quota")
        # The customer is no member: no member statistics move.
        self.assertEqual(member.partner_id.wechat_purchase_count, 0)
        self.assertEqual(self.customer.wechat_purchase_count, 0)

    def test_cashier_chose_member_customer(self):
        other, _created = self.env["wechat.member"]._get_or_create(self.account, OPENID_B)
        order, _data = self._pay_order(customer=other.partner_id)
        self.assertEqual(order.partner_id, other.partner_id)
        self.assertEqual(order.wechat_payer_member_id, self._member())
        self.assertEqual(other.partner_id.wechat_purchase_count, 1)
        self.assertEqual(self._member().partner_id.wechat_purchase_count, 0)

    def test_refund_reverses_stats(self):
        order, _data = self._pay_order(product=self.tea, qty=2)
        partner = self._member().partner_id
        self.assertEqual(partner.wechat_purchase_count, 1)
        self.assertAlmostEqual(partner.wechat_purchase_amount, 200.0)
        refund = self.env["pos.order"].browse(order.refund()["res_id"])
        self.assertEqual(refund.partner_id, partner)
        self.make_payment(refund, self.cash_pm1, refund.amount_total)
        self.assertEqual(refund.state, "paid")
        self.assertTrue(refund.wechat_stats_done)
        partner.invalidate_recordset()
        self.assertEqual(partner.wechat_purchase_count, 0)
        self.assertAlmostEqual(partner.wechat_purchase_amount, 0.0)
        # Paying the refund again (both hooks) does not count twice.
        refund._wechat_count_purchase()
        partner.invalidate_recordset()
        self.assertAlmostEqual(partner.wechat_purchase_amount, 0.0)

    def test_forged_payment_not_bound(self):
        # A paid charge of another order cannot be reused to bind its payer.
        line = self._line()
        res = self._charge(self._code(), line)
        data = self.create_ui_order_data([(self.tea, 1)], payments=[(self.wechat_pm, 100.0)])
        data["payment_ids"][0][2].update(
            uuid=line["payment_uuid"],
            transaction_id=res["transaction_id"],
            wechat_pay_transaction_id=self._txn(line).id,
        )
        data["wechat_stats_done"] = True
        order = self._sync(data)
        self.assertFalse(order.partner_id)
        self.assertFalse(order.wechat_payer_member_id)
        self.assertFalse(order.payment_ids.wechat_pay_transaction_id)
        self.assertFalse(self._member())
        self.assertTrue(order.wechat_stats_done)  # counted (no member customer), not skipped by the POS's say

    def test_non_wechat_order_of_member_counts(self):
        member, _created = self.env["wechat.member"]._get_or_create(self.account, OPENID_B)
        data = self.create_ui_order_data([(self.cake, 1)], customer=member.partner_id)
        order = self._sync(data)
        self.assertEqual(order.state, "paid")
        self.assertEqual(member.partner_id.wechat_purchase_count, 1)
        self.assertFalse(order.wechat_payer_member_id)

    # ------------------------------------------------------------------ thanks
    def _fake_follows(self, openid):
        """The payer follows the account on WeChat (the fake keeps its users for the whole class)."""
        user = self.fake_account.user(openid)
        if user is None:
            self.fake_account.add_follower(openid)
        else:
            user.subscribe = True

    def _map_thanks(self):
        return self.map_template(
            "pos_thanks",
            "TPL_THANKS",
            {
                "thing1": "store",
                "amount2": "amount",
                "character_string3": "order_ref",
                "time4": "date",
                "phrase5": ("fixed", "已支付"),
            },
        )

    def test_thanks_by_template_after_commit_never_customer_service(self):
        self.account.pos_thanks = True
        self._map_thanks()
        self._fake_follows(OPENID_B)
        order, _data = self._pay_order(self._code(openid=OPENID_B, is_subscribe="Y"), openid=OPENID_B)
        self.assertEqual(self._member(OPENID_B).state, "follower")
        self.assertFalse(self.calls_to("/message/template/send"), "nothing is sent before the sale is committed")
        self.commit()
        self.assertFalse(self.calls_to("/message/custom/send"), "a WeChat Pay payment opens no customer-service window")
        sent = [m for m in self.fake_account.template_messages if m["touser"] == OPENID_B]
        self.assertEqual(len(sent), 1)
        data = sent[0]["data"]
        self.assertEqual(
            set(data), {"thing1", "amount2", "character_string3", "time4", "phrase5"}, "exactly the template's keywords"
        )
        self.assertEqual(data["thing1"]["value"], self.config.name[:20])
        self.assertIn("100.00", data["amount2"]["value"])
        self.assertEqual(data["phrase5"]["value"], "已支付")
        notice = self.notices("pos_thanks", self._member(OPENID_B))
        self.assertEqual((notice.state, notice.channel), ("sent", "template"))
        # The same order synced again: no second thanks.
        self._sync(_data)
        self.commit()
        self.assertEqual(len(self.calls_to("/message/template/send")), 1)
        log = self.env["wechat.message.log"].search([("member_id", "=", self._member(OPENID_B).id)])
        self.assertEqual(log.mapped("kind"), ["notice"], "a transactional notice: not in the marketing budget")
        self.assertEqual(order.wechat_payer_member_id, self._member(OPENID_B))

    def test_thanks_without_template_recorded_not_sent(self):
        """A payer who just wrote to the account still gets no customer-service thanks: the kind forbids it."""
        self.account.pos_thanks = True
        self._fake_follows(OPENID_B)
        member, _created = self.env["wechat.member"]._get_or_create(self.account, OPENID_B, state="follower")
        member._touch(grant="message")
        self.fake_account.user(OPENID_B).open_cs_window(self.fake.now(), "message")
        self._pay_order(self._code(openid=OPENID_B, is_subscribe="Y"), openid=OPENID_B)
        self.commit()
        self.assertFalse(self.calls_to("/message/custom/send"))
        notice = self.notices("pos_thanks", member)
        self.assertEqual(notice.state, "none")
        self.assertIn("Template message", notice.reason, "the reason says which channel was missing")
        self.assertIn(
            "Thank you for your purchase!",
            member._wechat_recent_thanks(),
            "the member page shows the thanks in every case",
        )

    def test_thanks_in_chinese(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.account.pos_thanks = True
        self._map_thanks()
        self._fake_follows(OPENID_B)
        member, _created = self.env["wechat.member"]._get_or_create(self.account, OPENID_B, state="follower")
        member.partner_id.lang = "zh_CN"
        self._pay_order(self._code(openid=OPENID_B, is_subscribe="Y"), openid=OPENID_B)
        self.commit()
        notice = self.notices("pos_thanks", member)
        self.assertIn(f"已在{self.config.name}支付", notice._text(), "the thanks text in the member's language")

    def test_no_thanks_when_off_not_following_or_rolled_back(self):
        self._map_thanks()
        self._fake_follows(OPENID_B)
        self._pay_order(self._code(openid=OPENID_B, is_subscribe="Y"), openid=OPENID_B)
        self.commit()
        self.assertFalse(self.calls_to("/message/template/send"), "off by default")
        self.account.pos_thanks = True
        self._pay_order(self._code(openid=OPENID_A, is_subscribe="N"), openid=OPENID_A)
        self.commit()
        self.assertFalse(self.calls_to("/message/template/send"), "a payer who does not follow gets no template")
        with contextlib.suppress(RuntimeError), self.env.cr.savepoint():
            self._pay_order(self._code(openid=OPENID_B, is_subscribe="Y"), openid=OPENID_B)
            self.env.cr.postcommit.clear()  # what a rollback does
            raise RuntimeError
        self.commit()
        self.assertFalse(self.calls_to("/message/template/send"), "a sale rolled back is not thanked")

    def test_thanks_failure_keeps_the_sale(self):
        self.account.pos_thanks = True
        self._map_thanks()
        self._fake_follows(OPENID_B)
        self.fake.inject("/cgi-bin/message/template/send", reset=True)
        order, _data = self._pay_order(self._code(openid=OPENID_B, is_subscribe="Y"), openid=OPENID_B)
        self.commit()
        self.assertEqual([c["errcode"] for c in self.calls_to("/message/template/send")], ["reset"], "tried once")
        self.assertEqual(order.state, "paid")
        self.assertEqual(order.partner_id.wechat_purchase_count, 1)
        notice = self.notices("pos_thanks", order.wechat_payer_member_id)
        self.assertEqual(
            (notice.state, notice.attempts),
            ("queued", 1),
            "no clear answer from WeChat: retried later by the cron, never dropped silently",
        )
        self.assertTrue(notice.reason)
        self.assertFalse(
            self.env["wechat.message.log"].search([("member_id", "=", order.wechat_payer_member_id.id)]),
            "a message that did not go out does not use the contact budget",
        )


@tagged("post_install", "-at_install")
class TestPosWeChatPayTour(PosWeChatPayTourCommon):
    def test_pos_wechat_pay_tour(self):
        self.fake.pay_script("134567890123456781", "SUCCESS", openid=OPENID_A, is_subscribe="N")
        self.fake.pay_script("134567890123456782", ("USERPAYING", 1), openid=OPENID_A, is_subscribe="N")
        self.account.pos_thanks = True  # the receipt prints the thanks after a WeChat Pay payment
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("WeChatPosPayTour", login="pos_user")
        orders = self._orders()
        self.assertEqual(len(orders), 2)
        member = self.env["wechat.member"].search([("account_id", "=", self.account.id), ("openid", "=", OPENID_A)])
        self.assertEqual(len(member), 1)
        for order in orders:
            self.assertEqual(order.state, "paid")
            self.assertEqual(order.partner_id, member.partner_id)
            self.assertEqual(order.wechat_payer_member_id, member)
            self.assertTrue(order.payment_ids.filtered(lambda p: p.payment_method_id == self.wechat_pm).transaction_id)
        self.assertEqual(member.partner_id.wechat_purchase_count, 2)
        self.assertEqual(len(self.fake.calls_to("/pay/micropay")), 2)
        self.assertEqual(self.fake.violations, [])

    def test_pos_wechat_pay_failure_tour(self):
        self.fake.pay_script("134567890123456783", "NOTENOUGH", openid=OPENID_B)
        self.fake.pay_script("134567890123456784", "SUCCESS", openid=OPENID_B)
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("WeChatPosPayFailureTour", login="pos_user")
        order = self._orders()
        self.assertEqual(len(order), 1)
        self.assertEqual(order.state, "paid")
        member = self.env["wechat.member"].search([("openid", "=", OPENID_B)])
        self.assertEqual(order.partner_id, member.partner_id)
        self.assertEqual(self.fake.violations, [])

    def test_pos_wechat_pay_cancel_tour(self):
        # The customer is still on WeChat's password screen at the first reverse: refused, asked again 5 s later.
        self.fake.pay_script("134567890123456785", "USERPAYING_FOREVER", openid=OPENID_B, reverse_userpaying=1)
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("WeChatPosPayCancelTour", login="pos_user")
        txn = self.env["wechat.pay.transaction"].search([("payment_method_id", "=", self.wechat_pm.id)])
        self.assertEqual(len(txn), 1)
        self.assertEqual(txn.state, "cancelled")
        self.assertEqual(self.fake.order(txn.out_trade_no).state, "REVOKED")
        self.assertFalse(self._orders().filtered(lambda o: o.state == "paid"))
        self.assertFalse(self.env["wechat.member"].search([("openid", "=", OPENID_B)]))
        self.assertEqual(len(self.fake.calls_to("/secapi/pay/reverse")), 2)
        self.assertEqual(self.fake.violations, [])

    def test_pos_wechat_pay_timeout_tour(self):
        self.fake.pay_script("134567890123456786", "USERPAYING_FOREVER", openid=OPENID_B)
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("WeChatPosPayTimeoutTour", login="pos_user")
        txn = self.env["wechat.pay.transaction"].search([("payment_method_id", "=", self.wechat_pm.id)])
        self.assertEqual(txn.state, "cancelled")
        self.assertEqual(self.fake.order(txn.out_trade_no).state, "REVOKED")
        self.assertGreaterEqual(len(self.fake.calls_to("/pay/orderquery")), 1)
        self.assertEqual(len(self.fake.calls_to("/pay/micropay")), 1)
        self.assertEqual(self.fake.violations, [])
