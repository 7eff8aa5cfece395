from odoo.tests import tagged

from odoo.addons.point_of_sale.tests.test_frontend import TestPointOfSaleHttpCommon


@tagged("post_install", "-at_install")
class TestWeChatLevelPosTour(TestPointOfSaleHttpCommon):
    @classmethod
    def get_default_groups(cls):
        return super().get_default_groups() | cls.env.ref("wechat_member.group_wechat_manager")

    def test_member_crosses_gold_with_one_sale(self):
        self.env["loyalty.program"].search([]).write({"active": False})
        company = self.main_pos_config.company_id
        Level = self.env["wechat.member.level"]
        Level.search([("company_id", "=", company.id)]).write({"active": False})
        standard = Level.create({"name": "普通会员", "company_id": company.id, "threshold": 0})
        Level.create({"name": "银卡", "company_id": company.id, "threshold": 5, "points_multiplier": 1.2})
        gold = Level.create({"name": "金卡", "company_id": company.id, "threshold": 10, "points_multiplier": 1.5})
        lily = self.env["res.partner"].create({"name": "Lily Level", "phone": "13800138055"})
        lily.wechat_member_code = "WM90000155"
        lily._wechat_level_evaluate(company, "manual")
        self.assertEqual(lily.with_company(company).wechat_level_id, standard)
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("WeChatLevelUpgradeTour", login="pos_user")
        lily.invalidate_recordset()
        self.assertEqual(lily.with_company(company).wechat_level_id, gold)
        history = self.env["wechat.member.level.history"].search([("partner_id", "=", lily.id)], order="id")
        self.assertEqual(history.mapped("reason"), ["manual", "purchase"])
        self.assertEqual(history[-1].to_level_id, gold)
