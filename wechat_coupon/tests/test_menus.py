from odoo.tests import TransactionCase, new_test_user, tagged

from odoo.addons.wechat_member.tests.common import visible_wechat_menus


@tagged("post_install", "-at_install")
class TestCouponMenus(TransactionCase):
    def test_managers_see_coupon_programs(self):
        manager = new_test_user(self.env, "wm_mgr", groups="wechat_member.group_wechat_manager")
        self.assertIn("wechat_coupon.menu_wechat_coupon_programs", visible_wechat_menus(self.env, manager))
