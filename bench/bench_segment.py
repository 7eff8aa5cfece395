"""Segment count on 1 000 000 members vs a hand-written SQL query, and WeChat calls per tag sync.

Run with ``./run bench segment``.  Members are inserted in SQL (partners and
members, deterministic attributes); the segment "men aged 35–45, active,
from two channels" is counted by Odoo (``wechat.segment.member_count`` over
JSON-RPC, the domain engine + SQL) and by a hand-written query on the same
data; the ratio is printed, best of 5 each.
"""

import math
import os
import statistics
import sys
import time
import uuid

import psycopg2

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from fakewechat import FakeWeChat  # noqa: E402
from odoo_client import from_env  # noqa: E402

N = int(os.environ.get("WM_BENCH_MEMBERS", "1000000"))


def best_of(fn, runs=5):
    times = []
    for __ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times), result


def main():
    odoo = from_env()
    fake = FakeWeChat().start()
    conn = psycopg2.connect(dbname=os.environ["WM_ODOO_DB"])
    conn.autocommit = True
    cr = conn.cursor()
    try:
        appid = "wx" + uuid.uuid4().hex[:16]
        account_id = odoo.call(
            "wechat.account",
            "create",
            {"name": "Bench segment", "appid": appid, "appsecret": "s", "sandbox": True, "sandbox_url": fake.url},
        )
        acc = fake.add_account(appid=appid, secret="s", token="t")
        channel_ids = [
            odoo.call("wechat.qr.channel", "create", {"name": f"C{i}", "account_id": account_id}) for i in range(4)
        ]
        started = time.perf_counter()
        cr.execute("SELECT company_id FROM wechat_account WHERE id = %s", [account_id])
        company_id = cr.fetchone()[0]
        cr.execute(
            """
            WITH p AS (
                INSERT INTO res_partner (name, company_id, active, type, autopost_bills, wechat_gender,
                                         wechat_birthday, wechat_activity_state, wechat_is_member, create_date,
                                         write_date)
                SELECT 'M' || g, %(company)s, true, 'contact', 'ask',
                       CASE WHEN g %% 2 = 0 THEN 'male' ELSE 'female' END,
                       DATE '1960-01-01' + (g %% 15000),
                       (ARRAY['to_activate','new','active','dormant','lost'])[1 + g %% 5], true, now(), now()
                  FROM generate_series(1, %(n)s) g
                RETURNING id
            )
            INSERT INTO wechat_member (account_id, company_id, openid, partner_id, state, info_state, channel_id,
                                       activity_state, create_date, write_date)
            SELECT %(account)s, %(company)s, 'oBENCH' || p.id, p.id,
                   CASE WHEN p.id %% 10 = 0 THEN 'unfollowed' ELSE 'follower' END, 'done',
                   (%(channels)s::int[])[1 + p.id %% 4],
                   (ARRAY['to_activate','new','active','dormant','lost'])[1 + (p.id %% 5)], now(), now()
              FROM p
            """,
            {"company": company_id, "n": N, "account": account_id, "channels": channel_ids},
        )
        cr.execute("ANALYZE res_partner; ANALYZE wechat_member")
        print(f"inserted {N} members in {time.perf_counter() - started:.1f}s")

        domain = (
            f"[('gender', '=', 'male'), ('activity_state', '=', 'active'), " f"('channel_id', 'in', {channel_ids[:2]})]"
        )
        segment_id = odoo.call(
            "wechat.segment",
            "create",
            {
                "name": "Men 35-45, active, two channels",
                "account_id": account_id,
                "domain": domain,
                "age_min": 35,
                "age_max": 45,
            },
        )
        odoo_best, odoo_median, odoo_count = best_of(
            lambda: odoo.call("wechat.segment", "read", [segment_id], ["member_count"])[0]["member_count"]
        )

        def hand_written():
            cr.execute(
                """
                SELECT count(*) FROM wechat_member m JOIN res_partner p ON p.id = m.partner_id
                 WHERE m.account_id = %s AND m.state = 'follower' AND m.activity_state = 'active'
                   AND m.channel_id = ANY(%s) AND p.wechat_gender = 'male'
                   AND p.wechat_birthday <= (CURRENT_DATE - INTERVAL '35 years')
                   AND p.wechat_birthday > (CURRENT_DATE - INTERVAL '46 years')
                """,
                [account_id, channel_ids[:2]],
            )
            return cr.fetchone()[0]

        sql_best, sql_median, sql_count = best_of(hand_written)
        assert odoo_count == sql_count, (odoo_count, sql_count)
        print(f"segment count on {N} members: {odoo_count} match")
        print(f"  baseline hand-written SQL   best {sql_best * 1000:8.1f} ms  median {sql_median * 1000:8.1f} ms")
        print(
            f"  wechat.segment (JSON-RPC)   best {odoo_best * 1000:8.1f} ms  median {odoo_median * 1000:8.1f} ms"
            f"  ratio {odoo_best / sql_best:.2f}x (goal <= 1.5x)"
        )

        # WeChat calls for N tag assignments: ceil(N / 50).
        n_tag = 1234
        openids = acc.add_followers(n_tag)
        odoo.call("wechat.account", "action_import_followers", [account_id])
        member_ids = odoo.call("wechat.member", "search", [("openid", "in", openids)])
        tag_id = odoo.call(
            "wechat.tag", "create", {"name": "bench", "account_id": account_id, "member_ids": [(6, 0, member_ids)]}
        )
        odoo.call("wechat.tag", "action_sync_to_wechat", [tag_id])
        calls = len(fake.calls_to("/cgi-bin/tags/members/batchtagging"))
        print(f"tag sync of {n_tag} members: {calls} WeChat calls (ceil(N/50) = {math.ceil(n_tag / 50)})")
        assert calls == math.ceil(n_tag / 50)
        assert fake.violations == [], fake.violations
    finally:
        # The members stay: wm_bench is a scratch database (deleting a million contacts
        # checks every foreign key to res_partner and takes far longer than the bench).
        fake.stop()
        conn.close()


if __name__ == "__main__":
    main()
