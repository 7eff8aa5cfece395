from odoo.tests import TransactionCase, new_test_user, tagged

from odoo.addons.wechat_member.tests.common import visible_wechat_menus


@tagged("post_install", "-at_install")
class TestWeChatMarketingMenus(TransactionCase):
    """Managers run campaigns from the WeChat Marketing menu; cashiers only see members."""

    def visible(self, user):
        return visible_wechat_menus(self.env, user)

    def test_manager_and_cashier_menus(self):
        manager = new_test_user(self.env, "wm_mgr", groups="wechat_member.group_wechat_manager")
        cashier = new_test_user(self.env, "wm_cash", groups="wechat_member.group_wechat_cashier")
        seller = new_test_user(self.env, "wm_nobody", groups="base.group_user")
        manager_menus = self.visible(manager)
        self.assertIn("wechat_referral.menu_wechat_referral_programs", manager_menus)
        self.assertIn("wechat_member.menu_wechat_account", manager_menus)
        cashier_menus = self.visible(cashier)
        self.assertIn("wechat_member.menu_wechat_member", cashier_menus)
        self.assertNotIn("wechat_referral.menu_wechat_referral_programs", cashier_menus)
        self.assertNotIn("wechat_member.menu_wechat_account", cashier_menus)
        self.assertFalse(self.visible(seller), "other employees do not see WeChat Marketing")
        self.assertTrue(cashier.has_group("point_of_sale.group_pos_user"), "cashiers can open the POS")
