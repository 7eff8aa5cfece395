"""The test command's own guarantees (a skipped tour is a failure) and the demo's sandbox connection."""

import os
import subprocess
import sys
import uuid
import xmlrpc.client
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import harness  # noqa: E402

SAMPLE = """\
2026-01-01 10:00:00,000 1 INFO db odoo.addons.x.tests.test_t: skipped T.test_tour : Chrome executable not found
2026-01-01 10:00:01,000 1 INFO db odoo.tests.result: 0 failed, 0 error(s) of 3 tests when loading database 'db'
"""


def test_skip_counts_as_failure_on_a_sample():
    verdict = harness.analyze_odoo_log(SAMPLE)
    assert verdict["tests"] == 3
    assert verdict["skipped"] == ["T.test_tour: Chrome executable not found"]
    assert verdict["passed"] == 2
    assert verdict["bad"] == 1


def test_demo_data_failure_counts():
    log = (
        "2026-01-01 10:00:00,000 1 WARNING db odoo.modules.loading: "
        "Module wechat_member demo data failed to install, installed without demo data\n"
    )
    assert harness.analyze_odoo_log(log)["bad"] == 1


@pytest.mark.skipif(not os.environ.get("WM_ODOO_DB"), reason="needs the database of ./run test")
def test_real_tour_without_chromium_is_a_failure(tmp_path):
    """Run a real tour with Chromium hidden: Odoo says "0 failed", the harness says failed."""
    env = dict(os.environ, PATH=str(Path(os.environ["WM_PYTHON"]).parent))  # no chromium on PATH
    cmd = [
        os.environ["WM_PYTHON"],
        str(Path(os.environ["WM_ODOO_ROOT"]) / "odoo-bin"),
        "--addons-path",
        os.environ["WM_ODOO_ADDONS"],
        "-d",
        os.environ["WM_ODOO_DB"],
        "--db_host",
        os.environ["PGHOST"],
        "--db_port",
        os.environ["PGPORT"],
        "--db_user",
        os.environ["PGUSER"],
        "--test-enable",
        "--test-tags",
        "/wechat_member:TestMemberPage.test_member_page_tour_on_a_phone",
        "--stop-after-init",
        "--http-port",
        str(harness.free_port()),
        "--workers",
        "0",
        "--max-cron-threads",
        "0",
        "--log-level",
        "info",
    ]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=False)
    log = out.stdout + out.stderr
    assert "0 failed, 0 error(s) of 1 tests" in log, log[-3000:]  # Odoo alone would call this green
    verdict = harness.analyze_odoo_log(log)
    assert verdict["skipped"], log[-3000:]
    assert verdict["bad"] == 1 and verdict["passed"] == 0


def test_demo_database_updated_when_the_modules_change(tmp_path, monkeypatch):
    """``./run demo`` reuses its database only while the add-ons' files are the ones it was made with."""
    for module in harness.MODULES:
        (tmp_path / module / "models").mkdir(parents=True)
        (tmp_path / module / "models" / "a.py").write_text("x = 1\n")
    monkeypatch.setattr(harness, "ROOT", tmp_path)
    first = harness.modules_digest()
    assert harness.modules_digest() == first
    (tmp_path / harness.MODULES[0] / "__pycache__").mkdir()
    (tmp_path / harness.MODULES[0] / "__pycache__" / "a.pyc").write_bytes(b"\0")
    assert harness.modules_digest() == first, "compiled files do not count"
    (tmp_path / harness.MODULES[-1] / "models" / "a.py").write_text("x = 2\n")
    assert harness.modules_digest() != first, "a changed file makes the demo update its database"


def _xmlid(odoo, xmlid):
    module, name = xmlid.split(".")
    return odoo.search_read("ir.model.data", [("module", "=", module), ("name", "=", name)], ["res_id"])[0]["res_id"]


def test_demo_connects_sandbox_accounts_to_the_fake(odoo, fake_wechat):
    """``./run demo``: the sandbox accounts point at the fake, which knows their secrets and templates."""
    appid = "wx" + uuid.uuid4().hex[:16]
    account_id = odoo.call(
        "wechat.account",
        "create",
        {
            "name": f"Demo {appid}",
            "appid": appid,
            "appsecret": "demo-secret",
            "callback_token": "cbtoken",
            "sandbox": True,
            "sandbox_url": "http://127.0.0.1:1",
            "timeout": 5,
        },
    )
    odoo.call(
        "wechat.notice.template",
        "create",
        {
            "account_id": account_id,
            "kind_id": _xmlid(odoo, "wechat_member.notice_kind_pos_thanks"),
            "channel": "template",
            "template_id": f"tpl_{appid}",
            "line_ids": [
                (0, 0, {"sequence": 2, "keyword": "amount2", "value_key": "amount"}),
                (0, 0, {"sequence": 1, "keyword": "thing1", "value_key": "store"}),
            ],
        },
    )
    base_url = odoo.call("ir.config_parameter", "get_param", "web.base.url")
    result = harness.connect_sandbox_accounts(
        odoo.url, fake_wechat.url, db=odoo.db, domain=[("sandbox", "=", True), ("appid", "=", appid)]
    )
    assert result == [{"name": f"Demo {appid}", "appid": appid, "webhook": f"{odoo.url}/wechat/callback/{account_id}"}]
    assert odoo.call("ir.config_parameter", "get_param", "web.base.url") == base_url == odoo.url
    [account] = odoo.search_read("wechat.account", [("id", "=", account_id)], ["sandbox_url"])
    assert account["sandbox_url"] == fake_wechat.url
    registered = fake_wechat.accounts[appid]
    assert (registered.webhook_url, registered.token, registered.secret) == (
        result[0]["webhook"],
        "cbtoken",
        "demo-secret",
    )
    template = registered.templates[f"tpl_{appid}"]
    assert template["keywords"] == ["thing1", "amount2"]
    assert (
        template["title"]
        == odoo.search_read(
            "wechat.notice.kind", [("id", "=", _xmlid(odoo, "wechat_member.notice_kind_pos_thanks"))], ["name"]
        )[0]["name"]
    )


def test_only_an_administrator_connects_the_sandbox(odoo, fake_wechat):
    login = "cashier_" + uuid.uuid4().hex[:8]
    odoo.call(
        "res.users",
        "create",
        {
            "name": login,
            "login": login,
            "password": login,
            "groups_id": [(6, 0, [_xmlid(odoo, "wechat_member.group_wechat_cashier")])],
        },
    )
    with pytest.raises(xmlrpc.client.Fault):
        harness.connect_sandbox_accounts(odoo.url, fake_wechat.url, db=odoo.db, login=login, password=login)
