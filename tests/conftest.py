"""Top-level pytest configuration: loads the fake WeChat platform fixtures (fake_wechat,
fake_account, make_fake_wechat, make_webhook_receiver) of the installed ``fakewechat``
package, and adds the fixtures the fake's own tests share (``clock``, ``fake``,
``receiver``, ``acc``, ``token``, ``sim``) and the scenarios' (``odoo``, ``sandbox``)."""

import uuid

import pytest
from fakewechat import FakeClock
from fakewechat.testing import fetch_token
from odoo_client import from_env

pytest_plugins = ["fakewechat.pytest_plugin"]

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


# ---------------------------------------------------------------- the fake platform's own tests


@pytest.fixture
def clock():
    """The time of ``fake``: it moves only when the test says so (``clock.advance(s)``)."""
    return FakeClock()


@pytest.fixture
def fake(make_fake_wechat, clock):
    """A fake platform on ``clock``; its background deliveries (template, mass, subscribe results) come fast."""
    return make_fake_wechat(clock=clock, async_delay=0.01)


@pytest.fixture
def receiver(make_webhook_receiver):
    return make_webhook_receiver()


@pytest.fixture
def acc(fake, receiver):
    """The default account on ``fake``, its webhook on ``receiver``."""
    # Imported here: at the top, it would be imported before pytest registers (and rewrites) the plugin.
    from fakewechat.pytest_plugin import DEFAULT_ACCOUNT

    return fake.add_account(**dict(DEFAULT_ACCOUNT, webhook_url=receiver.url))


@pytest.fixture
def token(fake, acc):
    return fetch_token(fake, acc)


@pytest.fixture
def sim(fake, acc):
    return fake.simulator(acc.appid)


# ---------------------------------------------------------------- black-box scenarios


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
