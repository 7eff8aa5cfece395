from odoo.tests import TransactionCase, tagged

from odoo.addons.wechat_member.tests.common import ChineseTranslationMixin


@tagged("post_install", "-at_install")
class TestChinese(ChineseTranslationMixin, TransactionCase):
    module = "wechat_coupon"
