import threading
from unittest.mock import patch

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.wechat_member.tools.wechat_api import NETWORK_ERROR, WeChatError

from .common import WeChatCase, separate_env


@tagged("post_install", "-at_install")
class TestWeChatAccount(WeChatCase):
    def test_token_fetched_once_and_stored(self):
        before = len(self.calls_to("/cgi-bin/stable_token"))
        token = self.account._get_access_token()
        self.assertTrue(token)
        self.assertEqual(self.account.sudo().access_token, token)
        self.assertEqual(self.account._get_access_token(), token)
        self.assertEqual(len(self.calls_to("/cgi-bin/stable_token")), before + 1, "the stored token is reused")
        self.assertFalse(self.calls_to("/cgi-bin/token"), "the unlimited-refresh endpoint is never used")

    def test_api_call_through_fake(self):
        openid = self.fake_account.add_follower()
        info = self.account._api().user_info(openid)
        self.assertEqual(info["openid"], openid)
        call = self.calls_to("/cgi-bin/user/info")[-1]
        self.assertEqual(call["errcode"], 0)

    def test_token_rejected_refresh_once_retry_once(self):
        openid = self.fake_account.add_follower()
        api_client = self.account._api()
        api_client.user_info(openid)
        stable_before = len(self.calls_to("/cgi-bin/stable_token"))
        self.fake.inject("/cgi-bin/user/info", errcode=40001, times=1)
        info = api_client.user_info(openid)
        self.assertEqual(info["openid"], openid)
        self.assertEqual(len(self.calls_to("/cgi-bin/stable_token")), stable_before + 1)
        # Twice rejected: refreshed once, retried once, then the error is raised (no loop).
        self.fake.inject("/cgi-bin/user/info", errcode=40001, times=5)
        calls_before = len(self.calls_to("/cgi-bin/user/info"))
        with self.assertRaises(WeChatError) as err:
            api_client.user_info(openid)
        self.assertEqual(err.exception.errcode, 40001)
        self.assertEqual(len(self.calls_to("/cgi-bin/user/info")), calls_before + 2)

    @mute_logger("odoo.addons.wechat_member.models.wechat_account")
    def test_wechat_down_during_refresh_leaves_no_partial_state(self):
        self.fake.inject("/cgi-bin/stable_token", errcode=-1, times=1)
        with self.assertRaises(WeChatError) as err:
            self.account._get_access_token()
        self.assertEqual(err.exception.errcode, -1)
        self.assertIn("busy", str(err.exception))
        self.assertFalse(self.account.sudo().access_token, "nothing stored from a failed refresh")
        self.assertTrue(self.account._get_access_token(), "the next call recovers")

    @mute_logger("odoo.addons.wechat_member.models.wechat_account")
    def test_network_faults_are_wechat_errors(self):
        self.account.timeout = 1
        self.fake.inject("/cgi-bin/stable_token", timeout=True, times=1)
        with self.assertRaises(WeChatError) as err:
            self.account._get_access_token()
        self.assertEqual(err.exception.errcode, NETWORK_ERROR)
        self.fake.inject("/cgi-bin/stable_token", reset=True, times=1)
        with self.assertRaises(WeChatError):
            self.account._get_access_token()
        self.assertTrue(self.account._get_access_token())

    def test_changing_credentials_drops_the_token(self):
        self.account._get_access_token()
        self.account.appsecret = "another-secret"
        self.assertFalse(self.account.sudo().access_token)

    def test_secrets_hidden_from_cashiers(self):
        cashier = new_test_user(self.env, "wm_cashier", groups="wechat_member.group_wechat_cashier")
        account = self.account.with_user(cashier)
        self.assertEqual(account.name, "Test Store Account")
        with self.assertRaises(AccessError):
            account.read(["appsecret"])
        with self.assertRaises(AccessError):
            account.read(["pay_api_key"])
        for field in ("appsecret", "callback_token", "encoding_aes_key", "pay_api_key", "access_token"):
            self.assertFalse(self.account._fields[field].exportable, field)

    def test_aes_key_checked(self):
        with self.assertRaises(ValidationError):
            self.account.write({"encrypt_mode": "safe", "encoding_aes_key": "short"})

    def test_menu_pushed_to_wechat(self):
        self.env["wechat.menu.button"].create(
            [
                {"account_id": self.account.id, "name": "积分", "key": "MY_POINTS", "button_type": "click"},
                {"account_id": self.account.id, "name": "会员", "button_type": "member_page"},
            ]
        )
        self.account.action_push_menu()
        menu = self.fake_account.menu
        self.assertEqual([b["name"] for b in menu["button"]], ["积分", "会员"])
        self.assertEqual(menu["button"][0]["key"], "MY_POINTS")
        self.assertTrue(menu["button"][1]["url"].endswith(f"/wechat/member/{self.account.id}"))


