"""Black-box: trust at the till (./run test serves Odoo; JSON-RPC as admin and as a cashier).

A cashier's RPCs cannot forge WeChat identities or payments, and an old
screenshot of the dynamic member code is refused at the till while the code
the member page shows now is accepted (through the method the POS calls).
"""

import hashlib
import hmac
import re
import time
import uuid

import pytest
from odoo_client import OdooError
from till import till_order


def _charge(shop, fake_wechat, openid, amount):
    line = {"order_uuid": str(uuid.uuid4()), "payment_uuid": str(uuid.uuid4())}
    code = fake_wechat.pay_script(fake_wechat.auth_code(), "SUCCESS", openid=openid, is_subscribe="Y")
    res = shop["cashier"].call(
        "pos.payment.method",
        "wechat_pay_charge",
        [shop["pm_id"]],
        dict(line, auth_code=code, amount=amount, currency="CNY"),
    )
    assert res["status"] == "done", res
    return line, res


def _sync_paid_order(shop, line, res, amount):
    order = till_order(shop, line["order_uuid"], 1, amount, line["payment_uuid"], res["transaction_id"])
    result = shop["cashier"].call("pos.order", "sync_from_ui", [order])
    return result["pos.order"][0]["id"]


def test_cashier_cannot_forge_members_or_payments(odoo, shop, fake_wechat):
    cashier = shop["cashier"]
    victim = odoo.call("res.partner", "create", {"name": "Someone else", "company_id": shop["company_id"]})
    with pytest.raises(OdooError):
        cashier.call(
            "wechat.member",
            "create",
            {"account_id": shop["account_id"], "openid": "oCHOSEN0000000000000000000001", "partner_id": victim},
        )
    assert not odoo.search_read("wechat.member", [("openid", "=", "oCHOSEN0000000000000000000001")], ["id"])

    openid = shop["acc"].add_nonfollower()
    line, res = _charge(shop, fake_wechat, openid, 30.0)
    [txn] = odoo.search_read(
        "wechat.pay.transaction", [("payment_uuid", "=", line["payment_uuid"])], ["id", "state", "openid"]
    )
    with pytest.raises(OdooError):
        cashier.call("wechat.pay.transaction", "write", [txn["id"]], {"openid": "oFORGED", "state": "cancelled"})
    assert odoo.search_read("wechat.pay.transaction", [("id", "=", txn["id"])], ["state", "openid"])[0] == {
        "id": txn["id"],
        "state": txn["state"],
        "openid": txn["openid"],
    }

    order_id = _sync_paid_order(shop, line, res, 30.0)
    [order] = odoo.search_read("pos.order", [("id", "=", order_id)], ["state"])
    assert order["state"] in ("paid", "done", "invoiced")
    try:
        answer = cashier.call("pos.payment.method", "wechat_pay_cancel", [shop["pm_id"]], dict(line, force=True))
    except OdooError:
        answer = {"cancelled": False}
    assert not answer.get("cancelled"), answer
    assert odoo.search_read("wechat.pay.transaction", [("id", "=", txn["id"])], ["state"])[0]["state"] == "done"


def _dynamic_code(secret, member_id, at):
    slot = int(at // 60)
    message = repr(("wechat-member-dynamic-code", f"{member_id}:{slot}"))
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return f"WD{int(digest[:15], 16) % 10**8:08d}{slot % 10000:04d}{member_id}"


def test_old_screenshot_refused_fresh_code_accepted(odoo, shop):
    openid = shop["acc"].add_nonfollower()
    assert shop["sim"].follow(openid=openid).ok
    page = shop["sim"].oauth(openid, f"{odoo.url}/wechat/member/{shop['account_id']}?lang=en")
    assert page.status_code == 200
    fresh = re.search(r'id="wm-dynamic-code" data-code="(WD\d+)"', page.text).group(1)
    [member] = odoo.search_read(
        "wechat.member", [("account_id", "=", shop["account_id"]), ("openid", "=", openid)], ["id", "partner_id"]
    )
    assert fresh.endswith(str(member["id"]))

    cashier = shop["cashier"]
    found = cashier.call("res.partner", "wechat_pos_find_member", shop["config_id"], fresh)
    assert [p["id"] for p in found["res.partner"]] == [member["partner_id"][0]]
    assert found["wechat_bind_method"] == "dynamic_code"

    # A screenshot of 5 minutes ago (the same signature the page showed then).
    secret = odoo.call("ir.config_parameter", "get_param", "database.secret")
    old = _dynamic_code(secret, member["id"], time.time() - 300)
    refused = cashier.call("res.partner", "wechat_pos_find_member", shop["config_id"], old)
    assert refused["res.partner"] == []
    assert refused["wechat_error"] == ("This member code has expired: ask the customer to refresh their member page.")
