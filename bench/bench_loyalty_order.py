"""POS loyalty order: a member with a level, a points card and a stamp card vs a plain pos_loyalty order.

Run with ``./run bench loyalty_order`` (Odoo served with --workers=2 on a database of its own).
Each order is what the POS calls for a paid order with loyalty points, over JSON-RPC, one call at a time:
``pos.order.sync_from_ui``, then ``confirm_coupon_programs`` (the points the POS computed) and
``add_loyalty_history_lines``:

- members: WeChat members (followers) with a member level (a ladder of their account: the level upgrade
  check runs in each sync), a card of a points program whose points the level multiplies, and a card of a
  stamp-card program (``wechat_stamp_card``);
- baseline: plain contacts with one card of a plain pos_loyalty points program, at a store of their own.

Both kinds run interleaved in batches against the same server, from as many clients as Odoo has workers;
the time of the members' orders is printed as a ratio to the baseline's (goal: at most 1.15x).
"""

import concurrent.futures
import os
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
sys.path.insert(0, HERE)

from bench_pos_sync import create_customers, order_data  # noqa: E402
from benchlib import interleaved  # noqa: E402
from odoo_client import OdooError, from_env  # noqa: E402

WORKERS = int(os.environ.get("WM_BENCH_WORKERS", "2"))
N = int(os.environ.get("WM_BENCH_ORDERS", "300"))
CUSTOMERS = int(os.environ.get("WM_BENCH_CUSTOMERS", "100"))
BATCH = int(os.environ.get("WM_BENCH_BATCH", "25"))
WARMUP = 20
PRICE = 10.0
MULTIPLIER = 1.5
GOAL = 1.15
RETRIES = 3
RETRIED = {"members": 0, "plain": 0}


def store(odoo, tag, kind, account_id=False):
    """A POS (config, cash method, open session) of its own: ``kind`` names it."""
    journal_id = odoo.call(
        "account.journal",
        "create",
        {"name": f"Bench Cash {kind} {tag}", "type": "cash", "code": f"{kind[0].upper()}{tag[:4].upper()}"},
    )
    method_id = odoo.call(
        "pos.payment.method", "create", {"name": f"Bench Cash {kind} {tag}", "journal_id": journal_id}
    )
    config_id = odoo.call(
        "pos.config",
        "create",
        {
            "name": f"Bench {kind} {tag}",
            "payment_method_ids": [(6, 0, [method_id])],
            "wechat_account_id": account_id,
        },
    )
    session_id = odoo.call("pos.session", "create", {"config_id": config_id, "user_id": odoo.uid})
    try:
        odoo.call("pos.session", "set_opening_control", [session_id], 0, "")
    except KeyError:  # the method returns None: Odoo's JSON-RPC answer then has no "result"
        pass
    config = odoo.search_read("pos.config", [("id", "=", config_id)], ["pricelist_id", "company_id"])[0]
    return {
        "config_id": config_id,
        "session_id": session_id,
        "method_id": method_id,
        "pricelist_id": config["pricelist_id"] and config["pricelist_id"][0],
        "company_id": config["company_id"][0],
    }


def points_program(odoo, name, config_id, mode="money", stamp_card=False, required=1000):
    return odoo.call(
        "loyalty.program",
        "create",
        {
            "name": name,
            "program_type": "loyalty",
            "applies_on": "both",
            "trigger": "auto",
            "pos_ok": True,
            "pos_config_ids": [(6, 0, [config_id])],
            "wechat_stamp_card": stamp_card,
            "rule_ids": [(0, 0, {"reward_point_mode": mode, "reward_point_amount": 1})],
            "reward_ids": [
                (
                    0,
                    0,
                    {
                        "reward_type": "discount",
                        "discount": 10,
                        "discount_mode": "per_order",
                        "required_points": required,
                    },
                )
            ],
        },
    )


