"""Tag sync of 1 000 000 pending members: WeChat calls, time and memory.

Run with ``./run bench tag_sync`` (WM_BENCH_TAG_MEMBERS, default 1 000 000; its own
database, ``wm_bench_scale``).  Goals: the sync (``wechat.tag._sync_members``, run
in this process on a registry opened on the bench database) makes exactly
ceil(T / 50) ``batchtagging`` calls for T members to tag and ceil(U / 50)
``batchuntagging`` calls for U to untag (WeChat's limit is 50 openids a call),
with bounded memory (the pending members are read a page at a time, never all
into Python at once).

The WeChat API client is a counting stub (``wechat.account._api``): it checks
each call's openid list (1 to 50 openids) and counts them, and answers ok.
Fixture, in SQL: N members on one tag (99 % followers, the unfollowed are not
sent) and N / 500 members WeChat has on the tag but Odoo no longer wants.

Baseline, in the same run: a plain SQL read (one fetchall) of the pending
members' openids, the least any sync has to do.  Printed: the ratio of the
sync's time to it and the peak RSS of this process before and after the sync
(``ru_maxrss``; the sync runs before the baseline, whose fetchall of every
openid would raise the peak).
"""

import math
import os
import sys
import time
import uuid
from unittest.mock import patch

import psycopg2

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from benchlib import open_registry, peak_rss_mb  # noqa: E402
from odoo_client import from_env  # noqa: E402

N = int(os.environ.get("WM_BENCH_TAG_MEMBERS", "1000000"))
BATCH = 50

PENDING_SQL = """
    SELECT m.openid FROM wechat_member_tag_rel r JOIN wechat_member m ON m.id = r.member_id
     WHERE r.tag_id = %(tag)s AND m.state = 'follower'
       AND NOT EXISTS (SELECT 1 FROM wechat_member_tag_synced_rel s
                        WHERE s.tag_id = r.tag_id AND s.member_id = r.member_id)
    UNION ALL
    SELECT m.openid FROM wechat_member_tag_synced_rel s JOIN wechat_member m ON m.id = s.member_id
     WHERE s.tag_id = %(tag)s
       AND NOT EXISTS (SELECT 1 FROM wechat_member_tag_rel r WHERE r.tag_id = s.tag_id AND r.member_id = s.member_id)
"""


class CountingApi:
    """The WeChat API client of the bench: counts the tag calls and the openids they carry (1 to 50 a call)."""

    def __init__(self):
        self.calls = {"tags/members/batchtagging": 0, "tags/members/batchuntagging": 0}
        self.openids = dict.fromkeys(self.calls, 0)
        self.errors = []

    def post(self, path, data, **params):
        if path in self.calls:
            openids = data["openid_list"]
            self.calls[path] += 1
            self.openids[path] += len(openids)
            if not 1 <= len(openids) <= BATCH:
                self.errors.append(f"{path}: {len(openids)} openids in one call")
            return {"errcode": 0, "errmsg": "ok"}
        if path == "tags/create":
            return {"tag": {"id": 101, "name": data["tag"]["name"]}}
        raise AssertionError(f"unexpected WeChat call {path}")

    def get(self, path, **params):
        raise AssertionError(f"unexpected WeChat call {path}")


