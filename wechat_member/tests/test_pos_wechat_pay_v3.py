"""POS: WeChat Pay scan-to-pay through APIv3 (``wechatpayv3``), direct and service-provider merchants.

Against the fake platform's v3 endpoints, with real RSA signatures both ways.
"""

import uuid
from datetime import timedelta
from unittest.mock import patch

import requests

from odoo import Command, fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged

from ..tools.wechat_pay_api import ERROR, OK, UNKNOWN
from ..tools.wechat_pay_v3_api import WeChatPayV3Client
from .common import PoSCommonWeChat, WeChatFakeMixin, setup_wechat_pos, v3_credentials

OPENID_A = "oPAYER3000000000000000000A01"
SP_MCHID = "1230000109"
SP_APPID = "wxsp00000000000001"
SUB_MCHID = "1900000777"
_real_send = requests.Session.send


@tagged("post_install", "-at_install")
class TestPosWeChatPayV3(WeChatFakeMixin, PoSCommonWeChat):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        setup_wechat_pos(cls)
        cls.account.write(v3_credentials(cls.fake, cls.account.pay_mch_id))
        cls.wechat_pm.wechat_pay_api_version = "v3"

    def setUp(self):
        super().setUp()
        self.open_new_session()
        self.fake.clear_logs()
        self.Txn = self.env["wechat.pay.transaction"]

    # ------------------------------------------------------------------ helpers
    def _code(self, outcome="SUCCESS", openid=OPENID_A, recall=0):
        return self.fake.pay_script(self.fake.auth_code(), outcome, openid=openid, recall=recall)

    def _line(self, order_uuid=None):
        return {"order_uuid": order_uuid or str(uuid.uuid4()), "payment_uuid": str(uuid.uuid4())}

    def _charge(self, code, line, amount=100.0, method=None):
        return (method or self.wechat_pm).wechat_pay_charge(
            dict(line, auth_code=code, amount=amount, currency=self.config.currency_id.name)
        )

    def _txn(self, line):
        return self.Txn.search(
            [("pos_order_uuid", "=", line["order_uuid"]), ("payment_uuid", "=", line["payment_uuid"])],
            order="attempt desc",
            limit=1,
        )

    def _age(self, line, seconds=20):
        self._txn(line).charged_at = fields.Datetime.now() - timedelta(seconds=seconds)
        self.fake.advance(seconds)

    def _v3_calls(self, suffix):
        return [c for c in self.fake.calls if c["path"].startswith("/v3/") and c["path"].endswith(suffix)]

    def _pay_order(self, openid=OPENID_A):
        order_uuid = str(uuid.uuid4())
        data = self.create_ui_order_data(
            [(self.tea, 1)], customer=False, uuid=order_uuid, payments=[(self.wechat_pm, 100.0)]
        )
        line = self._line(order_uuid)
        res = self._charge(self._code(openid=openid), line, amount=data["amount_total"])
        self.assertEqual(res["status"], "done", res)
        data["payment_ids"][0][2].update(
            uuid=line["payment_uuid"], transaction_id=res["transaction_id"], payment_status="done"
        )
        result = self.env["pos.order"].sync_from_ui([data])
        return self.env["pos.order"].browse(result["pos.order"][0]["id"])

    def _only_local_requests(self):
        """Record every HTTP request of the test; ``seen`` lists their URLs."""
        seen = []

        def handler(cls, session, prepared, **kwargs):
            seen.append(prepared.url)
            if not prepared.url.startswith(self.fake.url):
                raise AssertionError(f"WeChat Pay v3 request outside the fake platform: {prepared.url}")
            return _real_send(session, prepared, **kwargs)

        return patch.object(type(self), "_request_handler", classmethod(handler)), seen

    # ------------------------------------------------------------------ paths
    def test_v3_client_and_success(self):
        self.assertIsInstance(self.wechat_pm._wechat_pay_client(), WeChatPayV3Client)
        line = self._line()
        res = self._charge(self._code(), line)
        self.assertEqual(res["status"], "done", res)
        self.assertEqual(res["openid"], OPENID_A)
        self.assertEqual(len(self._v3_calls("/v3/pay/transactions/codepay")), 1)
        self.assertEqual(self.calls_to("/pay/micropay"), [])
        order = self.fake.order(res["out_trade_no"])
        self.assertEqual((order.total_fee, order.transaction_id), (10000, res["transaction_id"]))
        self.assertRecordValues(
            self._txn(line),
            [{"state": "done", "openid": OPENID_A, "total_fee": 10000, "transaction_id": res["transaction_id"]}],
        )
        self.assertFalse(self._txn(line).is_subscribe, "APIv3 answers do not say whether the payer follows")

    def test_v3_userpaying_then_success(self):
        line = self._line()
        self.assertEqual(self._charge(self._code(("USERPAYING", 1)), line)["status"], "waiting")
        self.assertEqual(self._txn(line).state, "waiting")
        self.assertEqual(self.wechat_pm.wechat_pay_status(line)["status"], "waiting")
        res = self.wechat_pm.wechat_pay_status(line)
        self.assertEqual(res["status"], "done")
        self.assertEqual(res["openid"], OPENID_A)
        self.assertEqual(len(self._v3_calls("/v3/pay/transactions/codepay")), 1)
        self.assertEqual(len(self._v3_calls(f"/out-trade-no/{res['out_trade_no']}")), 2)

    def test_v3_userpaying_timeout_reverse(self):
        line = self._line()
        self.assertEqual(self._charge(self._code("USERPAYING_FOREVER"), line)["status"], "waiting")
        self.assertEqual(self.wechat_pm.wechat_pay_status(line)["status"], "waiting")
        res = self.wechat_pm.wechat_pay_cancel(line)
        self.assertFalse(res["cancelled"])
        self.assertGreater(res["retry_in"], 0)
        self._age(line)
        res = self.wechat_pm.wechat_pay_cancel(line)
        self.assertTrue(res["cancelled"], res)
        out_trade_no = self._txn(line).out_trade_no
        self.assertEqual(len(self._v3_calls(f"/v3/pay/transactions/out-trade-no/{out_trade_no}/reverse")), 1)
        self.assertEqual(self.fake.order(out_trade_no).state, "REVOKED")
        self.assertEqual(self._txn(line).state, "cancelled")

    def test_v3_systemerror_queries_never_recharges(self):
        for outcome in ("SYSTEMERROR", "BANKERROR"):
            self.fake.clear_logs()
            line = self._line()
            res = self._charge(self._code(outcome), line)
            self.assertEqual(res["status"], "done", outcome)
            self.assertEqual(len(self._v3_calls("/codepay")), 1)
            self.assertGreaterEqual(len(self._v3_calls(f"/out-trade-no/{res['out_trade_no']}")), 1)
            self.assertEqual(self._charge(self._code(), line)["status"], "done")
            self.assertEqual(len(self._v3_calls("/codepay")), 1, "never charged again")

    def test_v3_definitive_failures(self):
        for outcome, code, words in (
            ("NOTENOUGH", "NOTENOUGH", "balance"),
            ("AUTHCODEEXPIRE", "AUTHCODEEXPIRE", "expired"),
        ):
            line = self._line()
            res = self._charge(self._code(outcome), line)
            self.assertEqual(res["status"], "failed", outcome)
            self.assertIn(words, res["message"])
            self.assertEqual(self._txn(line).err_code, code)

    def test_v3_refund_and_refund_query(self):
        line = self._line()
        res = self._charge(self._code(), line)
        client = self.wechat_pm._wechat_pay_client()
        first = client.refund(res["out_trade_no"], "RF" + line["payment_uuid"][:20], 10000, 4000, reason="Return")
        self.assertEqual(first.status, OK, first.message)
        self.assertEqual((first.data["refund_status"], first.data["refund_fee"]), ("PROCESSING", 4000))
        again = client.refund(res["out_trade_no"], "RF" + line["payment_uuid"][:20], 10000, 4000)
        self.assertEqual(again.data["refund_id"], first.data["refund_id"], "the same out_refund_no pays once")
        query = client.refund_query("RF" + line["payment_uuid"][:20])
        self.assertEqual((query.status, query.data["refund_status"]), (OK, "PROCESSING"))
        query = client.refund_query("RF" + line["payment_uuid"][:20])
        self.assertEqual((query.status, query.data["refund_status"]), (OK, "SUCCESS"))
        self.assertTrue(query.data["success_time"])
        over = client.refund(res["out_trade_no"], "RFOVER" + line["payment_uuid"][:20], 10000, 7000)
        self.assertEqual((over.status, over.code), (ERROR, "INVALID_REQUEST"))
        self.assertIn("more than what is left", over.message)
        self.assertEqual([v["rule"] for v in self.fake.violations], ["over_refund"])
        self.fake.clear_logs()
        self.assertEqual(client.refund_query("RFNONE").code, "REFUNDNOTEXIST")
        self.assertEqual(
            [r["refund_fee"] for r in self.fake.refunds if r["out_trade_no"] == res["out_trade_no"]], [4000]
        )

    # ------------------------------------------------------------------ signatures
    def test_v3_bad_answer_signature_nothing_paid(self):
        for unsigned in (False, True):
            line = self._line()
            self.fake.pay_v3_bad_signature(times=100, unsigned=unsigned)
            with self.assertLogs("odoo.addons.wechat_member.tools.wechat_pay_v3_api", "WARNING"):
                res = self._charge(self._code(), line)
            # WeChat did charge, but no answer can be trusted: nothing is written as paid.
            self.assertEqual(res["status"], "waiting", unsigned)
            txn = self._txn(line)
            self.assertEqual(txn.state, "waiting")
            self.assertFalse(txn.transaction_id)
            self.assertFalse(txn.openid)
            self.assertEqual(txn.err_code, "SIGNATURE")
            self.assertIn("could not be verified", txn.message)
            self.assertEqual(self.wechat_pm.wechat_pay_status(line)["status"], "waiting")
            # Signed answers again: the query finds the payment, it is never charged twice.
            self.fake.pay_v3_bad_signature(times=0)
            self.assertEqual(self.wechat_pm.wechat_pay_status(line)["status"], "done")
            self.assertEqual(len(self._v3_calls("/codepay")), 1)
            self.fake.clear_logs()

    def test_v3_request_signature_refused(self):
        self.account.pay_v3_serial_no = "0" * 40  # not the merchant's certificate: WeChat refuses, signs nothing
        line = self._line()
        with self.assertLogs("odoo.addons.wechat_member.tools.wechat_pay_v3_api", "WARNING"):
            res = self._charge(self._code(), line)
        self.assertEqual(res["status"], "failed")
        self.assertIn("signature", res["message"])
        self.assertIsNone(self.fake.order(self._txn(line).out_trade_no), "nothing charged")
        self.assertEqual(set(self.fake.violation_rules()), {"v3_request_signature"})
        self.fake.clear_logs()

    def test_v3_platform_certificates_never_real_host(self):
        self.account.write({"pay_v3_verify_mode": "certificate", "pay_v3_public_key": False})
        self.account.pay_v3_public_key_id = False
        guard, seen = self._only_local_requests()
        with guard:
            res = self._charge(self._code(), self._line())
        self.assertEqual(res["status"], "done", res)
        self.assertTrue(seen)
        self.assertTrue(all(url.startswith(self.fake.url) for url in seen), seen)
        self.assertGreaterEqual(len(self._v3_calls("/v3/certificates")), 1)

    # ------------------------------------------------------------------ service provider
    def test_v3_service_provider_capture(self):
        credentials = v3_credentials(self.fake, SP_MCHID, appid=SP_APPID, partner=True)
        self.fake.pay_v3_sub_merchant(SP_MCHID, SUB_MCHID, sub_appid=self.account.appid)
        self.account.write(
            dict(
                credentials,
                pay_partner_mode=True,
                pay_sp_mchid=SP_MCHID,
                pay_sp_appid=SP_APPID,
                pay_sub_mchid=SUB_MCHID,
            )
        )
        order = self._pay_order()
        self.assertEqual(len(self._v3_calls("/v3/pay/partner/transactions/codepay")), 1)
        body = self._v3_calls("/v3/pay/partner/transactions/codepay")[0]["body"]
        self.assertEqual(
            (body["sp_mchid"], body["sp_appid"], body["sub_mchid"], body["sub_appid"]),
            (SP_MCHID, SP_APPID, SUB_MCHID, self.account.appid),
        )
        member = self.env["wechat.member"].search([("account_id", "=", self.account.id), ("openid", "=", OPENID_A)])
        self.assertEqual(len(member), 1, "the payer's sub_openid is the service account's openid")
        self.assertEqual(order.partner_id, member.partner_id)
        fake_order = self.fake.order(order.payment_ids.wechat_pay_transaction_id.out_trade_no)
        self.assertEqual((fake_order.mch_id, fake_order.sp_mchid), (SUB_MCHID, SP_MCHID))
        # Refund and its query name the sub-merchant.
        client = self.wechat_pm._wechat_pay_client()
        refund = client.refund(fake_order.out_trade_no, "RFSP1", 10000, 10000)
        self.assertEqual(refund.status, OK, refund.message)
        self.assertEqual(client.refund_query("RFSP1").data["refund_status"], "PROCESSING")
        self.assertEqual(client.refund_query("RFSP1").data["refund_status"], "SUCCESS")

    # ------------------------------------------------------------------ settings
    def test_v3_constraints(self):
        bare = self.env["wechat.account"].create({"name": "Bare", "appid": "wxbare000000000003"})
        with self.assertRaisesRegex(ValidationError, "APIv3"):
            self.env["pos.payment.method"].create(
                {
                    "name": "WeChat Pay v3 (no keys)",
                    "journal_id": self.company_data["default_journal_bank"].id,
                    "payment_method_type": "terminal",
                    "use_payment_terminal": "wechat_pay",
                    "wechat_account_id": bare.id,
                    "wechat_pay_api_version": "v3",
                }
            )
        with self.assertRaisesRegex(ValidationError, "lacks"):
            self.account.pay_v3_api_key = False  # the v3 method of this account needs it
        self.env.invalidate_all(flush=False)  # the refused value stays in the cache, to flush
        with self.assertRaisesRegex(ValidationError, "sub-merchant ID"):
            self.account.write({"pay_partner_mode": True, "pay_sp_mchid": SP_MCHID, "pay_sp_appid": SP_APPID})
        self.env.invalidate_all(flush=False)  # the refused value stays in the cache, to flush
        with self.assertRaisesRegex(ValidationError, "PEM private key"):
            self.account.pay_v3_private_key = "not a key"
        self.env.invalidate_all(flush=False)  # the refused value stays in the cache, to flush
        with self.assertRaisesRegex(ValidationError, "PUB_KEY_ID_"):
            self.account.pay_v3_public_key_id = "12345"
        self.env.invalidate_all(flush=False)  # the refused value stays in the cache, to flush
        v2_method = self.env["pos.payment.method"].create(
            {
                "name": "WeChat Pay v2",
                "journal_id": self.company_data["default_journal_bank"].id,
                "payment_method_type": "terminal",
                "use_payment_terminal": "wechat_pay",
                "wechat_account_id": self.account.id,
            }
        )
        self.assertEqual(v2_method.wechat_pay_api_version, "v2")
        with self.assertRaisesRegex(ValidationError, "must use WeChat Pay APIv3"):
            self.account.write(
                {
                    "pay_partner_mode": True,
                    "pay_sp_mchid": SP_MCHID,
                    "pay_sp_appid": SP_APPID,
                    "pay_sub_mchid": SUB_MCHID,
                }
            )

    def test_v3_settings_hidden_from_cashier(self):
        own = {"company_id": self.config.company_id.id, "company_ids": [Command.set(self.config.company_id.ids)]}
        cashier = new_test_user(
            self.env, login="wm_v3_cashier", groups="base.group_user,point_of_sale.group_pos_user", **own
        )
        account = self.account.with_user(cashier)
        secrets = (
            "pay_v3_private_key",
            "pay_v3_api_key",
            "pay_v3_serial_no",
            "pay_v3_public_key",
            "pay_sp_mchid",
            "pay_sub_mchid",
            "pay_partner_mode",
        )
        fields_seen = account.fields_get()
        for name in secrets:
            self.assertNotIn(name, fields_seen)
            with self.assertRaises(AccessError):
                account.read([name])
        with self.assertRaises(AccessError):
            account.write({"pay_v3_api_key": "x" * 32})
        # ... yet the cashier charges through APIv3 (the client reads the keys as superuser).
        method = self.wechat_pm.with_user(cashier)
        self.assertEqual(method.wechat_pay_api_version, "v3")
        res = self._charge(self._code(), self._line(), method=method)
        self.assertEqual(res["status"], "done", res)
        self.assertEqual(len(self._v3_calls("/codepay")), 1)

    def test_v3_network_error_unknown(self):
        self.fake.inject("/v3/pay/transactions/codepay", reset=True)
        line = self._line()
        with self.assertLogs("odoo.addons.wechat_member.tools.wechat_pay_v3_api", "WARNING"):
            res = self._charge(self._code(), line)
        self.assertEqual(res["status"], "waiting")
        self.assertEqual(self._txn(line).err_code, "NETWORK")
        client = self.wechat_pm._wechat_pay_client()
        self.assertEqual(client.query(self._txn(line).out_trade_no).code, "ORDERNOTEXIST")
        self.assertNotEqual(UNKNOWN, client.query(self._txn(line).out_trade_no).status)
