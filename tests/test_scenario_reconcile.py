"""Black-box: a day of WeChat Pay at the till, then the day-end reconciliation (./run test serves Odoo).

50 charges are paid through the POS RPCs a cashier's till makes (``wechat_pay_charge``,
then ``sync_from_ui``), over HTTP against the fake platform, and 10 of them are
refunded through Odoo's refund flow (``wechat_pay_refund``, its status, then the
refund order synced); the manager's
"Reconcile" (the wizard of the payment method, over RPC) downloads the fake's
trade bill of the day (``pay/downloadbill``, built from its own ledger) and
reports 0 mismatches; with one payment left out of the bill it reports exactly one.
"""

import datetime
import uuid

from till import till_order

CHARGES = 50
REFUNDS = 10


def beijing_today():
    return (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=8)).date()


def pay_at_till(shop, fake_wechat, amount, sequence):
    """What the till does for one sale paid with WeChat Pay: charge the payment code, then sync the order."""
    line = {"order_uuid": str(uuid.uuid4()), "payment_uuid": str(uuid.uuid4())}
    code = fake_wechat.pay_script(fake_wechat.auth_code(), "SUCCESS")
    res = shop["cashier"].call(
        "pos.payment.method",
        "wechat_pay_charge",
        [shop["pm_id"]],
        dict(line, auth_code=code, amount=amount, currency="CNY"),
    )
    assert res["status"] == "done", res
    order = till_order(shop, line["order_uuid"], sequence, amount, line["payment_uuid"], res["transaction_id"])
    result = shop["cashier"].call("pos.order", "sync_from_ui", [order])
    return {"order_id": result["pos.order"][0]["id"], "out_trade_no": res["out_trade_no"], "amount": amount, **res}


def refund_at_till(shop, sale, sequence):
    """Odoo's refund flow at the till, paid back with WeChat Pay: the refund sent (status asked while WeChat
    processes it), then the refund order synced."""
    cashier = shop["cashier"]
    [paid_line] = cashier.search_read("pos.order.line", [("order_id", "=", sale["order_id"])], ["id"])
    line = {"order_uuid": str(uuid.uuid4()), "payment_uuid": str(uuid.uuid4())}
    request = dict(line, amount=-sale["amount"], currency="CNY", refunded_orderline_ids=[paid_line["id"]])
    res = cashier.call("pos.payment.method", "wechat_pay_refund", [shop["pm_id"]], request)
    for __ in range(5):
        if res["status"] != "processing":
            break
        res = cashier.call("pos.payment.method", "wechat_pay_refund_status", [shop["pm_id"]], request)
    assert res["status"] == "done", res
    order = till_order(
        shop, line["order_uuid"], sequence, -sale["amount"], line["payment_uuid"], False, paid_line["id"]
    )
    result = cashier.call("pos.order", "sync_from_ui", [order])
    [refund] = cashier.search_read("pos.order", [("id", "=", result["pos.order"][0]["id"])], ["state"])
    assert refund["state"] == "paid", refund
    return refund


def reconcile(odoo, pm_id, day):
    """The manager's button: the wizard of the payment method, for ``day``; the reconciliation read back."""
    action = odoo.call("pos.payment.method", "action_wechat_pay_reconcile", [pm_id])
    wizard_id = odoo.call(
        "wechat.pay.reconcile.wizard",
        "create",
        {"payment_method_id": action["context"]["default_payment_method_id"], "bill_date": day.isoformat()},
    )
    result = odoo.call("wechat.pay.reconcile.wizard", "action_reconcile", [wizard_id])
    [rec] = odoo.search_read(
        "wechat.pay.reconciliation",
        [("id", "=", result["res_id"])],
        [
            "state",
            "mismatch_count",
            "odoo_count",
            "wechat_count",
            "odoo_amount",
            "wechat_amount",
            "odoo_refund_count",
            "wechat_refund_count",
            "odoo_refund_amount",
            "wechat_refund_amount",
            "line_ids",
        ],
    )
    return rec


def test_day_of_charges_reconciles(odoo, shop, fake_wechat):
    day = beijing_today()
    sales = [pay_at_till(shop, fake_wechat, 10.0 + i, i + 1) for i in range(CHARGES)]
    total = sum(10.0 + i for i in range(CHARGES))
    # 10 of them refunded through Odoo's refund flow at the till, paid back with WeChat Pay.
    for i in range(REFUNDS):
        refund_at_till(shop, sales[i], CHARGES + i + 1)
    refunded = sum(sale["amount"] for sale in sales[:REFUNDS])
    assert len(fake_wechat.calls_to("/pay/micropay")) == CHARGES
    assert len(fake_wechat.calls_to("/secapi/pay/refund")) == REFUNDS
    # The bill of today exists tomorrow morning (10:30 Beijing): the fake's clock goes there.
    fake_wechat.advance_to_bill(day)

    rec = reconcile(odoo, shop["pm_id"], day)
    assert rec["state"] == "matched", rec
    assert rec["mismatch_count"] == 0
    assert rec["odoo_count"] == rec["wechat_count"] == CHARGES
    assert rec["odoo_amount"] == rec["wechat_amount"] == total
    assert rec["odoo_refund_count"] == rec["wechat_refund_count"] == REFUNDS
    assert rec["odoo_refund_amount"] == rec["wechat_refund_amount"] == refunded

    # One payment is not in WeChat's bill: exactly one mismatch, with its order and WeChat transaction id.
    dropped = sales[17]
    fake_wechat.pay_bill_omit(dropped["out_trade_no"])
    rec = reconcile(odoo, shop["pm_id"], day)
    assert rec["state"] == "mismatch"
    assert rec["mismatch_count"] == 1
    [line] = odoo.search_read(
        "wechat.pay.reconciliation.line",
        [("id", "in", rec["line_ids"])],
        ["kind", "pos_order_id", "wechat_transaction_id", "odoo_amount", "wechat_amount"],
    )
    assert line["kind"] == "missing_wechat"
    assert line["pos_order_id"][0] == dropped["order_id"]
    assert line["wechat_transaction_id"] == dropped["transaction_id"]
    assert line["odoo_amount"] == 27.0 and line["wechat_amount"] == 0.0
    activities = odoo.search_read(
        "mail.activity", [("res_model", "=", "wechat.pay.reconciliation"), ("res_id", "=", rec["id"])], ["summary"]
    )
    assert len(activities) == 1
    # The cashier sees no reconciliation.
    assert not shop["cashier"].call("ir.ui.menu", "search_read", [("name", "=", "Day-End Reconciliations")], ["id"])
    fake_wechat.assert_no_violations()
