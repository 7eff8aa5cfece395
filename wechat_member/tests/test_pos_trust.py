"""Trust at the till: dynamic member codes, verified binding, one person one contact, phone-only members.

``TestPosTrust`` (server side, the RPCs the POS calls) and the POS in a
browser in ``test_pos_member.TestPosMemberTour.test_dynamic_code_tour``.
"""

from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged

from ..models import wechat_member as wechat_member_module
from ..tools.wechat_api import WeChatApi
from .common import OPENID_A, OPENID_B, PosMemberCommon

NOW = 1_750_000_000.0  # a fixed clock: 2025-06-15, slot 29 166 666
EXPIRED = "This member code has expired: ask the customer to refresh their member page."
INVALID = "This member code is not valid: ask the customer to show their member page again."


def clock(at):
    return patch.object(wechat_member_module, "_now", lambda: at)


@tagged("post_install", "-at_install")
class TestPosTrust(PosMemberCommon):
    # ------------------------------------------------------------------ helpers
    def _find_result(self, query):
        return self.Partner.wechat_pos_find_member(self.config.id, query)

    # ------------------------------------------------------------------ dynamic code
    def test_dynamic_code_format_and_changes_every_minute(self):
        member = self._member(OPENID_A)
        code = member._dynamic_code(at=NOW)
        self.assertRegex(code, rf"^WD\d{{8}}\d{{4}}{member.id}$")
        self.assertEqual(code, member._dynamic_code(at=NOW + 59 - NOW % 60))  # same 60 s slot
        self.assertNotEqual(code, member._dynamic_code(at=NOW + 60))
        other = self._member(OPENID_B)
        self.assertNotEqual(code[2:10], other._dynamic_code(at=NOW)[2:10])

    def test_dynamic_code_fresh_accepted_old_refused(self):
        member = self._member(OPENID_A, partner=self.lily)
        with clock(NOW):
            for age in (0, 60):  # the current and the previous minute: at most 120 s
                result = self._find_result(member._dynamic_code(at=NOW - age))
                self.assertEqual([r["id"] for r in result["res.partner"]], [self.lily.id], age)
                self.assertEqual(result["wechat_bind_method"], "dynamic_code")
                self.assertTrue(
                    self.env["res.partner"]._wechat_check_bind_token(
                        self.config, self.lily.id, "dynamic_code", result["wechat_bind_token"]
                    )
                )
            # Typed as shown on the page, with spaces, in lower case.
            spaced = member._dynamic_code(at=NOW)
            spaced = "wd " + " ".join(spaced[i : i + 4] for i in range(2, len(spaced), 4))
            self.assertEqual(self._find_result(spaced)["res.partner"][0]["id"], self.lily.id)
            # An old screenshot: 2 minutes, 1 hour, 3 days.
            for age in (120, 3600, 3 * 86400):
                result = self._find_result(member._dynamic_code(at=NOW - age))
                self.assertEqual(result["res.partner"], [], age)
                self.assertEqual(result["wechat_error"], EXPIRED)
            # A forged one: wrong digits, unknown member, another company's member.
            code = member._dynamic_code(at=NOW)
            forged = code[:2] + f"{(int(code[2:10]) + 1) % 10**8:08d}" + code[10:]
            self.assertEqual(self._find_result(forged)["wechat_error"], INVALID)
            self.assertEqual(self._find_result(code[:14] + "999999")["wechat_error"], INVALID)
            account2 = self.env["wechat.account"].create(
                {"name": "Other company account", "appid": "wxother0000000002", "company_id": self.other_company.id}
            )
            stranger_member, _created = self.env["wechat.member"]._get_or_create(
                account2, OPENID_B, partner=self.stranger
            )
            self.assertEqual(self._find_result(stranger_member._dynamic_code(at=NOW))["wechat_error"], INVALID)

    def test_dynamic_code_translated(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        member = self._member(OPENID_A)
        with clock(NOW):
            result = self.Partner.with_context(lang="zh_CN").wechat_pos_find_member(
                self.config.id, member._dynamic_code(at=NOW - 600)
            )
        self.assertNotEqual(result["wechat_error"], EXPIRED)
        self.assertIn("会员码", result["wechat_error"])

    def test_static_code_and_phone_need_confirmation(self):
        self.assertEqual(self._find_result("WM90000001")["wechat_bind_method"], "static_code_confirmed")
        self.assertEqual(self._find_result("13800138000")["wechat_bind_method"], "phone_confirmed")
        self.assertNotIn("wechat_bind_token", self._find_result("WM90000001"))

    # ------------------------------------------------------------------ quick member, verified binding
    def test_new_member_never_adopts_existing_contact(self):
        wang = self.env["res.partner"].create({"name": "王芳", "phone": "139 0013 1234", "company_id": self.company.id})
        wang.wechat_member_code = "WM90000077"
        result = self.Partner.wechat_pos_create_member(self.config.id, "13900131234")
        self.assertEqual(result["res.partner"], [])
        self.assertEqual(result["wechat_existing"], {"name": "王*", "phone_last4": "1234"})
        self.assertEqual(self.env["res.partner"].search_count([("phone_mobile_search", "=", "13900131234")]), 1)

    def test_bind_phone_with_dynamic_code_merges_into_phone_contact(self):
        self.env["res.partner"]._wechat_register_purchases([(self.lily.id, 300.0, fields.Datetime.now())])
        member = self._member(OPENID_A)  # a follower with a contact of their own
        own = member.partner_id
        with clock(NOW):
            result = self.Partner.wechat_pos_bind_phone(
                self.config.id, "138 0013 8000", member._dynamic_code(at=NOW - 900)
            )
            self.assertEqual(result["wechat_error"], EXPIRED)
            self.assertTrue(own.exists())
            result = self.Partner.wechat_pos_bind_phone(self.config.id, "138 0013 8000", member._dynamic_code(at=NOW))
        self.assertEqual([r["id"] for r in result["res.partner"]], [self.lily.id])
        self.assertEqual(result["wechat_bind_method"], "dynamic_code")
        self.assertFalse(own.exists(), "merged into the phone contact")
        self.assertEqual(member.partner_id, self.lily)
        self.assertEqual(self.lily.wechat_member_code, "WM90000001")
        self.assertEqual(self.lily.wechat_purchase_count, 1)
        self.assertTrue(self.lily.wechat_member_ids)

    def test_bind_phone_of_another_wechat_member_refused(self):
        self._member(OPENID_B, partner=self.lily)
        member = self._member(OPENID_A)
        with clock(NOW):
            result = self.Partner.wechat_pos_bind_phone(self.config.id, "13800138000", member._dynamic_code(at=NOW))
        self.assertEqual(result["res.partner"], [])
        self.assertTrue(result["wechat_error"])
        self.assertNotEqual(member.partner_id, self.lily)

    # ------------------------------------------------------------------ payer
    def test_payer_never_adopts_contact_with_history(self):
        self.open_new_session()
        self._order(customer=self.lily)  # a purchase: history
        order = self._pay_with_wechat(self.lily, OPENID_B)
        member = self.env["wechat.member"].search([("openid", "=", OPENID_B)])
        self.assertTrue(member)
        self.assertNotEqual(member.partner_id, self.lily, "the payer is a member of their own")
        self.assertEqual(order.partner_id, self.lily, "the order keeps the cashier's customer")
        self.assertEqual(order.wechat_payer_member_id, member)
        self.assertFalse(self.lily.wechat_member_ids)

    def test_payer_binds_anonymous_order(self):
        self.open_new_session()
        order = self._pay_with_wechat(False, OPENID_B)
        self.assertEqual(order.partner_id, order.wechat_payer_member_id.partner_id)
        self.assertEqual(order.wechat_bind_method, "payer")

    # ------------------------------------------------------------------ bind method on the order
    def test_bind_method_recorded_and_checked(self):
        self.open_new_session()
        Partner = self.env["res.partner"]

        def sync(method, token=None, customer=self.lily):
            data = self.create_ui_order_data([(self.tea, 1)], customer=customer)
            data.update(wechat_bind_method=method)
            if token is not None:
                data["wechat_bind_token"] = token
            return self._sync(data)[0].wechat_bind_method

        token = Partner._wechat_bind_token(self.config, self.lily.id, "dynamic_code")
        self.assertEqual(sync("dynamic_code", token), "dynamic_code")
        self.assertFalse(sync("dynamic_code"), "no proof from the server")
        self.assertFalse(sync("dynamic_code", token, customer=self.customer), "the proof is for another customer")
        self.assertEqual(sync("static_code_confirmed"), "static_code_confirmed")
        self.assertEqual(sync("phone_confirmed"), "phone_confirmed")
        self.assertFalse(sync("payer"), "only the server says payer")
        self.assertFalse(sync("phone_confirmed", customer=False))

    # ------------------------------------------------------------------ one person, one contact
    def test_same_unionid_on_two_accounts_one_contact(self):
        account2 = self.env["wechat.account"].create(
            {"name": "Second account", "appid": "wxsecond000000002", "company_id": self.company.id}
        )
        first = self._member(OPENID_A)
        self.env["res.partner"]._wechat_register_purchases([(first.partner_id.id, 200.0, fields.Datetime.now())])
        first.sudo().unionid = "UNION-1"
        second, _created = self.env["wechat.member"]._get_or_create(account2, OPENID_B)
        self.assertNotEqual(second.partner_id, first.partner_id)
        own = second.partner_id

        def infos(api, openids, lang="zh_CN"):
            return [{"openid": o, "subscribe": 1, "unionid": "UNION-1"} for o in openids]

        with patch.object(WeChatApi, "user_info_batch", infos):
            second._fetch_user_info()
        self.assertEqual(second.unionid, "UNION-1")
        self.assertEqual(second.partner_id, first.partner_id, "one person, one contact")
        self.assertFalse(own.exists())
        self.assertEqual(first.partner_id.wechat_purchase_count, 1)
        self.assertEqual(first.partner_id.wechat_member_count, 2)

    def test_same_unionid_keeps_the_contact_with_history(self):
        account2 = self.env["wechat.account"].create(
            {"name": "Second account", "appid": "wxsecond000000002", "company_id": self.company.id}
        )
        first = self._member(OPENID_A)
        first.sudo().unionid = "UNION-2"
        second, _created = self.env["wechat.member"]._get_or_create(account2, OPENID_B)
        buyer = second.partner_id
        self.env["res.partner"]._wechat_register_purchases([(buyer.id, 50.0, fields.Datetime.now())])
        second.sudo().unionid = "UNION-2"
        second._link_same_person()
        self.assertEqual(first.partner_id, buyer)
        self.assertEqual(buyer.wechat_purchase_count, 1)

    def test_other_company_same_unionid_not_merged(self):
        account2 = self.env["wechat.account"].create(
            {"name": "Other co", "appid": "wxother0000000003", "company_id": self.other_company.id}
        )
        first = self._member(OPENID_A)
        first.sudo().unionid = "UNION-3"
        second, _created = self.env["wechat.member"]._get_or_create(account2, OPENID_B)
        second.sudo().unionid = "UNION-3"
        second._link_same_person()
        self.assertNotEqual(second.partner_id, first.partner_id)

    # ------------------------------------------------------------------ phone-only members count
    def test_phone_only_member_counts(self):
        self.open_new_session()
        self.assertFalse(self.lily.wechat_member_ids)
        self.assertTrue(self.lily.wechat_is_member)
        order = self._order(customer=self.lily)
        self.assertTrue(order.wechat_captured, "capture rate")
        self.assertEqual(self.lily.wechat_purchase_count, 1, "statistics")
        self.assertEqual(self.lily.wechat_activity_state, "new")
        self.lily.sudo().wechat_activity_state = "to_activate"
        self.env["res.partner"]._wechat_update_activity(all_members=True)
        self.assertEqual(self.lily.wechat_activity_state, "new", "daily activity update")
        self.env["res.partner"]._wechat_update_rfm()
        self.assertTrue(self.lily.wechat_rfm_score, "RFM")
        # A plain contact (no member code) still does not count.
        plain = self._order(customer=self.customer)
        self.assertFalse(plain.wechat_captured)
        self.assertFalse(self.customer.wechat_purchase_count)
        self.assertFalse(self.customer.wechat_rfm_score)
        # Segments: a buyer segment that includes the phone-only members has the contact.
        segment = self.env["wechat.segment"].create(
            {
                "name": "Buyers",
                "account_id": self.account.id,
                "followers_only": False,
                "window_days": 30,
                "min_orders": 1,
                "include_phone_members": True,
            }
        )
        self.assertIn(self.lily.id, segment._partner_ids())
        self.assertNotIn(self.customer.id, segment._partner_ids(), "not a member")
        self.assertEqual(segment.partner_count, 1)
        self.assertEqual(segment.member_count, 0, "no WeChat member to message")
        segment.min_total_amount = 1000
        self.assertNotIn(self.lily.id, segment._partner_ids(), "the purchase filters apply to them too")
        segment.min_total_amount = 0
        segment.domain = "[('gender', '=', 'female')]"
        self.assertNotIn(self.lily.id, segment._partner_ids(), "a WeChat filter: WeChat members only")
        segment.write({"domain": "[]", "include_phone_members": False})
        self.assertNotIn(self.lily.id, segment._partner_ids())

    def test_member_page_json_code(self):
        # The JSON route gives the signed-in member's code only: see test_member_page for the HTTP part.
        member = self._member(OPENID_A)
        self.assertEqual(member._dynamic_code_expires_in(at=NOW), 60 - int(NOW) % 60)
        self.assertEqual(
            self.env["wechat.member"]._check_dynamic_code(member._dynamic_code(at=NOW), at=NOW), (member, None)
        )