def fixture(odoo_rpc, cr):
    appid = "wx" + uuid.uuid4().hex[:16]
    # Sandbox pointed at a closed port: nothing leaves the machine (and the API is stubbed anyway).
    account_id = odoo_rpc.call(
        "wechat.account",
        "create",
        {"name": "Bench tags", "appid": appid, "appsecret": "s", "sandbox": True, "sandbox_url": "http://127.0.0.1:9"},
    )
    tag_id = odoo_rpc.call("wechat.tag", "create", {"name": "bench", "account_id": account_id})
    cr.execute("SELECT company_id FROM wechat_account WHERE id = %s", [account_id])
    company_id = cr.fetchone()[0]
    started = time.perf_counter()
    n_untag = N // 500
    # The members share 1 000 contacts: the sync never reads them, and a million contacts take minutes to insert.
    cr.execute(
        """
        WITH p AS (
            INSERT INTO res_partner (name, company_id, active, type, autopost_bills, wechat_is_member,
                                     create_date, write_date)
            SELECT 'TAG ' || g, %(company)s, true, 'contact', 'ask', true, now(), now()
              FROM generate_series(1, 1000) g
            RETURNING id
        ), partners AS (
            SELECT array_agg(id) AS ids FROM p
        ), m AS (
            INSERT INTO wechat_member (account_id, company_id, openid, partner_id, state, info_state,
                                       activity_state, create_date, write_date)
            SELECT %(account)s, %(company)s, 'oTAG' || lpad(g::text, 24, '0'), partners.ids[1 + g %% 1000],
                   CASE WHEN g %% 100 = 0 THEN 'unfollowed' ELSE 'follower' END, 'done', 'to_activate',
                   now(), now()
              FROM generate_series(1, %(n)s) g, partners
            RETURNING id
        ), wanted AS (
            INSERT INTO wechat_member_tag_rel (tag_id, member_id) SELECT %(tag)s, id FROM m
        )
        SELECT min(id), max(id) FROM m
        """,
        {"company": company_id, "n": N + n_untag, "account": account_id, "tag": tag_id},
    )
    first, __ = cr.fetchone()
    # The last n_untag members: on the WeChat tag, no longer wanted by Odoo.
    cr.execute(
        """
        WITH gone AS (
            DELETE FROM wechat_member_tag_rel WHERE tag_id = %(tag)s AND member_id >= %(from)s RETURNING member_id
        )
        INSERT INTO wechat_member_tag_synced_rel (tag_id, member_id) SELECT %(tag)s, member_id FROM gone
        """,
        {"tag": tag_id, "from": first + N},
    )
    cr.execute("UPDATE wechat_tag SET wechat_tag_id = 101 WHERE id = %s", [tag_id])
    cr.connection.commit()
    cr.connection.autocommit = True
    for table in ("res_partner", "wechat_member", "wechat_member_tag_rel", "wechat_member_tag_synced_rel"):
        cr.execute(f"VACUUM ANALYZE {table}")
    print(f"  fixture: {N} members on the tag, {n_untag} to untag, in {time.perf_counter() - started:.1f} s")
    return account_id, tag_id


def main():
    db = os.environ["WM_ODOO_DB"]
    odoo_rpc = from_env()
    conn = psycopg2.connect(dbname=db)
    cr = conn.cursor()
    print(f"tag sync of {N} members:", flush=True)
    account_id, tag_id = fixture(odoo_rpc, cr)
    cr.execute(
        """
        SELECT count(*) FROM wechat_member_tag_rel r JOIN wechat_member m ON m.id = r.member_id
         WHERE r.tag_id = %(tag)s AND m.state = 'follower'
        """,
        {"tag": tag_id},
    )
    to_tag = cr.fetchone()[0]
    cr.execute("SELECT count(*) FROM wechat_member_tag_synced_rel WHERE tag_id = %s", [tag_id])
    to_untag = cr.fetchone()[0]
    odoo, registry = open_registry(db)
    # Warm PostgreSQL's cache the same way for both timings.
    cr.execute(f"SELECT count(*) FROM ({PENDING_SQL}) t", {"tag": tag_id})
    rss_before = peak_rss_mb()

    stub = CountingApi()
    Account = registry["wechat.account"]
    with registry.cursor() as odoo_cr, patch.object(Account, "_api", lambda self: stub):
        env = odoo.api.Environment(odoo_cr, odoo.SUPERUSER_ID, {"lang": "en_US"})
        tag = env["wechat.tag"].browse(tag_id)
        started = time.perf_counter()
        calls = tag._sync_members()
        env.flush_all()
        sync_time = time.perf_counter() - started
        rss_after = peak_rss_mb()
        pending_after = tag.pending_count
        odoo_cr.rollback()

    started = time.perf_counter()
    cr.execute(PENDING_SQL, {"tag": tag_id})
    pending = len(cr.fetchall())
    sql_time = time.perf_counter() - started
    conn.close()

    expected = {
        "tags/members/batchtagging": math.ceil(to_tag / BATCH),
        "tags/members/batchuntagging": math.ceil(to_untag / BATCH),
    }
    print(f"  pending: {to_tag} to tag + {to_untag} to untag = {pending} (the baseline read)")
    for path, count in stub.calls.items():
        print(f"  {path}: {count} calls (ceil(N / 50) = {expected[path]})")
    print(f"  baseline plain SQL read of the pending openids  {sql_time:7.2f} s")
    print(
        f"  wechat.tag._sync_members                         {sync_time:7.2f} s  measured {sync_time / sql_time:.1f}x"
    )
    print(f"  peak RSS: {rss_before:.0f} MB before the sync (registry loaded), {rss_after:.0f} MB after it")
    assert pending == to_tag + to_untag, (pending, to_tag, to_untag)
    assert stub.calls == expected, (stub.calls, expected)
    assert calls == sum(expected.values()), calls
    assert stub.errors == [], stub.errors[:5]
    # Each pending member synced once: as many openids sent as members pending (the pending count is 0 after).
    assert stub.openids == {"tags/members/batchtagging": to_tag, "tags/members/batchuntagging": to_untag}
    assert pending_after == 0, pending_after


if __name__ == "__main__":
    main()
