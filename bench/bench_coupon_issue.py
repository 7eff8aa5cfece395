"""Issuing coupons to a segment: wechat_coupon vs Odoo's loyalty.generate.wizard vs a raw INSERT.

Run with ``./run bench coupon_issue`` (WM_BENCH_COUPONS, default 100 000).
The three issue the same number of coupons (one per member, with a
``loyalty.history`` line each) in one run; ratios are printed.
Goals: at least 10x faster than the wizard, at most 3x a raw INSERT.

The harness runs this on a database of its own, dropped and re-created at
each run (``wm_bench_coupon``); the coupons are left there.  Odoo's wizard
draws codes with 32 random bits: among 100 000 codes a duplicate is likely
(about 70 % of runs), and coupons left in the database make it likelier.
The stock wizard then fails as a whole ("A coupon/loyalty card must have a
unique code", rolled back); it is run again, unchanged, up to
WM_BENCH_WIZARD_TRIES times (default 8), and the failed tries are reported.
"""

import os
import sys
import time
import uuid

import psycopg2

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from benchlib import timed  # noqa: E402
from odoo_client import OdooError, from_env  # noqa: E402

N = int(os.environ.get("WM_BENCH_COUPONS", "100000"))
WIZARD_TRIES = int(os.environ.get("WM_BENCH_WIZARD_TRIES", "8"))
DUPLICATE_CODE = "unique code"  # loyalty.card's card_code_unique message


def main():
    odoo = from_env()
    conn = psycopg2.connect(dbname=os.environ["WM_ODOO_DB"])
    conn.autocommit = True
    cr = conn.cursor()
    cr.execute("SELECT count(*) FROM loyalty_card")
    already = cr.fetchone()[0]
    if already:
        print(
            f"  note: {already} coupons already in {os.environ['WM_ODOO_DB']}: the wizard's 32-bit codes may "
            "collide with them (./run bench coupon_issue uses a fresh database)",
            flush=True,
        )
    tag = uuid.uuid4().hex[:8]
    appid = "wx" + uuid.uuid4().hex[:16]
    # Sandbox pointed at a closed port: nothing can leave the machine (no member is in a 48 h window anyway).
    account_id = odoo.call(
        "wechat.account",
        "create",
        {
            "name": "Bench coupons",
            "appid": appid,
            "appsecret": "s",
            "sandbox": True,
            "sandbox_url": "http://127.0.0.1:9",
        },
    )
    cr.execute("SELECT company_id FROM wechat_account WHERE id = %s", [account_id])
    company_id = cr.fetchone()[0]
    cr.execute(
        """
        WITH p AS (
            INSERT INTO res_partner (name, company_id, active, type, autopost_bills, wechat_is_member,
                                     create_date, write_date)
            SELECT %(tag)s || '-' || g, %(company)s, true, 'contact', 'ask', true, now(), now()
              FROM generate_series(1, %(n)s) g
            RETURNING id
        )
        INSERT INTO wechat_member (account_id, company_id, openid, partner_id, state, info_state, activity_state,
                                   create_date, write_date)
        SELECT %(account)s, %(company)s, 'oCPN' || p.id, p.id, 'follower', 'done', 'active', now(), now() FROM p
        """,
        {"tag": tag, "company": company_id, "n": N, "account": account_id},
    )
    cr.execute("ANALYZE res_partner, wechat_member")
    cr.execute("SELECT partner_id FROM wechat_member WHERE account_id = %s ORDER BY id", [account_id])
    partner_ids = [row[0] for row in cr.fetchall()]

    def program(name):
        return odoo.call("loyalty.program", "create", {"name": f"{name} {tag}", "program_type": "coupons"})

    def count(program_id):
        cr.execute(
            """
            SELECT count(DISTINCT c.id), count(h.id) FROM loyalty_card c
              LEFT JOIN loyalty_history h ON h.card_id = c.id
             WHERE c.program_id = %s
            """,
            [program_id],
        )
        return cr.fetchone()

    print(f"issuing {N} coupons (one per member, with a history line each):", flush=True)

    # 1. Raw INSERT of the same rows (cards + history), the floor.
    raw_program = program("Raw")

    def raw():
        cr.execute(
            """
            WITH c AS (
                INSERT INTO loyalty_card (program_id, company_id, partner_id, code, points, create_date,
                                          write_date)
                SELECT %s, %s, p, '044' || substr(md5(random()::text || p), 1, 17), 1, now(), now()
                  FROM unnest(%s::int[]) p
                RETURNING id
            )
            INSERT INTO loyalty_history (card_id, description, issued, used, create_date, write_date)
            SELECT c.id, 'Gift', 1, 0, now(), now() FROM c
            """,
            [raw_program, company_id, partner_ids],
        )

    floor, __ = timed(raw)
    assert count(raw_program) == (N, N)
    print(f"  raw INSERT (baseline)      {floor:8.2f} s", flush=True)

    # 2. wechat_coupon: a campaign to all followers of the account.
    ours_program = program("WeChat")
    campaign = odoo.call(
        "wechat.coupon.campaign",
        "create",
        {"name": f"Bench {tag}", "account_id": account_id, "program_id": ours_program, "audience": "followers"},
    )
    ours, __ = timed(lambda: odoo.call("wechat.coupon.campaign", "action_issue", [campaign]))
    assert count(ours_program) == (N, N)
    print(f"  wechat_coupon campaign     {ours:8.2f} s   {ours / floor:6.2f}x the raw INSERT", flush=True)

    # 3. Odoo's wizard, stock: one card per selected customer through the ORM.
    wizard_program = program("Wizard")
    wizard = odoo.call(
        "loyalty.generate.wizard",
        "create",
        {"program_id": wizard_program, "mode": "selected", "customer_ids": [(6, 0, partner_ids)], "points_granted": 1},
    )
    failed = []
    slow = None
    for attempt in range(1, WIZARD_TRIES + 1):
        started = time.perf_counter()
        try:
            odoo.call("loyalty.generate.wizard", "generate_coupons", [wizard])
        except OdooError as exc:
            spent = time.perf_counter() - started
            if DUPLICATE_CODE not in str(exc):
                raise
            failed.append(spent)
            print(
                f"  loyalty.generate.wizard    try {attempt} failed after {spent:.2f} s: two of its codes "
                f"collided ({str(exc).strip()!r}); rolled back, running it again",
                flush=True,
            )
            continue
        slow = time.perf_counter() - started
        break
    if slow is None:
        print(
            f"  loyalty.generate.wizard    failed {len(failed)} times on a duplicate code "
            f"({', '.join(f'{t:.1f} s' for t in failed)}): no time to compare; "
            "raise WM_BENCH_WIZARD_TRIES or lower WM_BENCH_COUPONS"
        )
        sys.exit(1)
    assert count(wizard_program) == (N, N)
    print(f"  loyalty.generate.wizard    {slow:8.2f} s", flush=True)

    print(f"issuing {N} coupons (one per member, with a history line each), ratios:")
    print(f"  raw INSERT (baseline)      {floor:8.2f} s")
    print(f"  wechat_coupon campaign     {ours:8.2f} s   {ours / floor:6.2f}x the raw INSERT (goal <= 3x)")
    print(f"  loyalty.generate.wizard    {slow:8.2f} s   wechat_coupon is {slow / ours:6.1f}x faster " "(goal >= 10x)")
    if failed:
        print(
            f"  (the wizard failed {len(failed)} time(s) before on a duplicate code, after "
            f"{', '.join(f'{t:.1f} s' for t in failed)}; the successful try is timed)"
        )
    conn.close()


if __name__ == "__main__":
    main()
