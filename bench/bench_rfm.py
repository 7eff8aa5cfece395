"""Nightly "WeChat: member activity and RFM" cron on 1 000 000 members vs a hand-written SQL.

Run with ``./run bench rfm`` (WM_BENCH_MEMBERS, default 1 000 000; its own database,
``wm_bench_scale``).  Goal: the cron (``res.partner._cron_wechat_activity``, run
in this process on a registry opened on the bench database) takes at most 2x
the hand-written statements below, which compute the same columns.

Fixture, in SQL: N member contacts (``res.partner`` with a ``wechat.member``
each) of which 60 % bought 1 to 3 times over the last two years.  The cron
reads the purchase statistics stored on the contact (count, amount, first and
last purchase: kept up to date by each paid order), not the orders, so the
statistics are inserted directly.  The activity and RFM columns hold
"yesterday's" values (the hand-written SQL run with now - 1 day): a night
changes a few of them, as in production.

Each timed run (best of 3) works on that same state and is rolled back; the
cron's result is checked, inside its transaction, equal on every member to
what the hand-written SQL computes (activity state of the contact and of its
members, R, F, M and the RFM score).
"""

import os
import resource
import sys
import time
import uuid

import psycopg2

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from benchlib import open_registry  # noqa: E402
from odoo_client import from_env  # noqa: E402

N = int(os.environ.get("WM_BENCH_MEMBERS", "1000000"))
RUNS = 3
GOAL = 2.0

# The activity state of the contact ``p`` (company ``c``) at ``%(now)s``: the product's rules.
ACTIVITY = """CASE
    WHEN p.wechat_last_purchase IS NULL OR COALESCE(p.wechat_purchase_count, 0) <= 0 THEN 'to_activate'
    WHEN p.wechat_first_purchase >= %(now)s - c.wechat_new_days * INTERVAL '1 day' THEN 'new'
    WHEN p.wechat_last_purchase >= %(now)s - c.wechat_active_days * INTERVAL '1 day' THEN 'active'
    WHEN p.wechat_last_purchase >= %(now)s - c.wechat_lost_days * INTERVAL '1 day' THEN 'dormant'
    ELSE 'lost' END"""

# Hand-written: what a DBA would run every night (only the rows whose value changes are written).
HAND_WRITTEN = [
    f"""
    WITH changed AS (
        UPDATE res_partner p SET wechat_activity_state = {ACTIVITY}
          FROM res_company c
         WHERE p.wechat_is_member AND c.id = COALESCE(p.company_id, %(company)s)
           AND p.wechat_activity_state IS DISTINCT FROM ({ACTIVITY})
        RETURNING p.id, p.wechat_activity_state
    )
    UPDATE wechat_member m SET activity_state = changed.wechat_activity_state
      FROM changed
     WHERE m.partner_id = changed.id AND m.activity_state IS DISTINCT FROM changed.wechat_activity_state
    """,
    """
    WITH scored AS (
        SELECT id,
               NTILE(5) OVER (ORDER BY wechat_last_purchase, id) AS r,
               NTILE(5) OVER (ORDER BY wechat_purchase_count, id) AS f,
               NTILE(5) OVER (ORDER BY wechat_purchase_amount, id) AS m
          FROM res_partner
         WHERE wechat_is_member AND wechat_purchase_count > 0
    )
    UPDATE res_partner p
       SET wechat_rfm_recency = s.r, wechat_rfm_frequency = s.f, wechat_rfm_monetary = s.m,
           wechat_rfm_score = s.r::text || s.f::text || s.m::text
      FROM scored s
     WHERE p.id = s.id
       AND (p.wechat_rfm_recency, p.wechat_rfm_frequency, p.wechat_rfm_monetary) IS DISTINCT FROM (s.r, s.f, s.m)
    """,
    """
    UPDATE res_partner
       SET wechat_rfm_recency = NULL, wechat_rfm_frequency = NULL, wechat_rfm_monetary = NULL,
           wechat_rfm_score = NULL
     WHERE wechat_is_member AND NOT COALESCE(wechat_purchase_count > 0, false) AND wechat_rfm_score IS NOT NULL
    """,
]

SNAPSHOT = """
    SELECT p.id, p.wechat_activity_state, p.wechat_rfm_recency, p.wechat_rfm_frequency, p.wechat_rfm_monetary,
           p.wechat_rfm_score, array_agg(m.activity_state ORDER BY m.id)
      FROM res_partner p JOIN wechat_member m ON m.partner_id = p.id
     WHERE p.wechat_is_member AND m.account_id = %s
     GROUP BY p.id ORDER BY p.id
"""


