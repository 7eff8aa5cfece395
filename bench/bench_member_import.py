"""Importing an old member base: the Import Members wizard vs a plain INSERT of the same partners.

Run with ``./run bench member_import`` (WM_BENCH_IMPORT_ROWS, default 50 000).
Goal: the first import of the file in at most 60 s; the second run of the
same file changes nothing ("0 created, 0 updated").

The harness runs this on a database of its own, dropped and re-created at
each run (``wm_bench_import``).  The file is a GBK CSV, as Chinese Excel
saves it: phone (mixed formats: plain, +86, spaces, dashes), name,
birthday, member number and points; 1 row in 100 has a bad phone and 1 in
100 repeats an earlier phone, so the validation and duplicate paths are
timed too.  The wizard is created and run over JSON-RPC, as a manager does
it from the form (file upload included), with a loyalty program that
receives the points (a card and a history line per member).

Baseline, measured in the same run and rolled back: one ``INSERT INTO
res_partner … SELECT … FROM unnest(…)`` of the same valid rows (name,
phone, birthday, member code, company), the parameters built beforehand.
"""

import base64
import os
import random
import sys
import uuid

import psycopg2

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from benchlib import timed  # noqa: E402
from odoo_client import from_env  # noqa: E402

N = int(os.environ.get("WM_BENCH_IMPORT_ROWS", "50000"))
GOAL = 60.0
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"


def build_file(tag):
    rng = random.Random(42)
    lines = ["手机号,姓名,生日,会员号,积分"]
    valid = []
    for i in range(N):
        digits = f"13{i % 7 + 3}{i:08d}"
        if i % 100 == 37:
            phone = f"12{i:09d}"  # not a mobile: an error
        elif i % 100 == 71 and valid:
            digits = valid[rng.randrange(len(valid))][0]  # repeats an earlier phone: a duplicate
            phone = digits
        else:
            phone = (
                digits,
                f"+86 {digits[:3]} {digits[3:7]} {digits[7:]}",
                f"{digits[:3]}-{digits[3:7]}-{digits[7:]}",
                f"+86{digits}",
            )[i % 4]
        name = SURNAMES[i % len(SURNAMES)] + f"会员{i}"
        birthday = f"{1960 + i % 45}-{i % 12 + 1:02d}-{i % 28 + 1:02d}"
        code = f"{tag}{i:06d}"
        points = str(i % 500)
        lines.append(",".join((phone, name, birthday, code, points)))
        if i % 100 not in (37, 71):
            valid.append((digits, name, birthday, code))
    return "\r\n".join(lines).encode("gbk"), valid


def main():
    odoo = from_env()
    conn = psycopg2.connect(dbname=os.environ["WM_ODOO_DB"])
    cr = conn.cursor()
    tag = "IMP" + uuid.uuid4().hex[:5].upper()
    data, valid = build_file(tag)
    print(f"importing {N} rows ({len(data) / 1e6:.1f} MB GBK CSV, {len(valid)} valid members):", flush=True)
    cr.execute("SELECT company_id FROM res_users WHERE login = 'admin'")
    company_id = cr.fetchone()[0]

    # 1. Baseline: a plain INSERT of the same valid partners, rolled back.
    def raw():
        cr.execute(
            """
            INSERT INTO res_partner (name, phone, wechat_birthday, wechat_member_code, company_id, active, type,
                                     autopost_bills, create_date, write_date)
            SELECT n, '+86' || p, b::date, c, %s, true, 'contact', 'ask', now(), now()
              FROM unnest(%s::varchar[], %s::varchar[], %s::varchar[], %s::varchar[]) AS t(p, n, b, c)
            """,
            [company_id, [v[0] for v in valid], [v[1] for v in valid], [v[2] for v in valid], [v[3] for v in valid]],
        )

    floor, __ = timed(raw)
    conn.rollback()
    print(f"  plain INSERT (baseline)    {floor:8.2f} s", flush=True)

    program = odoo.call("loyalty.program", "create", {"name": f"Old points {tag}", "program_type": "loyalty"})
    payload = base64.b64encode(data).decode()

    def run():
        wizard = odoo.call(
            "wechat.member.import", "create", {"file": payload, "filename": "members.csv", "program_id": program}
        )
        odoo.call("wechat.member.import", "action_import", [wizard])
        return odoo.call(
            "wechat.member.import",
            "read",
            [wizard],
            ["created_count", "updated_count", "unchanged_count", "duplicate_count", "error_count", "summary"],
        )[0]

    first, r1 = timed(run)
    print(f"  import, first run          {first:8.2f} s   {r1['summary']}", flush=True)
    second, r2 = timed(run)
    print(f"  import, second run         {second:8.2f} s   {r2['summary']}", flush=True)
    cr.execute(
        "SELECT count(*), count(DISTINCT c.id) FROM loyalty_card c JOIN loyalty_history h ON h.card_id = c.id "
        "WHERE c.program_id = %s",
        [program],
    )
    history, cards = cr.fetchone()
    conn.rollback()
    assert r1["created_count"] == len(valid), r1
    assert (r2["created_count"], r2["updated_count"]) == (0, 0), r2
    assert history == cards, (history, cards)

    print(f"importing {N} rows, ratios:")
    print(f"  plain INSERT (baseline)    {floor:8.2f} s")
    print(
        f"  import, first run          {first:8.2f} s   {first / floor:6.1f}x the plain INSERT   "
        f"goal <= {GOAL:.0f} s: {'met' if first <= GOAL else 'NOT met'}"
    )
    print(
        f"  import, second run         {second:8.2f} s   {second / floor:6.1f}x the plain INSERT   "
        f"goal <= {GOAL:.0f} s: {'met' if second <= GOAL else 'NOT met'}; "
        f"{r2['created_count']} created, {r2['updated_count']} updated"
    )
    print(f"  {cards} loyalty cards, {history} history lines")
    conn.close()


if __name__ == "__main__":
    main()
