from odoo.tests import TransactionCase, tagged

from odoo.addons.wechat_member.tests.common import untranslated_terms


@tagged("post_install", "-at_install")
class TestChinese(TransactionCase):
    def test_every_term_has_a_chinese_translation(self):
        missing = untranslated_terms(self.env, "wechat_referral")
        self.assertFalse(missing, f"{len(missing)} terms without zh_CN translation, e.g. {missing[:8]}")
