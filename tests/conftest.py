"""Top-level pytest configuration: loads the fake WeChat platform fixtures (fake_wechat,
fake_account, make_fake_wechat, make_webhook_receiver) of the installed ``fakewechat``
package, and adds the fixtures the fake's own tests share (``clock``, ``fake``,
``receiver``, ``acc``, ``token``, ``sim``) and the scenarios' (``odoo``, ``sandbox``, ``shop``: a till
with WeChat Pay)."""

import uuid

import pytest
from fakewechat import FakeClock
from fakewechat.testing import fetch_token
from odoo_client import OdooClient, from_env

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

    def make(encrypt_mode="plain", merchant=None):
        """``merchant``: ``(mch_id, mch_key)`` of its WeChat Pay v2 merchant, on both sides."""
        appid = "wx" + uuid.uuid4().hex[:16]
        pay = {"pay_mch_id": merchant[0], "pay_api_key": merchant[1]} if merchant else {}
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
                **pay,
            },
        )
        acc = fake_wechat.add_account(
            appid=appid,
            secret="scenario-secret",
            token="scenariotoken",
            aes_key=AES_KEY,
            encrypt_mode=encrypt_mode,
            webhook_url=f"{odoo.url}/wechat/callback/{account_id}",
            **({"mch_id": merchant[0], "mch_key": merchant[1]} if merchant else {}),
        )
        return account_id, acc, fake_wechat.simulator(appid)

    return make


MCH_ID, MCH_KEY = "1900000109", "k" * 32


def xmlid(odoo, module, name):
    [row] = odoo.search_read("ir.model.data", [("module", "=", module), ("name", "=", name)], ["res_id"])
    return row["res_id"]


@pytest.fixture
def shop(odoo, sandbox):
    """A WeChat account with WeChat Pay (v2), a POS using it, an open session, a cashier (own client) and a
    product without taxes, for the black-box scenarios at the till."""
    account_id, acc, sim = sandbox(merchant=(MCH_ID, MCH_KEY))
    appid = acc.appid
    [company] = odoo.search_read("wechat.account", [("id", "=", account_id)], ["company_id"])
    company_id = company["company_id"][0]
    journal = odoo.search_read(
        "account.journal", [("type", "=", "bank"), ("company_id", "=", company_id)], ["id"], limit=1
    )
    pm_id = odoo.call(
        "pos.payment.method",
        "create",
        {
            "name": f"WeChat Pay {appid}",
            "use_payment_terminal": "wechat_pay",
            "payment_method_type": "terminal",
            "wechat_account_id": account_id,
            "journal_id": journal[0]["id"] if journal else False,
            "company_id": company_id,
        },
    )
    config_id = odoo.call(
        "pos.config",
        "create",
        {
            "name": f"Till {appid}",
            "wechat_account_id": account_id,
            "payment_method_ids": [[4, pm_id]],
            "company_id": company_id,
        },
    )
    login = f"cashier_{appid}"
    odoo.call(
        "res.users",
        "create",
        {
            "name": "Scenario Cashier",
            "login": login,
            "password": login,
            "company_id": company_id,
            "company_ids": [[6, 0, [company_id]]],
            "groups_id": [[6, 0, [xmlid(odoo, "base", "group_user"), xmlid(odoo, "point_of_sale", "group_pos_user")]]],
        },
    )
    cashier = OdooClient(odoo.url, odoo.db, login=login, password=login)
    session_id = odoo.call("pos.session", "create", {"config_id": config_id, "user_id": cashier.uid})
    product_id = odoo.call(
        "product.product",
        "create",
        {"name": f"Tea {appid}", "list_price": 10.0, "available_in_pos": True, "taxes_id": [[6, 0, []]]},
    )
    return {
        "product_id": product_id,
        "account_id": account_id,
        "acc": acc,
        "sim": sim,
        "pm_id": pm_id,
        "config_id": config_id,
        "session_id": session_id,
        "cashier": cashier,
        "company_id": company_id,
    }
