from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged

from odoo.addons.wechat_member.tests.common import WeChatFakeMixin

from .common import ReferralProgramMixin

REFERRAL_MENUS = {
    "wechat_referral.menu_wechat_referral_programs",
    "wechat_referral.menu_wechat_referrals",
    "wechat_referral.menu_wechat_referrals_review",
    "wechat_referral.menu_wechat_referral_funnel",
    "wechat_referral.menu_wechat_referral_leaderboard",
}


@tagged("post_install", "-at_install")
class TestReferralSecurity(ReferralProgramMixin, WeChatFakeMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_referral_program(cls.account.company_id)
        cls.manager = new_test_user(cls.env, "wm_ref_mgr", groups="base.group_user,wechat_member.group_wechat_manager")
        cls.cashier = new_test_user(cls.env, "wm_ref_cash", groups="base.group_user,wechat_member.group_wechat_cashier")

    def menus(self, user):
        visible = self.env["ir.ui.menu"].with_user(user)._visible_menu_ids()
        return set(self.env["ir.ui.menu"].browse(visible).get_external_id().values())

    def test_menus_for_managers_only(self):
        self.assertLessEqual(REFERRAL_MENUS, self.menus(self.manager))
        self.assertFalse(REFERRAL_MENUS & self.menus(self.cashier))

    def test_cashier_reads_manager_writes(self):
        self.follow("oSecA000000000000000000000A1")
        a = self.member("oSecA000000000000000000000A1")
        self.follow("oSecB000000000000000000000B1", scene=a._referral_channel().scene)
        referral = self.referral(self.member("oSecB000000000000000000000B1"))
        self.assertEqual(referral.with_user(self.cashier).state, "pending")
        self.assertEqual(self.program.with_user(self.cashier).points_per_referral, 100)
        with self.assertRaises(AccessError):
            self.program.with_user(self.cashier).points_per_referral = 1000
        with self.assertRaises(AccessError):
            referral.with_user(self.cashier).action_reject()
        self.program.with_user(self.manager).points_per_referral = 120
        referral.with_user(self.manager).action_reject()
        self.assertEqual(referral.reject_reason, "manual")

    def test_views_load(self):
        for model, views in (
            ("wechat.referral.funnel", ["pivot", "graph", "search"]),
            ("wechat.referral", ["list", "form", "pivot", "graph", "search"]),
            ("wechat.referral.program", ["list", "form", "search"]),
        ):
            result = self.env[model].with_user(self.manager).get_views([(False, v) for v in views])
            self.assertEqual(set(result["views"]), set(views))
