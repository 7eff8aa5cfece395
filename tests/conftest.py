"""Top-level pytest configuration: puts tests/ on sys.path and loads the fake
WeChat platform fixtures (fake_wechat, fake_account, make_fake_wechat,
make_webhook_receiver).  Add other fixtures below."""

import os
import sys

_TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

pytest_plugins = ["fakewechat.pytest_plugin"]

import uuid  # noqa: E402

import pytest  # noqa: E402
from odoo_client import from_env  # noqa: E402

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


@pytest.fixture(scope="session")
def odoo():
    """JSON-RPC client of the Odoo that ./run test serves (WM_ODOO_URL, WM_ODOO_DB)."""
    client = from_env()
    if client is None:
        pytest.fail("WM_ODOO_URL / WM_ODOO_DB are not set: run the black-box scenarios through ./run test")
    return client


@pytest.fixture
def sandbox(odoo, fake_wechat):
    """A sandbox wechat.account in Odoo and the same account on the fake platform, wired together."""

    def make(encrypt_mode="plain"):
        appid = "wx" + uuid.uuid4().hex[:16]
        account_id = odoo.call(
            "wechat.account",
            "create",
            {
                "name": f"Scenario {appid}",
                "appid": appid,
                "appsecret": "scenario-secret",
                "callback_token": "scenariotoken",
                "encoding_aes_key": AES_KEY,
                "encrypt_mode": encrypt_mode,
                "sandbox": True,
                "sandbox_url": fake_wechat.url,
                "timeout": 5,
            },
        )
        acc = fake_wechat.add_account(
            appid=appid,
            secret="scenario-secret",
            token="scenariotoken",
            aes_key=AES_KEY,
            encrypt_mode=encrypt_mode,
            webhook_url=f"{odoo.url}/wechat/callback/{account_id}",
        )
        return account_id, acc, fake_wechat.simulator(appid)

    return make
