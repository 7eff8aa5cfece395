"""Shared bases: a fake WeChat platform on 127.0.0.1 and a sandbox account pointed at it.

The fake platform is the ``fakewechat`` package (``tests/fakewechat``, declared in
``setup.cfg`` and installed in editable mode by ``./run``); it is shared with the
black-box scenarios and the demo sandbox.
"""

import contextlib
import os
import uuid

from fakewechat import FakeWeChat

from odoo import Command, api, sql_db
from odoo.tests import HttpCase, TransactionCase, new_test_user

from odoo.addons.point_of_sale.tests.common import TestPoSCommon
from odoo.addons.point_of_sale.tests.test_frontend import TestPointOfSaleHttpCommon

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


class WeChatFakeMixin:
    """Starts one fake platform per test class and creates a sandbox account."""

    encrypt_mode = "plain"
    appid = "wxtest000000000001"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fake = FakeWeChat(token_grace_seconds=300).start()
        cls.addClassCleanup(cls.fake.stop)
        # Every test class ends with WeChat's rules kept: the fake's violation log is empty.
        cls.addClassCleanup(cls.fake.assert_no_violations)
        manager = cls.env.ref("wechat_member.group_wechat_manager")
        if manager not in cls.env.user.groups_id:  # e.g. the accountant user of the POS test bases
            cls.env.user.sudo().groups_id = [(4, manager.id)]
            cls.env.invalidate_all()
        cls.account = cls.env["wechat.account"].create(
            {
                "name": "Test Store Account",
                "appid": cls.appid,
                "appsecret": "test-secret-0001",
                "callback_token": "cbtoken",
                "encoding_aes_key": AES_KEY,
                "encrypt_mode": cls.encrypt_mode,
                "pay_mch_id": "1900000109",
                "pay_api_key": "k" * 32,
                "sandbox": True,
                "sandbox_url": cls.fake.url,
                "timeout": 5,
            }
        )
        cls.fake_account = cls.fake.add_account(
            appid=cls.appid,
            secret="test-secret-0001",
            token="cbtoken",
            aes_key=AES_KEY,
            encrypt_mode=cls.encrypt_mode,
            webhook_url=None,
            mch_id="1900000109",
            mch_key="k" * 32,
        )

    def setUp(self):
        super().setUp()
        # Each test keeps WeChat's rules: its violations fail it (a test that breaks a rule on purpose
        # checks the violation, then calls self.fake.clear_logs()).
        self.addCleanup(self.fake.assert_no_violations)

    def map_template(self, kind_code, template_id, keywords, channel="template", account=None):
        """A notice mapping on the account and the same template on the fake, with ``keywords``.

        ``keywords``: ``{"thing1": "store", "amount2": "amount", "phrase3": ("fixed", "已支付")}``.
        """
        account = account or self.account
        fake_account = self.fake.account(account.appid)
        if channel == "subscribe":
            fake_account.add_subscribe_template(template_id, title=kind_code, keywords=tuple(keywords))
        else:
            fake_account.add_template(template_id, title=kind_code, keywords=tuple(keywords))
        lines = []
        for keyword, value in keywords.items():
            value_key, fixed = value if isinstance(value, tuple) else (value, False)
            lines.append((0, 0, {"keyword": keyword, "value_key": value_key, "fixed_value": fixed}))
        return self.env["wechat.notice.template"].create(
            {
                "account_id": account.id,
                "kind_id": self.env["wechat.notice.kind"]._get(kind_code).id,
                "channel": channel,
                "template_id": template_id,
                "line_ids": lines,
            }
        )

    def notices(self, kind_code=None, member=None):
        domain = [("account_id", "=", self.account.id)]
        if kind_code:
            domain.append(("kind_id.code", "=", kind_code))
        if member:
            domain.append(("member_id", "in", member.ids))
        return self.env["wechat.notice"].search(domain, order="id")

    def run_cron(self, xmlid, max_calls=100):
        """Run the cron ``xmlid`` as ``ir.cron`` runs a job: call it with a progress record, and again while it
        reports work done and work remaining (the commits between calls aside).  Returns the number of calls."""
        cron = self.env.ref(xmlid)
        for calls in range(1, max_calls + 1):
            job, progress = cron._add_progress()
            job.ir_actions_server_id.run()
            if not (progress.done and progress.remaining):
                return calls
        raise AssertionError(f"{xmlid} still reports work after {max_calls} calls")

    def calls_to(self, suffix):
        return [c for c in self.fake.calls if c["path"].endswith(suffix)]

    def commit(self):
        """What happens after a real commit: run the post-commit hooks (notices).

        A TransactionCase never commits; in registry test mode the fresh
        cursor of a hook is a test cursor that sees this transaction.
        """
        self.env.flush_all()
        self.registry.enter_test_mode(self.cr)
        try:
            self.env.cr.postcommit.run()
        finally:
            self.registry.leave_test_mode()
        self.env.invalidate_all()