def fixture(odoo_rpc, cr):
    """The members (committed); returns the account and company ids."""
    appid = "wx" + uuid.uuid4().hex[:16]
    # Sandbox pointed at a closed port: nothing leaves the machine (the cron calls no API).
    account_id = odoo_rpc.call(
        "wechat.account",
        "create",
        {
            "name": "Bench RFM",
            "appid": appid,
            "appsecret": "s",
            "sandbox": True,
            "sandbox_url": "http://127.0.0.1:9",
        },
    )
    cr.execute("SELECT company_id FROM wechat_account WHERE id = %s", [account_id])
    company_id = cr.fetchone()[0]
    started = time.perf_counter()
    # 60 % of the members bought 1 to 3 times over two years; the dates sit 30 minutes before a whole hour,
    # away from every activity threshold while the bench runs.
    cr.execute(
        """
        WITH base AS (SELECT date_trunc('hour', now() AT TIME ZONE 'UTC') - INTERVAL '30 minutes' AS t),
        p AS (
            INSERT INTO res_partner (name, company_id, active, type, autopost_bills, wechat_is_member,
                                     wechat_purchase_count, wechat_purchase_amount, wechat_first_purchase,
                                     wechat_last_purchase, wechat_avg_basket, wechat_activity_state,
                                     create_date, write_date)
            SELECT 'RFM ' || g, %(company)s, true, 'contact', 'ask', true,
                   CASE WHEN g %% 10 < 6 THEN 1 + g %% 3 ELSE 0 END,
                   CASE WHEN g %% 10 < 6 THEN (1 + g %% 3) * (50 + (g::bigint * 7919) %% 2000) ELSE 0 END,
                   CASE WHEN g %% 10 < 6 THEN base.t - ((g * 31) %% 730 + (g %% 3) * 20) * INTERVAL '1 day' END,
                   CASE WHEN g %% 10 < 6 THEN base.t - ((g * 31) %% 730) * INTERVAL '1 day' END,
                   CASE WHEN g %% 10 < 6 THEN 50 + (g::bigint * 7919) %% 2000 ELSE 0 END,
                   'to_activate', now(), now()
              FROM generate_series(1, %(n)s) g, base
            RETURNING id
        )
        INSERT INTO wechat_member (account_id, company_id, openid, partner_id, state, info_state, activity_state,
                                   create_date, write_date)
        SELECT %(account)s, %(company)s, 'oRFM' || p.id, p.id, 'follower', 'done', 'to_activate', now(), now()
          FROM p
        """,
        {"company": company_id, "n": N, "account": account_id},
    )
    # Yesterday's values: the hand-written SQL run with now - 1 day.
    for statement in HAND_WRITTEN:
        cr.execute(statement, {"now": _utc_now(cr) - _one_day(), "company": company_id})
    cr.connection.commit()
    cr.connection.autocommit = True
    cr.execute("VACUUM ANALYZE res_partner")
    cr.execute("VACUUM ANALYZE wechat_member")
    print(f"  fixture: {N} members in {time.perf_counter() - started:.1f} s", flush=True)
    return account_id, company_id


def _utc_now(cr):
    cr.execute("SELECT now() AT TIME ZONE 'UTC'")
    return cr.fetchone()[0]


def _one_day():
    from datetime import timedelta

    return timedelta(days=1)


def main():
    db = os.environ["WM_ODOO_DB"]
    odoo_rpc = from_env()
    conn = psycopg2.connect(dbname=db)
    cr = conn.cursor()
    print(f"activity/RFM cron on {N} members:", flush=True)
    account_id, company_id = fixture(odoo_rpc, cr)
    odoo, registry = open_registry(db)

    def vacuum():
        cr.execute("VACUUM res_partner")
        cr.execute("VACUUM wechat_member")

    # Baseline, and the expected columns (from the first hand-written run).
    expected, sql_times = None, []
    for __ in range(RUNS):
        vacuum()
        conn.autocommit = False
        started = time.perf_counter()
        now = _utc_now(cr)
        for statement in HAND_WRITTEN:
            cr.execute(statement, {"now": now, "company": company_id})
        sql_times.append(time.perf_counter() - started)
        if expected is None:
            cr.execute(SNAPSHOT, [account_id])
            expected = cr.fetchall()
        conn.rollback()
        conn.autocommit = True

    cron_times = []
    for __ in range(RUNS):
        vacuum()
        with registry.cursor() as odoo_cr:
            env = odoo.api.Environment(odoo_cr, odoo.SUPERUSER_ID, {"lang": "en_US"})
            started = time.perf_counter()
            env["res.partner"]._cron_wechat_activity()
            env.flush_all()
            cron_times.append(time.perf_counter() - started)
            odoo_cr.execute(SNAPSHOT, [account_id])
            got = odoo_cr.fetchall()
            odoo_cr.rollback()
        if got != expected:
            diff = [(e, g) for e, g in zip(expected, got, strict=False) if e != g][:5]
            raise AssertionError(f"the cron's columns differ from the hand-written SQL ({len(got)} rows): {diff}")
    buyers = sum(1 for row in expected if row[2])
    print(f"  result: {len(expected)} members ({buyers} with an RFM score) equal to the hand-written SQL's")
    print(f"  baseline hand-written SQL   best {min(sql_times):7.2f} s")
    print(
        f"  cron _cron_wechat_activity  best {min(cron_times):7.2f} s  "
        f"measured {min(cron_times) / min(sql_times):.2f}x (goal <= {GOAL:.0f}x)"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak RSS of this process (registry, cron and the {len(expected)} expected rows): {peak:.0f} MB")
    conn.close()


if __name__ == "__main__":
    main()
