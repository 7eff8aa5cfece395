from odoo.tests import TransactionCase, tagged

from .common import ChineseTranslationMixin


@tagged("post_install", "-at_install")
class TestChinese(ChineseTranslationMixin, TransactionCase):
    module = "wechat_member"