def add_wechat_pay_method(cls, config):
    """A WeChat Pay (scan code) method of ``cls.account`` on ``config``, for the POS test bases
    (``point_of_sale``'s ``TestPoSCommon``: bank journal and accounts); sets ``cls.wechat_pm``."""
    cls.wechat_pm = cls.env["pos.payment.method"].create(
        {
            "name": "WeChat Pay",
            "journal_id": cls.company_data["default_journal_bank"].id,
            "receivable_account_id": cls.pos_receivable_bank.id,
            "outstanding_account_id": cls.outstanding_bank.id,
            "payment_method_type": "terminal",
            "use_payment_terminal": "wechat_pay",
            "wechat_account_id": cls.account.id,
            "company_id": config.company_id.id,
        }
    )
    config.write({"payment_method_ids": [Command.link(cls.wechat_pm.id)]})
    return cls.wechat_pm


class WeChatCase(WeChatFakeMixin, TransactionCase):
    pass


class WeChatHttpCase(WeChatFakeMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fake_account.webhook_url = f"http://127.0.0.1:{cls.http_port()}/wechat/callback/{cls.account.id}"
        cls.sim = cls.fake.simulator(cls.appid)


# ---------------------------------------------------------------- POS


class WeChatManagerMixin:
    """The test user (a fresh accountant) also manages WeChat, before the fake mixin creates the account."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.groups_id += cls.env.ref("wechat_member.group_wechat_manager")


class PoSCommonWeChat(WeChatManagerMixin, TestPoSCommon):
    pass


class PoSHttpCommonWeChat(WeChatManagerMixin, TestPointOfSaleHttpCommon):
    pass


class PosWeChatPayTourCommon(WeChatFakeMixin, PoSHttpCommonWeChat):
    """The tours' POS (``main_pos_config``) with a WeChat Pay method of the fake's account; the tours
    validate the order themselves, after checking the payment line."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.main_pos_config.company_id
        if cls.account.company_id != company:
            cls.account.company_id = company
        cls.wechat_pm = cls.env["pos.payment.method"].create(
            {
                "name": "WeChat Pay",
                "journal_id": cls.bank_journal.id,
                "payment_method_type": "terminal",
                "use_payment_terminal": "wechat_pay",
                "wechat_account_id": cls.account.id,
                "company_id": company.id,
            }
        )
        cls.main_pos_config.write({"payment_method_ids": [Command.link(cls.wechat_pm.id)]})
        cls.main_pos_config.auto_validate_terminal_payment = False

    def setUp(self):
        super().setUp()
        self.fake.clear_logs()

    def _orders(self):
        return self.env["pos.order"].search([("config_id", "=", self.main_pos_config.id)], order="id")


def setup_wechat_pos(cls):
    """The basic POS of ``TestPoSCommon`` on the fake's WeChat account (same company), with the WeChat Pay
    method and a 100.00 product ``cls.tea``."""
    cls.config = cls.basic_config
    cls.company = cls.config.company_id
    if cls.account.company_id != cls.company:
        cls.account.company_id = cls.company
    cls.config.wechat_account_id = cls.account
    add_wechat_pay_method(cls, cls.config)
    cls.tea = cls.create_product("Tea", cls.categ_basic, 100.0)


OPENID_A = "oMEMBER000000000000000000A01"
OPENID_B = "oMEMBER000000000000000000B02"


class PosMemberCommon(WeChatFakeMixin, PoSCommonWeChat):
    """The POS, its WeChat Pay method, a cashier and two contacts with a member code (no tests here)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        setup_wechat_pos(cls)
        cls.cashier = new_test_user(
            cls.env,
            login="wm_pos_cashier",
            groups="base.group_user,point_of_sale.group_pos_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        Partner = cls.env["res.partner"]
        cls.lily = Partner.create({"name": "Lily Chen", "phone": "13800138000", "company_id": cls.company.id})
        cls.lily.wechat_member_code = "WM90000001"
        cls.other_company = cls.env["res.company"].create({"name": "Other Shop Co (members)"})
        cls.stranger = Partner.create(
            {"name": "Other Shop Member", "phone": "13700137000", "company_id": cls.other_company.id}
        )
        cls.stranger.wechat_member_code = "WM90000009"

    def setUp(self):
        super().setUp()
        self.Partner = self.env["res.partner"].with_user(self.cashier)

    # ------------------------------------------------------------------ helpers
    def _find(self, query):
        return self.Partner.wechat_pos_find_member(self.config.id, query)["res.partner"]

    def _sync(self, data):
        result = self.env["pos.order"].sync_from_ui([data])
        return self.env["pos.order"].browse(result["pos.order"][0]["id"]), result

    def _order(self, customer=False, qty=1):
        return self._sync(self.create_ui_order_data([(self.tea, qty)], customer=customer))[0]

    def _member(self, openid, partner=None, state="follower"):
        member, _created = self.env["wechat.member"]._get_or_create(self.account, openid, state=state, partner=partner)
        return member

    def _pay_with_wechat(self, customer, openid, amount=100.0):
        order_uuid = str(uuid.uuid4())
        data = self.create_ui_order_data(
            [(self.tea, 1)], customer=customer, uuid=order_uuid, payments=[(self.wechat_pm, amount)]
        )
        line = {"order_uuid": order_uuid, "payment_uuid": str(uuid.uuid4())}
        code = self.fake.pay_script(self.fake.auth_code(), "SUCCESS", openid=openid, is_subscribe="N")
        res = self.wechat_pm.wechat_pay_charge(
            dict(line, auth_code=code, amount=amount, currency=self.config.currency_id.name)
        )
        self.assertEqual(res["status"], "done", res)
        data["payment_ids"][0][2].update(uuid=line["payment_uuid"], transaction_id=res["transaction_id"])
        return self._sync(data)[0]


@contextlib.contextmanager
def separate_env(registry):
    """An environment on a connection of its own that commits, as another worker would have.

    The test thread holds ``Registry._lock``: give the cursor its
    transaction from the existing registry instead of looking it up.
    """
    with sql_db.db_connect(registry.db_name).cursor() as cr:
        cr.transaction = api.Transaction(registry)
        yield api.Environment(cr, api.SUPERUSER_ID, {})


class ChineseTranslationMixin:
    """One test: every term Odoo would export for ``module`` has a zh_CN translation.

    Each module's ``test_i18n`` is ``class TestChinese(ChineseTranslationMixin, TransactionCase)`` with
    its ``module`` (a mixin, so that Odoo does not collect it here).
    """

    module = None

    def test_every_term_has_a_chinese_translation(self):
        missing = untranslated_terms(self.env, self.module)
        self.assertFalse(missing, f"{len(missing)} terms without zh_CN translation, e.g. {missing[:8]}")


def untranslated_terms(env, module, lang="zh_CN"):
    """Terms Odoo would export for ``module`` that its i18n/<lang>.po does not translate."""
    import polib

    from odoo.modules.module import get_module_path
    from odoo.tools.translate import TranslationModuleReader

    po = polib.pofile(os.path.join(get_module_path(module), "i18n", f"{lang}.po"))
    translated = {e.msgid for e in po if e.msgstr.strip() and not e.obsolete}
    reader = TranslationModuleReader(env.cr, modules=[module])
    return sorted(
        {source for mod, __, __, __, source, __, __ in reader if mod == module and source and source not in translated}
    )


def visible_wechat_menus(env, user):
    """XML ids of the menus ``user`` sees under WeChat Marketing: visible themselves and through all their parents."""
    visible_ids = env["ir.ui.menu"].with_user(user)._visible_menu_ids()
    root = env.ref("wechat_member.menu_wechat_root")
    seen = set()
    for menu in env["ir.ui.menu"].browse(visible_ids):
        ancestors = [int(i) for i in menu.parent_path.strip("/").split("/")]
        if ancestors[0] == root.id and all(i in visible_ids for i in ancestors):
            seen.add(menu.get_external_id()[menu.id])
    return seen


def v3_credentials(fake, mchid, appid=None, partner=False):
    """The ``wechat.account`` values of ``mchid``'s APIv3 credentials registered on ``fake``."""
    private_key, serial_no, apiv3_key = fake.pay_v3_merchant(mchid, appid=appid, partner=partner)
    public_key, public_key_id = fake.pay_v3_public_key()
    return {
        "pay_v3_serial_no": serial_no,
        "pay_v3_private_key": private_key,
        "pay_v3_api_key": apiv3_key,
        "pay_v3_verify_mode": "public_key",
        "pay_v3_public_key": public_key,
        "pay_v3_public_key_id": public_key_id,
    }
