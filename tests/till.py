"""What a till sends for the black-box scenarios at the till (the ``shop`` fixture of conftest.py)."""

import time


def till_order(shop, order_uuid, sequence, amount, payment_uuid, transaction_id, refunded_line_id=False):
    """The order data the till syncs: one line of ``amount`` (negative: a refund of ``refunded_line_id``)."""
    qty = -1 if refunded_line_id else 1
    line = {
        "product_id": shop["product_id"],
        "qty": qty,
        "price_unit": abs(amount),
        "price_subtotal": amount,
        "price_subtotal_incl": amount,
        "discount": 0,
        "tax_ids": [[6, 0, []]],
        "pack_lot_ids": [],
    }
    if refunded_line_id:
        line["refunded_orderline_id"] = refunded_line_id
    payment = {
        "payment_method_id": shop["pm_id"],
        "amount": amount,
        "uuid": payment_uuid,
        "transaction_id": transaction_id,
        "payment_status": "done",
    }
    return {
        "uuid": order_uuid,
        "session_id": shop["session_id"],
        "user_id": shop["cashier"].uid,
        "sequence_number": sequence,
        "name": f"Order {order_uuid[:8]}",
        "partner_id": False,
        "lines": [[0, 0, line]],
        "payment_ids": [[0, 0, payment]],
        "amount_total": amount,
        "amount_tax": 0,
        "amount_paid": amount,
        "amount_return": 0,
        "state": "paid",
        "to_invoice": False,
        "date_order": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
    }
