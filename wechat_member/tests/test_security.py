"""Trust at the till and on the member pages: nobody reaches another member's points, coupons or money.

Run as the named users: a cashier (WeChat cashier + POS user), a WeChat
manager and a plain internal user (``base.group_user`` only).
"""

import json
import uuid
from datetime import timedelta
from unittest.mock import patch

from lxml import etree

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import new_test_user, tagged
from odoo.tools import consteq, mute_logger

from ..models import wechat_campaign as wechat_campaign_module
from ..tools import wechat_pay_api as wechat_pay_module
from . import test_pos_wechat_pay as pay_tests
from .common import PoSCommonWeChat, WeChatFakeMixin, WeChatHttpCase, setup_wechat_pos

OPENID_A, OPENID_B = pay_tests.OPENID_A, pay_tests.OPENID_B

VICTIM = "oVICTIM00000000000000000000V1"


@tagged("post_install", "-at_install")
class TestSecurity(WeChatFakeMixin, PoSCommonWeChat):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        setup_wechat_pos(cls)
        own = {"company_id": cls.company.id, "company_ids": [Command.set(cls.company.ids)]}
        cls.cashier = new_test_user(cls.env, login="wm_sec_cashier", groups="wechat_member.group_wechat_cashier", **own)
        cls.manager = new_test_user(cls.env, login="wm_sec_manager", groups="wechat_member.group_wechat_manager", **own)
        cls.plain = new_test_user(cls.env, login="wm_sec_plain", groups="base.group_user", **own)
        cls.pos_only = new_test_user(
            cls.env, login="wm_sec_pos", groups="base.group_user,point_of_sale.group_pos_user", **own
        )
        cls.victim, __ = cls.env["wechat.member"]._get_or_create(cls.account, VICTIM)
        cls.victim.partner_id.sudo().write(
            {"name": "Victim", "wechat_birthday": "1990-05-01", "wechat_gender": "female", "wechat_consent": True}
        )
        # Another company with its own WeChat account, member and campaign.
        cls.other_company = cls.env["res.company"].create({"name": "Other Shop Co (security)"})
        cls.other_account = (
            cls.env["wechat.account"]
            .sudo()
            .create(
                {
                    "name": "Other Account",
                    "appid": "wxother00000000001",
                    "appsecret": "s",
                    "callback_token": "t",
                    "company_id": cls.other_company.id,
                    "sandbox": True,
                    "sandbox_url": cls.fake.url,
                }
            )
        )
        cls.other_member, __ = cls.env["wechat.member"]._get_or_create(
            cls.other_account, "oOTHER0000000000000000000001"
        )
        cls.other_campaign = (
            cls.env["wechat.campaign"].sudo().create({"name": "Other campaign", "account_id": cls.other_account.id})
        )

    def setUp(self):
        super().setUp()
        self.open_new_session()
        self.fake.clear_logs()

    # helpers of the WeChat Pay tests
    _code = pay_tests.TestPosWeChatPay._code
    _line = pay_tests.TestPosWeChatPay._line
    _charge = pay_tests.TestPosWeChatPay._charge
    _txn = pay_tests.TestPosWeChatPay._txn

    def _pay_order(self, user, openid=OPENID_A):
        """As ``user``: charge with WeChat and sync the order as the POS does; returns (order, line)."""
        order_uuid = str(uuid.uuid4())
        data = self.create_ui_order_data([(self.tea, 1)], uuid=order_uuid, payments=[(self.wechat_pm, 100.0)])
        line = self._line(order_uuid)
        res = self.wechat_pm.with_user(user).wechat_pay_charge(
            dict(
                line,
                auth_code=self._code(openid=openid),
                amount=data["amount_total"],
                currency=self.config.currency_id.name,
            )
        )
        self.assertEqual(res["status"], "done", res)
        data["payment_ids"][0][2].update(
            uuid=line["payment_uuid"], transaction_id=res["transaction_id"], payment_status="done"
        )
        result = self.env["pos.order"].with_user(user).sync_from_ui([data])
        return self.env["pos.order"].browse(result["pos.order"][0]["id"]), line

    @property
    def Txn(self):
        return self.env["wechat.pay.transaction"]

    # ------------------------------------------------------------------ 1. members: server only
    def test_cashier_cannot_forge_a_member(self):
        Member = self.env["wechat.member"].with_user(self.cashier)
        self.assertEqual(Member.search([("openid", "=", VICTIM)]), self.victim, "cashiers read members")
        with self.assertRaises(AccessError):
            Member.create(
                {
                    "account_id": self.account.id,
                    "openid": "oFORGED000000000000000000001",
                    "partner_id": self.victim.partner_id.id,
                }
            )
        with self.assertRaises(AccessError):
            self.victim.with_user(self.cashier).write({"tag_ids": [Command.clear()]})
        with self.assertRaises(AccessError):
            self.victim.with_user(self.cashier).unlink()
        self.assertFalse(Member.search([("id", "=", self.other_member.id)]), "own company only")

    def test_identity_fields_refused_even_for_managers(self):
        Member = self.env["wechat.member"].with_user(self.manager)
        intruder = self.env["res.partner"].create({"name": "Intruder"})
        with self.assertRaises(AccessError):
            Member.create(
                {"account_id": self.account.id, "openid": "oFORGED000000000000000000002", "partner_id": intruder.id}
            )
        for vals in (
            {"partner_id": intruder.id},
            {"openid": "oOTHER"},
            {"state": "unfollowed"},
            {"account_id": self.account.id},
            {"unionid": "uX"},
        ):
            with self.assertRaises(AccessError, msg=vals):
                self.victim.with_user(self.manager).write(vals)
        self.assertEqual(self.victim.partner_id.name, "Victim")
        tag = self.env["wechat.tag"].create({"name": "VIP", "account_id": self.account.id})
        self.victim.with_user(self.manager).write({"tag_ids": [Command.link(tag.id)]})  # the rest stays editable
        self.assertEqual(self.victim.tag_ids, tag)
        with self.assertRaises(AccessError):  # nor through the contact's one2many
            intruder.with_user(self.manager).write({"wechat_member_ids": [Command.link(self.victim.id)]})

    def test_server_paths_still_write_identity(self):
        """Follow/unfollow events, the member page login, a WeChat payment at the till by a cashier."""
        Event = self.env["wechat.event"].with_user(self.manager)
        Event._receive(
            self.account,
            {
                "ToUserName": "gh",
                "FromUserName": OPENID_B,
                "CreateTime": "1700000001",
                "MsgType": "event",
                "Event": "subscribe",
            },
        )
        member = self.env["wechat.member"].search([("openid", "=", OPENID_B)])
        self.assertEqual(member.state, "follower")
        Event._receive(
            self.account,
            {
                "ToUserName": "gh",
                "FromUserName": OPENID_B,
                "CreateTime": "1700000002",
                "MsgType": "event",
                "Event": "unsubscribe",
            },
        )
        self.assertEqual(member.state, "unfollowed")
        order, __ = self._pay_order(self.cashier)
        payer = self.env["wechat.member"].search([("account_id", "=", self.account.id), ("openid", "=", OPENID_A)])
        self.assertEqual(payer.state, "payer")
        self.assertEqual(order.partner_id, payer.partner_id)
        self.assertEqual(order.wechat_payer_member_id, payer)

    def test_cashier_pos_binding_still_works(self):
        Partner = self.env["res.partner"].with_user(self.cashier)
        created = Partner.wechat_pos_create_member(self.config.id, "13900139000", "Mei")["res.partner"][0]
        self.assertTrue(created["wechat_member_code"])
        found = Partner.wechat_pos_find_member(self.config.id, created["wechat_member_code"])["res.partner"]
        self.assertEqual([r["id"] for r in found], [created["id"]])
        code = self.victim.partner_id.wechat_member_code
        found = Partner.wechat_pos_find_member(self.config.id, code)["res.partner"]
        self.assertEqual(found[0]["id"], self.victim.partner_id.id)

    # ------------------------------------------------------------------ 2. WeChat Pay transactions
    def test_pay_transactions_are_server_records(self):
        order, line = self._pay_order(self.cashier)
        payment = order.payment_ids.filtered(lambda p: p.payment_method_id == self.wechat_pm)
        txn = self._txn(line)
        self.assertEqual(payment.wechat_pay_transaction_id, txn, "the server links the payment")
        # Another paid charge, not in this order: a cashier cannot move the link, whatever the context says.
        line2 = self._line()
        self.assertEqual(
            self.wechat_pm.with_user(self.cashier).wechat_pay_charge(
                dict(line2, auth_code=self._code(openid=OPENID_B), amount=100.0, currency=self.config.currency_id.name)
            )["status"],
            "done",
        )
        txn2 = self._txn(line2)
        payment.with_user(self.cashier).with_context(wechat_pay_capture=True).write(
            {"wechat_pay_transaction_id": txn2.id}
        )
        self.assertEqual(payment.wechat_pay_transaction_id, txn)
        TxnC = self.Txn.with_user(self.cashier)
        self.assertEqual(TxnC.search([("id", "=", txn.id)]), txn, "cashiers read their company's charges")
        with self.assertRaises(AccessError):
            txn.with_user(self.cashier).write({"openid": OPENID_B})
        with self.assertRaises(AccessError):
            TxnC.create(
                {
                    "out_trade_no": "WMFORGED",
                    "account_id": self.account.id,
                    "company_id": self.company.id,
                    "state": "done",
                    "openid": OPENID_B,
                }
            )
        foreign = self.Txn.sudo().create(
            {
                "out_trade_no": "WMOTHER0001",
                "account_id": self.other_account.id,
                "company_id": self.other_company.id,
                "state": "done",
            }
        )
        self.assertFalse(self.Txn.with_user(self.manager).search([("id", "=", foreign.id)]), "company rule")

    # ------------------------------------------------------------------ 3. no reverse after validation
    def test_no_reverse_of_a_validated_sale(self):
        order, line = self._pay_order(self.cashier)
        self.assertEqual(order.state, "paid")
        txn = self._txn(line)
        txn.charged_at = fields.Datetime.now() - timedelta(seconds=60)
        self.fake.advance(60)
        for user in (self.cashier, self.manager):
            res = self.wechat_pm.with_user(user).wechat_pay_cancel(dict(line, force=True))
            self.assertFalse(res["cancelled"], res)
            self.assertIn("Refund", res["message"])
        self.assertEqual(txn.state, "done")
        self.assertFalse(self.calls_to("/secapi/pay/reverse"), "WeChat was never asked to reverse it")

    # ------------------------------------------------------------------ 4. company rules, events
    def test_company_rules(self):
        other = self.other_account
        button = (
            self.env["wechat.menu.button"]
            .sudo()
            .create({"account_id": other.id, "name": "Other", "button_type": "click", "key": "K"})
        )
        chunk = (
            self.env["wechat.campaign.chunk"]
            .sudo()
            .create({"campaign_id": self.other_campaign.id, "sequence": 1, "clientmsgid": "other-1", "msg_id": "777"})
        )
        recipient = (
            self.env["wechat.campaign.recipient"]
            .sudo()
            .create({"campaign_id": self.other_campaign.id, "member_id": self.other_member.id, "chunk_id": chunk.id})
        )
        self.env["wechat.message.log"].sudo()._log(other, self.other_member.ids, "mass")
        log = self.env["wechat.message.log"].sudo().search([("account_id", "=", other.id)])
        for records in (button, chunk, recipient, log):
            self.assertTrue(records)
            for user in (self.manager, self.cashier):
                try:
                    visible = self.env[records._name].with_user(user).search([("id", "in", records.ids)])
                except AccessError:  # no access at all (cashiers and campaigns)
                    continue
                self.assertFalse(visible, f"{records._name}: own companies only")

    def test_mass_send_result_matched_by_account(self):
        chunk = (
            self.env["wechat.campaign.chunk"]
            .sudo()
            .create({"campaign_id": self.other_campaign.id, "sequence": 1, "clientmsgid": "other-2", "msg_id": "1000"})
        )
        self.env["wechat.event"]._receive(
            self.account,
            {
                "ToUserName": "gh",
                "FromUserName": "oSYSTEM",
                "CreateTime": "1700000003",
                "MsgType": "event",
                "Event": "MASSSENDJOBFINISH",
                "MsgID": "1000",
                "Status": "send success",
                "TotalCount": "9",
                "SentCount": "9",
                "FilterCount": "9",
                "ErrorCount": "0",
            },
            signature_checked=True,
        )
        self.assertFalse(chunk.wechat_status, "another account's msg_id 1000 is another send")
        self.assertEqual(chunk.sent_count, 0)

    def test_event_payload_is_kept(self):
        self.env["wechat.event"]._receive(
            self.account,
            {
                "ToUserName": "gh",
                "FromUserName": OPENID_B,
                "CreateTime": "1700000004",
                "MsgType": "text",
                "Content": "hi",
                "MsgId": "42",
            },
            signature_checked=True,
        )
        event = self.env["wechat.event"].search([("dedupe_key", "=", "msg:42")])
        self.assertTrue(event.signature_checked)
        for vals in (
            {"payload": json.dumps({"FromUserName": VICTIM})},
            {"openid": VICTIM},
            {"event": "subscribe"},
            {"signature_checked": True},
            {"mass_msg_id": "1"},
        ):
            with self.assertRaises(AccessError, msg=vals):
                event.with_user(self.manager).write(vals)
        self.assertEqual(event.openid, OPENID_B)

    @mute_logger("odoo.addons.wechat_member.models.wechat_event")
    def test_retry_replays_signed_events_only(self):
        Event = self.env["wechat.event"].sudo()
        forged, signed = Event.create(
            [
                {
                    "account_id": self.account.id,
                    "dedupe_key": f"evt:{openid}",
                    "msg_type": "event",
                    "event": "subscribe",
                    "openid": openid,
                    "state": "failed",
                    "signature_checked": checked,
                    "payload": json.dumps({"FromUserName": openid, "MsgType": "event", "Event": "subscribe"}),
                }
                for openid, checked in (
                    ("oFORGEDEVENT00000000000000001", False),
                    ("oSIGNEDEVENT00000000000000001", True),
                )
            ]
        )
        forged.with_user(self.manager).action_retry()
        self.assertEqual(forged.state, "failed")
        self.env["wechat.event"]._cron_retry_failed()
        self.assertEqual(forged.state, "failed", "never signed by WeChat: not replayed")
        self.assertFalse(self.env["wechat.member"].search([("openid", "=", forged.openid)]))
        self.assertEqual(signed.state, "done")
        self.assertTrue(self.env["wechat.member"].search([("openid", "=", signed.openid)]))

    # ------------------------------------------------------------------ 5. personal data
    def test_personal_data_by_groups(self):
        partner = self.victim.partner_id
        personal = [
            "wechat_birthday",
            "wechat_gender",
            "wechat_consent",
            "wechat_purchase_count",
            "wechat_purchase_amount",
            "wechat_rfm_score",
            "wechat_activity_state",
        ]
        for fname in personal:
            with self.assertRaises(AccessError, msg=fname):
                partner.with_user(self.plain).read([fname])
        self.assertEqual(
            partner.with_user(self.cashier).read(["wechat_birthday"])[0]["wechat_birthday"],
            fields.Date.to_date("1990-05-01"),
        )
        # A plain user still opens the contact form (without the WeChat fields).
        Partner = self.env["res.partner"].with_user(self.plain)
        arch = etree.fromstring(Partner.get_views([(False, "form")])["views"]["form"]["arch"])
        form_fields = {
            node.get("name")
            for node in arch.iter("field")
            if not any(parent.tag == "field" for parent in node.iterancestors())
        }
        self.assertFalse({"wechat_birthday", "wechat_purchase_count", "wechat_member_ids"} & form_fields)
        self.assertTrue(partner.with_user(self.plain).web_read({f: {} for f in form_fields}))
        # What the POS loads, for a cashier and for a POS user.
        for user in (self.cashier, self.pos_only):
            Pos = self.env["res.partner"].with_user(user)
            record = partner.with_user(user).read(Pos._load_pos_data_fields(self.config.id), load=False)[0]
            self.assertIn("wechat_purchase_count", record)

    # ------------------------------------------------------------------ 6. neutralize
    def test_neutralize(self):
        account = self.other_account.sudo()
        account.write(
            {
                "sandbox": False,
                "access_token": "REAL",
                "jsapi_ticket": "TICKET",
                "token_expires_at": fields.Datetime.now(),
                "jsapi_ticket_expires_at": fields.Datetime.now(),
            }
        )
        crons = ("ir_cron_wechat_campaigns", "ir_cron_wechat_notice_send", "ir_cron_wechat_notice_digest")
        for xmlid in crons:
            self.env.ref(f"wechat_member.{xmlid}").sudo().active = True
        self.env.flush_all()
        for query in get_neutralization_queries(["wechat_member"]):
            self.env.cr.execute(query)
        self.env.invalidate_all()
        account = account.sudo()
        self.assertTrue(account.sandbox)
        self.assertFalse(
            account.access_token or account.jsapi_ticket or account.token_expires_at or account.jsapi_ticket_expires_at
        )
        for xmlid in crons:
            self.assertFalse(self.env.ref(f"wechat_member.{xmlid}").active, xmlid)

    # ------------------------------------------------------------------ 7. constant-time compares
    def test_constant_time_signature_compares(self):
        campaign = self.env["wechat.campaign"].create({"name": "Links", "account_id": self.account.id})
        sig = campaign._click_url().rsplit("/", 1)[1]
        with patch.object(wechat_campaign_module, "consteq", wraps=consteq) as spy:
            self.assertTrue(campaign._check_click_signature(sig))
            self.assertFalse(campaign._check_click_signature(sig[:-1] + ("0" if sig[-1] != "0" else "1")))
            self.assertFalse(campaign._check_click_signature(None))
        self.assertEqual(spy.call_count, 2, "every signature compared in constant time (None refused before)")
        with patch.object(wechat_pay_module, "consteq", wraps=consteq) as spy:
            line = self._line()
            self.assertEqual(self._charge(self._code(), line)["status"], "done")
        self.assertTrue(spy.called, "WeChat Pay answers are checked in constant time")


@tagged("post_install", "-at_install")
class TestSecurityWebhook(WeChatHttpCase):
    def test_webhook_marks_signed_events(self):
        self.sim.follow(openid="oSIGNEDHOOK0000000000000001")
        event = self.env["wechat.event"].search([("openid", "=", "oSIGNEDHOOK0000000000000001")])
        self.assertTrue(event.signature_checked)
