"""Nightly points expiry (first in, first out) on 1 000 000 cards vs a hand-written SQL.

Run with ``./run bench points_expiry`` (WM_BENCH_CARDS, default 1 000 000; its
own database, ``wm_bench_points``).  Goal: the cron
(``loyalty.program._cron_wechat_expire_points``, run in this process on a
registry opened on the bench database, committing each batch of card ids as
it does in production) takes at most 2x the hand-written statement below,
run on an identical copy of the cards and their history (tables created
``LIKE`` the real ones, indexes and foreign keys included, same rows).

Fixture, in SQL: a points program with a validity of 12 months and N cards;
every card earned 50 points 3 months ago; half of them also earned 100 to
149 points 15 months ago and spent 0 to 39 of them 10 months ago (about 2.5
history lines a card).  Tonight, the old points left of that half expire.
Then the cron runs a second time: it must expire nothing more.

The result is checked: the points expired per card (the ``expiry`` history
lines) and the balances are the same on the real tables (cron) as on the
copy (hand-written SQL).
"""

import os
import sys
import time
import uuid

import psycopg2

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from benchlib import open_registry, peak_rss_mb  # noqa: E402
from odoo_client import from_env  # noqa: E402

N = int(os.environ.get("WM_BENCH_CARDS", "1000000"))
GOAL = 2.0
VALIDITY = 12

# What a DBA would run every night on the copy: one statement, one cutoff (local midnight in Beijing,
# VALIDITY months ago, in UTC as Odoo stores dates).
HAND_WRITTEN = """
    WITH due AS (
        SELECT c.id, LEAST(c.points, COALESCE(SUM(h.issued) FILTER (WHERE h.create_date < %(cutoff)s), 0)
                                - COALESCE(SUM(h.used), 0)) AS points
          FROM bench_card c JOIN bench_history h ON h.card_id = c.id
         WHERE c.program_id = %(program)s AND c.points > 0
         GROUP BY c.id, c.points
    ), card AS (
        UPDATE bench_card c SET points = c.points - due.points, write_uid = %(uid)s, write_date = %(now)s
          FROM due WHERE c.id = due.id AND due.points > 0
        RETURNING c.id, due.points
    )
    INSERT INTO bench_history (card_id, description, issued, used, wechat_kind,
                               create_uid, write_uid, create_date, write_date)
    SELECT card.id, 'Points expired', 0, card.points, 'expiry', %(uid)s, %(uid)s, %(now)s, %(now)s FROM card
"""

# The foreign keys of the real tables, for their copy (a row written pays the same checks on both sides).
FOREIGN_KEYS = """
    SELECT conrelid::regclass::text, pg_get_constraintdef(oid)
      FROM pg_constraint
     WHERE contype = 'f' AND conrelid IN ('loyalty_card'::regclass, 'loyalty_history'::regclass)
"""

CUTOFF = """
    SELECT ((date_trunc('day', now() AT TIME ZONE 'Asia/Shanghai') - INTERVAL '%s months')
            AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'UTC'
"""


