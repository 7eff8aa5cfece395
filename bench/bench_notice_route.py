"""Routing a coupon campaign's notices vs inserting the same notice rows in one SQL statement.

Run with ``./run bench notice_route`` (WM_BENCH_NOTICES, default 100 000;
WM_BENCH_REPEAT, default 3).  Goal: routing at most 1.5x the raw INSERT.

The harness runs this on a database of its own, dropped and re-created at
each run (``wm_bench_notice``), next to an Odoo served on it (the account,
the program and the template mappings are made over JSON-RPC).  The routing
is a private method, which JSON-RPC refuses: the fixture's members and
coupons and both timings are done in this process, on a registry opened on
the same database (WM_ODOO_ADDONS from the harness).

Fixture (committed once): N members made by ``wechat.member._bulk_create``
and one coupon each by ``loyalty.card._wechat_bulk_create``, with a
realistic mix: 1 in 20 with a customer-service quota (their own message
just now), 1 in 10 unfollowed (half of them opted in for the subscribe
notice), 1 in 10 followers opted in too; the account maps the "coupon
issued" kind to a template message (3 keywords) and a subscribe notice.
With the kind's order (customer service, template, subscribe) that is
about 5 % by customer service, 85 % by template, 5 % by subscribe notice
and 5 % reached by none (recorded as "not sent").

What is timed, each on a new cursor that is rolled back afterwards (then
``VACUUM wechat_notice``, so that every timed run inserts into the same
empty table):

1. baseline: one ``INSERT INTO wechat_notice (...) SELECT ... FROM
   unnest(...)`` of the very rows the router wrote (same 16 columns:
   account, company, member, partner, kind, key, values, state, channel,
   mapping, reason, date and the 4 log columns; those equal on every row,
   such as the account or the date, as one value, as the router passes
   them, the others as arrays), the parameters built beforehand: only the
   statement is timed (psycopg2's quoting of the arrays and the server);
2. ``wechat.coupon.campaign._notify_cards(account, 'coupon_issued',
   cards)``: everything the campaign does to notify, from the cards to the
   notices (the card -> member query, the values and keys, the routing
   statement, the recordset returned).  Sending is not part of it: the
   router hands more than 200 notices to the sending cron (an
   ``ir.cron`` trigger row), the transaction is rolled back, so nothing is
   sent and the cron never sees them.

Both are run WM_BENCH_REPEAT times, alternately; the medians and their
ratio are printed.
"""

import os
import statistics
import sys
import time
import uuid

import psycopg2

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from benchlib import open_registry  # noqa: E402
from odoo_client import from_env  # noqa: E402

N = int(os.environ.get("WM_BENCH_NOTICES", "100000"))
REPEAT = int(os.environ.get("WM_BENCH_REPEAT", "3"))
GOAL = 1.5
COLUMNS = [
    "account_id",
    "company_id",
    "member_id",
    "partner_id",
    "kind_id",
    "key",
    "values",
    "state",
    "channel",
    "mapping_id",
    "reason",
    "date",
    "create_uid",
    "write_uid",
    "create_date",
    "write_date",
]
TYPES = [
    "int",
    "int",
    "int",
    "int",
    "int",
    "varchar",
    "jsonb",
    "varchar",
    "varchar",
    "int",
    "text",
    "timestamp",
    "int",
    "int",
    "timestamp",
    "timestamp",
]


def fixture(odoo_rpc, odoo, registry, cr_pg):
    tag = uuid.uuid4().hex[:8]
    appid = "wx" + uuid.uuid4().hex[:16]
    # Sandbox pointed at a closed port: nothing can leave the machine.
    account_id = odoo_rpc.call(
        "wechat.account",
        "create",
        {
            "name": f"Bench notices {tag}",
            "appid": appid,
            "appsecret": "s",
            "sandbox": True,
            "sandbox_url": "http://127.0.0.1:9",
        },
    )
    program_id = odoo_rpc.call("loyalty.program", "create", {"name": f"Notices {tag}", "program_type": "coupons"})
    [kind_id] = odoo_rpc.call("wechat.notice.kind", "search", [("code", "=", "coupon_issued")])
    odoo_rpc.call(
        "wechat.notice.template",
        "create",
        [
            {
                "account_id": account_id,
                "kind_id": kind_id,
                "channel": "template",
                "template_id": f"TPL-{tag}",
                "line_ids": [
                    (0, 0, {"keyword": "thing1", "value_key": "coupon_name"}),
                    (0, 0, {"keyword": "character_string2", "value_key": "coupon_code"}),
                    (0, 0, {"keyword": "time3", "value_key": "expiry_date"}),
                ],
            },
            {
                "account_id": account_id,
                "kind_id": kind_id,
                "channel": "subscribe",
                "template_id": f"SUB-{tag}",
                "line_ids": [
                    (0, 0, {"keyword": "thing1", "value_key": "coupon_name"}),
                    (0, 0, {"keyword": "time2", "value_key": "expiry_date"}),
                ],
            },
        ],
    )
    started = time.perf_counter()
    with registry.cursor() as cr:  # commits
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"lang": "en_US"})
        account = env["wechat.account"].browse(account_id)
        env["wechat.member"]._bulk_create(account, [f"oNTC{tag}{i:010d}" for i in range(N)])
    print(f"  fixture: {N} members (_bulk_create) in {time.perf_counter() - started:.1f} s", flush=True)
    cr_pg.execute(
        """
        UPDATE wechat_member
           SET cs_message_at = CASE WHEN id %% 20 = 0 THEN now() at time zone 'UTC' END,
               cs_message_used = 0,
               state = CASE WHEN id %% 10 = 1 THEN 'unfollowed' ELSE 'follower' END
         WHERE account_id = %s
        """,
        [account_id],
    )
    cr_pg.execute(
        """
        INSERT INTO wechat_notice_optin (account_id, company_id, member_id, template_id, state, date, create_date,
                                         write_date)
        SELECT m.account_id, m.company_id, m.id, %s, 'available', now() at time zone 'UTC',
               now() at time zone 'UTC', now() at time zone 'UTC'
          FROM wechat_member m WHERE m.account_id = %s AND (m.id %% 20 = 1 OR m.id %% 10 = 2)
        """,
        [f"SUB-{tag}", account_id],
    )
    started = time.perf_counter()
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"lang": "en_US"})
        cr.execute("SELECT partner_id FROM wechat_member WHERE account_id = %s ORDER BY id", [account_id])
        partner_ids = [row[0] for row in cr.fetchall()]
        cards = env["loyalty.card"]._wechat_bulk_create(
            env["loyalty.program"].browse(program_id),
            [(p, 1) for p in partner_ids],
            points=1,
            description="Bench notices",
        )
        card_ids = cards.ids
    print(
        f"  fixture: {len(card_ids)} coupons (_wechat_bulk_create) in {time.perf_counter() - started:.1f} s", flush=True
    )
    cr_pg.execute("ANALYZE res_partner, wechat_member, loyalty_card, wechat_notice_optin")
    return account_id, card_ids


