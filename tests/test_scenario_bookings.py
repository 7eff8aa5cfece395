"""Black-box: a member books a pick-up in WeChat's browser, pays it (WeChat's notification reaches Odoo's
notify URL, replayed and forged too), a second member finds the last place taken, and the cashier hands the
booking over at the till."""

import re
import time

import requests


def member_session(fake_wechat, appid, openid):
    """A browser of ``openid`` in WeChat: the fake signs it in through OAuth."""
    fake_wechat.set_browser_user(appid, openid)
    return requests.Session()


def book(odoo, session, account_id, product_tmpl_id, config_id):
    page = session.get(f"{odoo.url}/wechat/book/{account_id}/{product_tmpl_id}", params={"lang": "en"}, timeout=15)
    assert page.status_code == 200, page.text[:500]
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    slot = re.search(r'name="slot"[^>]*value="([^"]+)"', page.text).group(1)
    return session.post(
        f"{odoo.url}/wechat/book/{account_id}/{product_tmpl_id}",
        data={"csrf_token": csrf, "store": config_id, "slot": slot, "qty": "1"},
        timeout=15,
        allow_redirects=False,
    ), slot


def rpc(session, url):
    resp = session.post(url, json={"jsonrpc": "2.0", "method": "call", "params": {}}, timeout=15)
    return resp.json()["result"]


def test_member_books_pays_and_collects(odoo, shop, fake_wechat):
    account_id, acc, config_id = shop["account_id"], shop["acc"], shop["config_id"]
    odoo.call("pos.config", "write", [config_id], {"wechat_open_time": 0.0, "wechat_close_time": 0.0})
    product_id = odoo.call(
        "product.product",
        "create",
        {
            "name": f"Mooncake box {acc.appid}",
            "list_price": 88.0,
            "available_in_pos": True,
            "taxes_id": [[6, 0, []]],
            "wechat_orderable": True,
            "wechat_booking_kind": "pickup",
            "wechat_slot_capacity": 1,
        },
    )
    [product] = odoo.search_read("product.product", [("id", "=", product_id)], ["product_tmpl_id"])
    tmpl_id = product["product_tmpl_id"][0]

    fake_wechat.set_pay_notify_delays(delays=[0.2, 0.2, 0.2])
    lily = member_session(fake_wechat, acc.appid, acc.add_follower())
    booked, slot = book(odoo, lily, account_id, tmpl_id, config_id)
    assert booked.status_code == 303, booked.text[:500]
    booking_url = booked.headers["Location"]
    booking_id = int(booking_url.rstrip("/").rsplit("/", 1)[1])
    params = rpc(lily, f"{odoo.url}/wechat/booking/{account_id}/{booking_id}/pay")
    assert params.get("paySign") and params["package"].startswith("prepay_id="), params
    [booking] = odoo.search_read("wechat.preorder", [("id", "=", booking_id)], ["transaction_id", "state"])
    assert booking["state"] == "pending"
    [txn] = odoo.search_read("wechat.pay.transaction", [("id", "=", booking["transaction_id"][0])], ["out_trade_no"])
    no = txn["out_trade_no"]

    fake_wechat.pay_jsapi(no)  # the member confirms in WeChat; WeChat notifies Odoo
    deadline = time.time() + 30
    while time.time() < deadline and not any(n["acknowledged"] for n in fake_wechat.pay_notifications):
        time.sleep(0.2)
    assert rpc(lily, f"{odoo.url}/wechat/booking/{account_id}/{booking_id}/status") == {"state": "confirmed"}
    assert fake_wechat.pay_notify(no, mode="duplicate")["acknowledged"], "a replay is answered SUCCESS"
    assert not fake_wechat.pay_notify(no, mode="bad_sign")["acknowledged"], "a forged one is refused"
    booking_page = lily.get(f"{odoo.url}/wechat/booking/{account_id}/{booking_id}", timeout=15).text
    assert 'id="wm-booking-qr"' in booking_page

    # A store that takes no bookings (a tampered form) is refused, not replaced by another one.
    form = lily.get(f"{odoo.url}/wechat/book/{account_id}/{tmpl_id}", params={"lang": "en"}, timeout=15)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    tampered = lily.post(
        f"{odoo.url}/wechat/book/{account_id}/{tmpl_id}",
        data={"csrf_token": csrf, "store": "999999", "slot": slot, "qty": "1"},
        timeout=15,
        allow_redirects=False,
    )
    assert tampered.status_code == 400 and "does not take bookings" in tampered.text
    # Someone else wants the last place of that day: fully booked.
    other = member_session(fake_wechat, acc.appid, acc.add_follower())
    page = other.get(f"{odoo.url}/wechat/book/{account_id}/{tmpl_id}", params={"lang": "en"}, timeout=15)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    refused = other.post(
        f"{odoo.url}/wechat/book/{account_id}/{tmpl_id}",
        data={"csrf_token": csrf, "store": config_id, "slot": slot, "qty": "1"},
        timeout=15,
        allow_redirects=False,
    )
    assert refused.status_code == 400 and "fully booked" in refused.text
    # Nor may the other member see Lily's booking.
    assert other.get(f"{odoo.url}/wechat/booking/{account_id}/{booking_id}", timeout=15).status_code == 404

    cashier = shop["cashier"]
    odoo.call("pos.session", "write", [shop["session_id"]], {"state": "opened"})  # the register is opened
    listed = cashier.call("wechat.preorder", "pos_to_collect", config_id, "")
    assert booking_id in [row["id"] for row in listed]
    code = re.search(r'class="wm-code">([A-Z0-9]+)<', booking_page).group(1)  # under the QR on Lily's phone
    done = cashier.call("wechat.preorder", "pos_collect", shop["session_id"], booking_id, code)
    assert done["state"] == "collected"
    [booking] = odoo.search_read("wechat.preorder", [("id", "=", booking_id)], ["pos_order_id"])
    [order] = odoo.search_read("pos.order", [("id", "=", booking["pos_order_id"][0])], ["state", "amount_total"])
    assert (order["state"], order["amount_total"]) == ("paid", 88.0)
    assert fake_wechat.violations == []
