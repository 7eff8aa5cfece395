from datetime import timedelta

from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestSelfServiceFromLoyalty(TransactionCase):
    """'积分' and '优惠券' answer from Odoo's loyalty ledger."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        account = cls.env["wechat.account"].create({"name": "Coupons", "appid": "wxcoupon0000000001"})
        cls.partner = cls.env["wechat.member"]._get_or_create(account, "oCoupon00000000000000000001")[0].partner_id
        cls.loyalty = cls.env["loyalty.program"].create({"name": "Lotus Points", "program_type": "loyalty"})
        cls.coupons = cls.env["loyalty.program"].create({"name": "Spring 10%", "program_type": "coupons"})

    def test_points_from_loyalty_cards(self):
        self.assertIn("No points yet", self.partner._wechat_points_text())
        self.env["loyalty.card"].create({"program_id": self.loyalty.id, "partner_id": self.partner.id, "points": 120})
        text = self.partner._wechat_points_text()
        self.assertIn("Lotus Points: 120 points", text)
        self.assertIn(self.partner.wechat_member_code, text)

    def test_valid_coupons_only(self):
        self.assertEqual(self.partner._wechat_coupons_text(), "You have no coupons yet.")
        valid = self.env["loyalty.card"].create(
            {"program_id": self.coupons.id, "partner_id": self.partner.id, "points": 1}
        )
        self.env["loyalty.card"].create(
            {
                "program_id": self.coupons.id,
                "partner_id": self.partner.id,
                "points": 1,
                "expiration_date": self.env.company._wechat_today() - timedelta(days=1),
            }
        )
        self.env["loyalty.card"].create({"program_id": self.coupons.id, "partner_id": self.partner.id, "points": 0})
        text = self.partner._wechat_coupons_text()
        self.assertIn(valid.code, text)
        self.assertEqual(text.count("Spring 10%"), 1, "expired and used coupons are not listed")

    def test_member_card_of_the_conversation_shows_level_points_and_coupons(self):
        member = self.partner.wechat_member_ids
        lines = {line["label"]: line["value"] for line in member._cs_member_card()["lines"]}
        self.assertEqual((lines["Points"], lines["Coupons"]), ("0", "none"))
        self.assertNotIn("Stamp Cards", lines, "no stamp card, no line")
        company = member.account_id.company_id
        self.env["wechat.member.level"].search([("company_id", "=", company.id)]).write({"active": False})
        gold = self.env["wechat.member.level"].create({"name": "金卡", "company_id": company.id, "threshold": 0})
        self.env["wechat.member.level.member"].create(
            {"partner_id": self.partner.id, "company_id": company.id, "level_id": gold.id}
        )
        self.partner.invalidate_recordset()
        self.env["loyalty.card"].create({"program_id": self.loyalty.id, "partner_id": self.partner.id, "points": 120})
        coupon = self.env["loyalty.card"].create(
            {"program_id": self.coupons.id, "partner_id": self.partner.id, "points": 1}
        )
        lines = {line["label"]: line["value"] for line in member._cs_member_card()["lines"]}
        self.assertEqual(lines["Points"], "Lotus Points: 120")
        self.assertEqual(lines["Member Level"], "金卡")
        self.assertEqual(lines["Coupons"], f"Spring 10% ({coupon.code})")
