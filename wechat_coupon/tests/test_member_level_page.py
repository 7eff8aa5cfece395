from odoo.tests import TransactionCase, tagged
from odoo.tests.common import Opener

from .common import CouponHttpCase


@tagged("post_install", "-at_install")
class TestMemberLevelPage(CouponHttpCase):
    """The member page shows the member's level and what is missing to the next one."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.account.company_id
        Level = cls.env["wechat.member.level"]
        Level.search([("company_id", "=", company.id)]).write({"active": False})
        cls.silver = Level.create({"name": "银卡", "company_id": company.id, "threshold": 1000})
        cls.gold = Level.create({"name": "金卡", "company_id": company.id, "threshold": 3000})
        cls.symbol = company.currency_id.symbol

    def _page(self, member, lang):
        self.fake.set_browser_user(self.appid, member.openid)
        self.opener = Opener(self.cr)
        return self.url_open(f"/wechat/member/{self.account.id}?lang={lang}").text

    def test_level_and_progress(self):
        member = self.make_member()
        self.env["wechat.member.level.member"].sudo().create(
            {
                "partner_id": member.partner_id.id,
                "company_id": self.account.company_id.id,
                "level_id": self.silver.id,
                "qualifying_value": 2680,
            }
        )
        html = self._page(member, "en")
        self.assertIn('id="wc-member-level"', html)
        self.assertIn("银卡", html)
        self.assertIn(f"{self.symbol}320 more to 金卡", html)
        self.assertIn("width: 84%", html, "(2680 - 1000) / (3000 - 1000) of the way from 银卡 to 金卡")
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["wechat_coupon"], ["zh_CN"])
        html = self._page(member, "zh")
        self.assertIn(f"还差 {self.symbol}320 升级金卡", html)

    def test_top_level_and_no_level(self):
        member = self.make_member()
        self.assertNotIn('id="wc-member-level"', self._page(member, "en"), "no level, no card")
        self.env["wechat.member.level.member"].sudo().create(
            {
                "partner_id": member.partner_id.id,
                "company_id": self.account.company_id.id,
                "level_id": self.gold.id,
                "qualifying_value": 3100,
            }
        )
        self.assertIn("You have reached the highest level.", self._page(member, "en"))


@tagged("post_install", "-at_install")
class TestMemberLevelDemo(TransactionCase):
    def test_demo_ladder(self):
        gold = self.env.ref("wechat_coupon.demo_level_gold", raise_if_not_found=False)
        if not gold:
            self.skipTest("installed without demo data: no demo levels (wechat_coupon.demo_level_gold)")
        ladder = gold._ladder()
        self.assertEqual(ladder.mapped("name"), ["普通会员", "银卡", "金卡", "钻石"])
        self.assertEqual(ladder.mapped("points_multiplier"), [1.0, 1.2, 1.5, 2.0])
        rows = self.env["wechat.member.level.member"].search([("level_id", "in", ladder.ids)])
        self.assertGreaterEqual(len(set(rows.mapped("level_id"))), 2, "the demo members are spread over the levels")
        for row in rows:
            self.assertEqual(row.level_id, ladder._for_value(row.qualifying_value), "the level of their purchases")