def setup(odoo, tag):
    account_id = odoo.call(
        "wechat.account",
        "create",
        {"name": f"Bench levels {tag}", "appid": "wx" + uuid.uuid4().hex[:16], "appsecret": "s", "sandbox": True},
    )
    members_store = store(odoo, tag, "members", account_id)
    plain_store = store(odoo, tag, "plain")
    company_id = members_store["company_id"]
    product_id = odoo.call(
        "product.product",
        "create",
        {"name": f"Bench Coffee {tag}", "available_in_pos": True, "list_price": PRICE, "taxes_id": [(6, 0, [])]},
    )
    # The members' ladder (their account's): the entry level, and gold from the first purchase.
    odoo.call(
        "wechat.member.level",
        "create",
        [
            {"name": f"Bench entry {tag}", "company_id": company_id, "account_id": account_id, "threshold": 0},
            {
                "name": f"Bench gold {tag}",
                "company_id": company_id,
                "account_id": account_id,
                "threshold": 1,
                "points_multiplier": MULTIPLIER,
            },
        ],
    )
    points_id = points_program(odoo, f"Bench points {tag}", members_store["config_id"])
    stamps_id = points_program(odoo, f"Bench stamps {tag}", members_store["config_id"], "order", True, 10)
    plain_points_id = points_program(odoo, f"Bench plain points {tag}", plain_store["config_id"])
    members, plain = create_customers(odoo, account_id, company_id, f"L{tag}", CUSTOMERS)

    def cards(partners, program_id):
        ids = odoo.call(
            "loyalty.card",
            "create",
            [{"program_id": program_id, "partner_id": pid, "points": 0} for pid in partners],
        )
        return dict(zip(partners, ids, strict=True))

    members_store.update(
        product_id=product_id,
        customers=members,
        programs=[
            (points_id, cards(members, points_id), PRICE * MULTIPLIER),
            (stamps_id, cards(members, stamps_id), 1),
        ],
    )
    plain_store.update(
        product_id=product_id,
        customers=plain,
        programs=[(plain_points_id, cards(plain, plain_points_id), PRICE)],
    )
    return {"members": members_store, "plain": plain_store, "points_id": points_id, "stamps_id": stamps_id}


def one_order(odoo, ctx, kind, partner_id, seq):
    """The calls of the POS for one paid order with loyalty points (pos_loyalty's payment screen)."""
    shop = ctx[kind]
    data = order_data(shop, partner_id, odoo.uid, seq)
    for attempt in range(RETRIES + 1):
        try:
            result = odoo.call("pos.order", "sync_from_ui", [data])
            break
        except OdooError as exc:
            if "could not serialize" not in str(exc) or attempt == RETRIES:
                raise
            RETRIED[kind] += 1
    order = result["pos.order"][0]
    if order["state"] != "paid":
        raise RuntimeError(f"order not paid: {order}")
    coupon_data = {}
    history = []
    for program_id, cards, points in shop["programs"]:
        card_id = cards[partner_id]
        coupon_data[str(card_id)] = {"points": points, "program_id": program_id, "coupon_id": card_id, "barcode": False}
        history.append({"order_id": order["id"], "card_id": card_id, "spent": 0, "won": points, "total": points})
    payload = odoo.call("pos.order", "confirm_coupon_programs", [order["id"]], coupon_data)
    updates = [{"id": u["id"], "old_id": u["old_id"]} for u in payload["coupon_updates"]]
    try:
        odoo.call("pos.order", "add_loyalty_history_lines", [order["id"]], history, updates)
    except KeyError:  # returns None
        pass


def run_batch(odoo, pool, ctx, kind, start, count):
    customers = ctx[kind]["customers"]
    jobs = [(customers[(start + i) % len(customers)], start + i + 1) for i in range(count)]
    started = time.perf_counter()
    list(pool.map(lambda job: one_order(odoo, ctx, kind, *job), jobs))
    return time.perf_counter() - started


def main():
    odoo = from_env()
    if odoo is None:
        raise SystemExit("set WM_ODOO_URL and WM_ODOO_DB (./run bench loyalty_order does)")
    tag = uuid.uuid4().hex[:6]
    ctx = setup(odoo, tag)
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        times = interleaved(lambda kind, start, count: run_batch(odoo, pool, ctx, kind, start, count), N, BATCH, WARMUP)

    # The work was done: the members have their level, the points and stamps were credited.
    total = N + WARMUP
    levels = odoo.search_read(
        "wechat.member.level.member", [("partner_id", "in", ctx["members"]["customers"])], ["level_id"]
    )
    assert len(levels) == min(total, CUSTOMERS) and all(row["level_id"] for row in levels), len(levels)
    stamps = odoo.search_read("loyalty.card", [("program_id", "=", ctx["stamps_id"])], ["points"])
    assert sum(card["points"] for card in stamps) == total, sum(card["points"] for card in stamps)

    ratio = times["members"] / times["plain"]
    print(
        f"POS loyalty order benchmark: {N} orders each (sync_from_ui + confirm_coupon_programs + "
        f"add_loyalty_history_lines over JSON-RPC), {WORKERS} Odoo workers, {WORKERS} concurrent clients, "
        f"{CUSTOMERS} customers, batches of {BATCH}"
    )
    print(f"{'':52}{'orders/s':>10}{'ms/order':>10}{'vs baseline':>13}")
    for name, kind in (
        ("baseline: plain customer, one pos_loyalty card", "plain"),
        ("member: level + points card + stamp card", "members"),
    ):
        elapsed = times[kind]
        print(f"{name:52}{N / elapsed:10.1f}{elapsed / N * 1000 * WORKERS:10.1f}{elapsed / times['plain']:12.2f}x")
    print(f"serialization retries: baseline {RETRIED['plain']}, members {RETRIED['members']}")
    print(f"ratio {ratio:.3f}x (goal <= {GOAL:.2f}x): {'OK' if ratio <= GOAL else 'ABOVE GOAL'}")


if __name__ == "__main__":
    main()