@tagged("post_install", "-at_install")
class TestTokenStampede(WeChatCase):
    """Workers on separate cursors asking for a token at once make one call to WeChat."""

    def test_parallel_workers_one_refresh(self):
        # The account must be committed to be seen by other connections.
        with separate_env(self.registry) as env:
            account = env["wechat.account"].create(
                {
                    "name": "Stampede",
                    "appid": "wxstampede00000001",
                    "appsecret": "test-secret-0001",
                    "sandbox": True,
                    "sandbox_url": self.fake.url,
                    "timeout": 5,
                }
            )
            account_id = account.id
        self.fake.add_account(appid="wxstampede00000001", secret="test-secret-0001", token="t")
        try:
            self.fake.inject("/cgi-bin/stable_token", latency=0.3, times=1)
            tokens, errors = [], []
            barrier = threading.Barrier(12)

            def worker():
                try:
                    with separate_env(self.registry) as env:
                        barrier.wait()
                        tokens.append(env["wechat.account"].browse(account_id)._get_access_token())
                except Exception as exc:  # noqa: BLE001 - collected and asserted below
                    errors.append(exc)

            threads = [threading.Thread(target=worker) for __ in range(12)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            self.assertFalse(errors)
            self.assertEqual(len(tokens), 12)
            self.assertEqual(len(set(tokens)), 1, "every worker got the same token")
            stable = [
                c for c in self.fake.calls if c["path"].endswith("/stable_token") and c["appid"] == "wxstampede00000001"
            ]
            self.assertEqual(len(stable), 1, "one call to WeChat for twelve workers")
        finally:
            with separate_env(self.registry) as env:
                env.cr.execute("DELETE FROM wechat_account WHERE id = %s", [account_id])


@tagged("post_install", "-at_install")
class TestSandboxConnection(WeChatCase):
    def test_refresh_inside_a_transaction_holding_the_account(self):
        """A caller that referenced or even updated the account row must not wait for ever on itself."""
        with separate_env(self.registry) as env:
            account_id = (
                env["wechat.account"]
                .create(
                    {
                        "name": "Busy",
                        "appid": "wxbusyrow000000001",
                        "appsecret": "test-secret-0001",
                        "sandbox": True,
                        "sandbox_url": self.fake.url,
                        "timeout": 5,
                    }
                )
                .id
            )
        self.fake.add_account(appid="wxbusyrow000000001", secret="test-secret-0001", token="t")
        try:
            with separate_env(self.registry) as env:
                account = env["wechat.account"].browse(account_id)
                env["wechat.tag"].create({"name": "ref", "account_id": account_id})  # KEY SHARE on the account
                env.flush_all()
                # Blocked, the refresh would time out on the lock (5 s) and retry in the caller's transaction.
                Account = type(account)
                tries = []
                refresh_stored = Account._refresh_stored

                def spy(record, *args, own):
                    tries.append(own)
                    return refresh_stored(record, *args, own=own)

                with patch.object(Account, "_refresh_stored", spy):
                    self.assertTrue(account._get_access_token())
                self.assertEqual(
                    tries, [True], "a key-share lock does not block the refresh: one try, on its own cursor"
                )
            with separate_env(self.registry) as env:  # the token has expired meanwhile
                env.cr.execute(
                    "UPDATE wechat_account SET token_expires_at = now() - interval '1 hour' WHERE id = %s", [account_id]
                )
            with separate_env(self.registry) as env:
                account = env["wechat.account"].browse(account_id)
                account.write({"name": "Busy (renamed)"})  # now the caller holds the row itself
                env.flush_all()
                with mute_logger("odoo.sql_db"):  # the lock timeout of the first try
                    self.assertTrue(account._get_access_token(), "refreshed in the caller's own transaction")
        finally:
            with separate_env(self.registry) as env:
                env.cr.execute("DELETE FROM wechat_tag WHERE account_id = %s", [account_id])
                env.cr.execute("DELETE FROM wechat_account WHERE id = %s", [account_id])

    def test_parallel_pages_one_ticket(self):
        """Member pages signed at once on separate cursors: one getticket (and one token) for all of them."""
        with separate_env(self.registry) as env:
            account = env["wechat.account"].create(
                {
                    "name": "Ticket stampede",
                    "appid": "wxstampede00000002",
                    "appsecret": "test-secret-0002",
                    "sandbox": True,
                    "sandbox_url": self.fake.url,
                    "timeout": 5,
                }
            )
            account_id = account.id
        fake_account = self.fake.add_account(appid="wxstampede00000002", secret="test-secret-0002", token="t")
        try:
            self.fake.inject("/cgi-bin/ticket/getticket", latency=0.3, times=1)
            configs, errors = [], []
            barrier = threading.Barrier(8)

            def worker():
                try:
                    with separate_env(self.registry) as env:
                        barrier.wait()
                        configs.append(env["wechat.account"].browse(account_id)._jsapi_config("http://shop.test/p"))
                except Exception as exc:  # noqa: BLE001 - collected and asserted below
                    errors.append(exc)

            threads = [threading.Thread(target=worker) for __ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            self.assertFalse(errors)
            self.assertEqual(len(configs), 8)
            self.assertEqual(fake_account.jsapi_ticket_calls, 1, "one ticket for eight pages")
            with separate_env(self.registry) as env:
                env.cr.execute("SELECT jsapi_ticket FROM wechat_account WHERE id = %s", [account_id])
                self.assertIn(env.cr.fetchone()[0], self.fake.jsapi_tickets, "kept in the database")
        finally:
            with separate_env(self.registry) as env:
                env.cr.execute("DELETE FROM wechat_account WHERE id = %s", [account_id])