def main():
    db = os.environ["WM_ODOO_DB"]
    odoo_rpc = from_env()
    odoo, registry = open_registry(db)
    conn = psycopg2.connect(dbname=db)
    conn.autocommit = True
    cr_pg = conn.cursor()
    cr_pg.execute("SELECT count(*) FROM wechat_notice")
    if cr_pg.fetchone()[0]:
        raise SystemExit(f"{db} already has notices: run ./run bench notice_route (a fresh database)")
    print(f"routing {N} coupon notices:", flush=True)
    account_id, card_ids = fixture(odoo_rpc, odoo, registry, cr_pg)

    def clean():
        cr_pg.execute("VACUUM wechat_notice")

    def route():
        cr = registry.cursor()
        try:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"lang": "en_US"})
            account = env["wechat.account"].browse(account_id)
            cards = env["loyalty.card"].browse(card_ids)
            started = time.perf_counter()
            notices = env["wechat.coupon.campaign"]._notify_cards(account, "coupon_issued", cards)
            spent = time.perf_counter() - started
            assert len(notices) == len(card_ids), (len(notices), len(card_ids))
            cr.execute(SQL_ROWS, [notices.ids])
            rows = cr.fetchall()
            cr.execute("SELECT coalesce(channel, 'none'), count(*) FROM wechat_notice GROUP BY 1 ORDER BY 2 DESC")
            mix = cr.fetchall()
        finally:
            cr.rollback()
            cr.close()
        clean()
        return spent, rows, mix

    def raw(rows):
        # Columns equal on every row go as one value (as the router passes them), the others as arrays.
        columns = [list(col) for col in zip(*rows, strict=False)]
        constant = [len(set(col)) == 1 for col in columns]
        statement = "INSERT INTO wechat_notice ({}) SELECT {} FROM unnest({}) AS t({})".format(
            ", ".join(f'"{c}"' for c in COLUMNS),
            ", ".join(f"%s::{t}" if const else f"t.{c}" for c, t, const in zip(COLUMNS, TYPES, constant, strict=False)),
            ", ".join(f"%s::{t}[]" for t, const in zip(TYPES, constant, strict=False) if not const),
            ", ".join(c for c, const in zip(COLUMNS, constant, strict=False) if not const),
        )
        params = [col[0] for col, const in zip(columns, constant, strict=False) if const]
        params += [col for col, const in zip(columns, constant, strict=False) if not const]
        cr = registry.cursor()
        try:
            started = time.perf_counter()
            cr.execute(statement, params)
            spent = time.perf_counter() - started
            assert cr.rowcount == len(rows)
        finally:
            cr.rollback()
            cr.close()
        clean()
        return spent

    clean()
    route_times, raw_times = [], []
    rows = mix = None
    for attempt in range(1, REPEAT + 1):
        spent, rows, mix = route()
        route_times.append(spent)
        raw_times.append(raw(rows))
        print(f"  run {attempt}: raw INSERT {raw_times[-1]:6.2f} s, routing {route_times[-1]:6.2f} s", flush=True)
    print("  channels: " + ", ".join(f"{channel} {count}" for channel, count in mix))
    floor, ours = statistics.median(raw_times), statistics.median(route_times)
    print(f"routing {N} coupon notices (medians of {REPEAT} runs, each rolled back):")
    print(f"  raw INSERT (baseline)          {floor:8.2f} s")
    print(f"  _notify_cards (routing only)   {ours:8.2f} s   {ours / floor:6.2f}x the raw INSERT (goal <= {GOAL}x)")
    conn.close()
    if ours / floor > GOAL:
        print(f"  OVER THE GOAL ({ours / floor:.2f}x > {GOAL}x)")


# The router's rows, read back as the baseline's parameters (jsonb as text, timestamps as they are).
SQL_ROWS = "SELECT {} FROM wechat_notice WHERE id = ANY(%s) ORDER BY id".format(
    ", ".join(f'"{c}"::text' if c == "values" else f'"{c}"' for c in COLUMNS)
)


if __name__ == "__main__":
    main()
