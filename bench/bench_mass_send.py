"""Preparing a mass send to 1 000 000 followers vs a bulk INSERT of the same recipient rows.

Run with ``./run bench mass_send`` (WM_BENCH_FOLLOWERS, default 1 000 000;
WM_BENCH_REPEAT, default 2).  Goal: the preparation at most 2x the bulk
INSERT, with the preparing process's memory bounded (no ORM read of the
members; its peak RSS is printed).

The harness runs this on a database of its own, dropped and re-created at
each run (``wm_bench_mass``), next to an Odoo served on it (the account is
made over JSON-RPC).  The followers are inserted in SQL (partners and
members).  The preparation (``wechat.campaign._prepare``: the audience's
followers, WeChat's monthly cap and the contact budget checked, the
recipients frozen and cut into chunks of 10 000, each with its
``clientmsgid``) is a private method, which JSON-RPC refuses: it runs in
this process, on a registry opened on the same database.

What is timed, each on a cursor rolled back afterwards (then ``VACUUM`` of
the recipients and chunks, so that each run inserts into empty tables):

1. baseline: the chunk rows, then one ``INSERT INTO
   wechat_campaign_recipient … SELECT … FROM wechat_member`` of the very
   rows the preparation writes (campaign, member, chunk by rank, holdout,
   the 4 log columns), all in the database;
2. ``campaign._prepare()`` of an "all followers" campaign.

The best of the runs of each is kept and the ratio printed.
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

N = int(os.environ.get("WM_BENCH_FOLLOWERS", "1000000"))
REPEAT = int(os.environ.get("WM_BENCH_REPEAT", "2"))
GOAL = 2.0


def insert_followers(cr_pg, account_id):
    cr_pg.execute("SELECT company_id FROM wechat_account WHERE id = %s", [account_id])
    company_id = cr_pg.fetchone()[0]
    cr_pg.execute(
        """
        WITH p AS (
            INSERT INTO res_partner (name, company_id, active, type, autopost_bills, wechat_is_member, create_date,
                                     write_date)
            SELECT 'F' || g, %(company)s, true, 'contact', 'ask', true, now(), now()
              FROM generate_series(1, %(n)s) g
            RETURNING id
        )
        INSERT INTO wechat_member (account_id, company_id, openid, partner_id, state, info_state, create_date,
                                   write_date)
        SELECT %(account)s, %(company)s, 'oMASS' || p.id, p.id, 'follower', 'done', now(), now() FROM p
        """,
        {"company": company_id, "n": N, "account": account_id},
    )
    cr_pg.execute("ANALYZE res_partner; ANALYZE wechat_member")


def vacuum(cr_pg):
    cr_pg.execute("VACUUM wechat_campaign_recipient")
    cr_pg.execute("VACUUM wechat_campaign_chunk")


def baseline(odoo, registry, campaign_id, account_id, chunk_size):
    """The same chunks and recipient rows, written by the database alone."""
    with registry.cursor() as cr:
        started = time.perf_counter()
        cr.execute(
            """
            INSERT INTO wechat_campaign_chunk (campaign_id, sequence, by_tag, clientmsgid, member_count, state,
                                               create_uid, write_uid, create_date, write_date)
            SELECT %(campaign)s, s, false, 'wmbase-' || %(campaign)s || '-' || s,
                   LEAST(%(size)s, %(n)s - (s - 1) * %(size)s), 'pending', 1, 1, now(), now()
              FROM generate_series(1, (%(n)s + %(size)s - 1) / %(size)s) s
            RETURNING id
            """,
            {"campaign": campaign_id, "size": chunk_size, "n": N},
        )
        chunk_ids = sorted(row[0] for row in cr.fetchall())
        cr.execute(
            """
            INSERT INTO wechat_campaign_recipient (campaign_id, member_id, chunk_id, holdout, create_uid, write_uid,
                                                   create_date, write_date)
            SELECT %(campaign)s, m.id, (%(chunks)s::int[])[1 + (m.rank - 1) / %(size)s], false, 1, 1,
                   now() at time zone 'UTC', now() at time zone 'UTC'
              FROM (SELECT id, row_number() OVER (ORDER BY id) AS rank
                      FROM wechat_member WHERE account_id = %(account)s AND state = 'follower') m
            """,
            {"campaign": campaign_id, "chunks": chunk_ids, "size": chunk_size, "account": account_id},
        )
        rows = cr.rowcount
        elapsed = time.perf_counter() - started
        cr.rollback()
    return elapsed, rows


def prepare(odoo, registry, campaign_id):
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"lang": "en_US"})
        campaign = env["wechat.campaign"].browse(campaign_id)
        rss_before = peak_rss_mb()
        started = time.perf_counter()
        campaign._prepare()
        env.flush_all()
        elapsed = time.perf_counter() - started
        cr.execute("SELECT count(*) FROM wechat_campaign_recipient WHERE campaign_id = %s", [campaign_id])
        rows = cr.fetchone()[0]
        chunks = len(campaign.chunk_ids)
        cr.rollback()
    return elapsed, rows, chunks, rss_before


def main():
    odoo_rpc = from_env()
    db = os.environ["WM_ODOO_DB"]
    conn = psycopg2.connect(dbname=db)
    conn.autocommit = True
    cr_pg = conn.cursor()
    odoo, registry = open_registry(db)
    from odoo.addons.wechat_member.models.wechat_campaign import CHUNK_SIZE

    try:
        appid = "wx" + uuid.uuid4().hex[:16]
        # Sandbox pointed at a closed port: nothing can leave the machine (nothing is sent anyway).
        account_id = odoo_rpc.call(
            "wechat.account",
            "create",
            {
                "name": "Bench mass send",
                "appid": appid,
                "appsecret": "s",
                "sandbox": True,
                "sandbox_url": "http://127.0.0.1:9",
            },
        )
        started = time.perf_counter()
        insert_followers(cr_pg, account_id)
        print(f"  fixture: {N} followers (SQL) in {time.perf_counter() - started:.1f} s", flush=True)
        campaign_id = odoo_rpc.call(
            "wechat.campaign",
            "create",
            {"name": "Bench mass send", "account_id": account_id, "audience": "all", "text_content": "新品上市"},
        )
        base_times, prep_times, rss = [], [], []
        for __ in range(REPEAT):
            vacuum(cr_pg)
            elapsed, base_rows = baseline(odoo, registry, campaign_id, account_id, CHUNK_SIZE)
            base_times.append(elapsed)
            vacuum(cr_pg)
            elapsed, rows, chunks, rss_before = prepare(odoo, registry, campaign_id)
            prep_times.append(elapsed)
            rss.append((rss_before, peak_rss_mb()))
            assert rows == base_rows == N, (rows, base_rows, N)
            assert chunks == -(-N // CHUNK_SIZE), chunks
            print(f"  run: baseline {base_times[-1]:.2f} s, prepare {prep_times[-1]:.2f} s", flush=True)
        base, prep = min(base_times), min(prep_times)
        print(f"mass send prepared for {N} followers: {rows} recipient rows in {chunks} chunks of {CHUNK_SIZE}")
        print(f"  baseline bulk INSERT (database only)  best {base:7.2f} s")
        print(f"  wechat.campaign._prepare()            best {prep:7.2f} s  ratio {prep / base:.2f}x (goal <= {GOAL}x)")
        print(
            f"  peak RSS of the preparing process: {rss[-1][1]:.0f} MB "
            f"({rss[0][0]:.0f} MB with the registry loaded, before the first preparation)"
        )
    finally:
        conn.close()


if __name__ == "__main__":
    main()