def fixture(odoo_rpc, cr):
    """The program, cards and history (committed) and their copy; returns the program id."""
    program_id = odoo_rpc.call(
        "loyalty.program",
        "create",
        {"name": f"Bench points {uuid.uuid4().hex[:6]}", "program_type": "loyalty", "wechat_points_validity": VALIDITY},
    )
    cr.execute(
        "UPDATE res_partner SET tz = 'Asia/Shanghai' WHERE id IN (SELECT partner_id FROM res_company "
        "WHERE id = (SELECT company_id FROM loyalty_program WHERE id = %s))",
        [program_id],
    )
    started = time.perf_counter()
    cr.execute(
        """
        WITH card AS (
            INSERT INTO loyalty_card (program_id, company_id, code, points, active, create_date, write_date)
            SELECT %(program)s, (SELECT company_id FROM loyalty_program WHERE id = %(program)s),
                   'BENCH' || g, 50 + CASE WHEN g %% 2 = 0 THEN 100 + g %% 50 - g %% 40 ELSE 0 END, true,
                   now(), now()
              FROM generate_series(1, %(n)s) g
            RETURNING id, substr(code, 6)::int AS g
        ), line AS (
            SELECT card.id, t.months, t.issued, t.used
              FROM card,
                   LATERAL (VALUES (15, 100 + card.g %% 50, 0),
                                   (10, 0, card.g %% 40),
                                   (3, 50, 0)) AS t(months, issued, used)
             WHERE t.months = 3 OR card.g %% 2 = 0
        )
        INSERT INTO loyalty_history (card_id, description, issued, used, create_date, write_date)
        SELECT id, 'Bench order', issued, used, now() - months * INTERVAL '1 month', now()
          FROM line ORDER BY id, months DESC
        """,
        {"program": program_id, "n": N},
    )
    cr.execute(
        "SELECT count(*) FROM loyalty_history h JOIN loyalty_card c ON c.id = h.card_id " "WHERE c.program_id = %s",
        [program_id],
    )
    lines = cr.fetchone()[0]
    # The identical copy the hand-written SQL works on.
    cr.execute("DROP TABLE IF EXISTS bench_history, bench_card")
    cr.execute("CREATE TABLE bench_card (LIKE loyalty_card INCLUDING ALL)")
    cr.execute("CREATE TABLE bench_history (LIKE loyalty_history INCLUDING ALL)")
    cr.execute("INSERT INTO bench_card SELECT * FROM loyalty_card WHERE program_id = %s", [program_id])
    cr.execute(
        "INSERT INTO bench_history SELECT h.* FROM loyalty_history h JOIN loyalty_card c ON c.id = h.card_id "
        "WHERE c.program_id = %s ORDER BY h.id",
        [program_id],
    )
    cr.execute(FOREIGN_KEYS)
    for table, definition in cr.fetchall():
        copy = {"loyalty_card": "bench_card", "loyalty_history": "bench_history"}[table]
        definition = definition.replace("REFERENCES loyalty_card(", "REFERENCES bench_card(")
        cr.execute(f"ALTER TABLE {copy} ADD {definition}")
    cr.connection.commit()
    cr.connection.autocommit = True
    for table in ("loyalty_card", "loyalty_history", "bench_card", "bench_history"):
        cr.execute(f"VACUUM ANALYZE {table}")
    cr.connection.autocommit = False
    print(f"  fixture: {N} cards, {lines} history lines (and their copy) in {time.perf_counter() - started:.1f} s")
    return program_id


def expired(cr, history, card, program_id):
    cr.execute(
        f"""
        SELECT c.id, c.points, COALESCE(SUM(h.used) FILTER (WHERE h.wechat_kind = 'expiry'), 0)
          FROM {card} c LEFT JOIN {history} h ON h.card_id = c.id
         WHERE c.program_id = %s GROUP BY c.id, c.points ORDER BY c.id
        """,
        [program_id],
    )
    return cr.fetchall()


def main():
    db = os.environ["WM_ODOO_DB"]
    odoo_rpc = from_env()
    conn = psycopg2.connect(dbname=db)
    cr = conn.cursor()
    print(f"points expiry on {N} cards:", flush=True)
    program_id = fixture(odoo_rpc, cr)

    # Hand-written, on the copy.
    cr.execute(CUTOFF, [VALIDITY])
    cutoff = cr.fetchone()[0]
    conn.commit()
    started = time.perf_counter()
    cr.execute(HAND_WRITTEN, {"program": program_id, "cutoff": cutoff, "now": cutoff, "uid": 1})
    conn.commit()
    sql_time = time.perf_counter() - started

    # The cron, on the real tables (commits each batch).
    odoo, registry = open_registry(db)
    times = []
    for __ in range(2):
        with registry.cursor() as odoo_cr:
            env = odoo.api.Environment(odoo_cr, odoo.SUPERUSER_ID, {"lang": "en_US"})
            started = time.perf_counter()
            result = env["loyalty.program"]._cron_wechat_expire_points()
            odoo_cr.commit()
            times.append((time.perf_counter() - started, len(result), sum(result.values())))

    (cron_time, cards, points), (again_time, again_cards, __) = times
    print(f"  baseline hand-written SQL (one statement)  {sql_time:7.2f} s")
    print(
        f"  cron _cron_wechat_expire_points            {cron_time:7.2f} s  "
        f"measured {cron_time / sql_time:.2f}x (goal <= {GOAL:.0f}x)"
    )
    print(f"  second run the same night (expires nothing) {again_time:7.2f} s", flush=True)
    got = expired(cr, "loyalty_history", "loyalty_card", program_id)
    want = expired(cr, "bench_history", "bench_card", program_id)
    conn.commit()
    if got != want:
        diff = [(w, g) for w, g in zip(want, got, strict=False) if w != g][:5]
        raise AssertionError(f"the cron's expiry differs from the hand-written SQL's: {diff}")
    if again_cards:
        raise AssertionError(f"the second run expired {again_cards} cards more")
    print(f"  result: {cards} cards, {points:.0f} points expired, equal to the hand-written SQL's")
    print(f"  peak RSS of this process: {peak_rss_mb():.0f} MB")
    cr.execute("DROP TABLE bench_history, bench_card")
    conn.commit()
    conn.close()


if __name__ == "__main__":
    main()
