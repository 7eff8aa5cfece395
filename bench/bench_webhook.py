"""Webhook throughput: signed WeChat events per second per worker, and p99 latency.

Run with ``./run bench`` (Odoo served with --workers=2 on a database of its own).
The baseline, measured in the same run against the same server, is Odoo's
``/web/health`` (the cheapest request Odoo serves): the figures are printed as
ratios to it, so they compare across machines.  The baseline and the events
are measured in turns (``WM_BENCH_ROUNDS`` rounds of baseline, follows and
two texts of each new follower: the first one creates the member's contact,
which the follow leaves to the member's first read): a machine that slows
down or speeds up during the run (a shared virtual machine) changes every
measure of a round alike; the ratio printed is the median of the rounds'
ratios, each round's beside it.
"""

import concurrent.futures
import os
import statistics
import sys
import time
import uuid

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from fakewechat import FakeWeChat  # noqa: E402
from odoo_client import from_env  # noqa: E402

WORKERS = int(os.environ.get("WM_BENCH_WORKERS", "2"))
CONCURRENCY = WORKERS * 2
N = int(os.environ.get("WM_BENCH_EVENTS", "400"))
ROUNDS = int(os.environ.get("WM_BENCH_ROUNDS", "4"))


def timed(fn, items):
    latencies = []

    def one(item):
        started = time.perf_counter()
        fn(item)
        latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(one, items))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "per_s": len(items) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def main():
    odoo = from_env()
    fake = FakeWeChat().start()
    try:
        appid = "wx" + uuid.uuid4().hex[:16]
        account_id = odoo.call(
            "wechat.account",
            "create",
            {
                "name": "Bench",
                "appid": appid,
                "appsecret": "s",
                "callback_token": "benchtoken",
                "sandbox": True,
                "sandbox_url": fake.url,
                "timeout": 5,
            },
        )
        acc = fake.add_account(
            appid=appid, secret="s", token="benchtoken", webhook_url=f"{odoo.url}/wechat/callback/{account_id}"
        )
        sim = fake.simulator(appid)
        session = requests.Session()
        health = f"{odoo.url}/web/health"

        def ok(result):
            if not result.ok:
                raise RuntimeError(f"webhook failed: {result.status_code} {result.error}")

        # Warm up every worker.
        for __ in range(20):
            session.get(health, timeout=10)
        warm = [acc.add_nonfollower() for __ in range(10)]
        for openid in warm:
            ok(sim.follow(openid=openid))

        per_round = max(1, N // ROUNDS)
        rounds = []
        newcomers = []
        for __ in range(ROUNDS):
            base = timed(lambda __: session.get(health, timeout=10).raise_for_status(), range(per_round))
            batch = [acc.add_nonfollower() for __ in range(per_round)]
            follows = timed(lambda o: ok(sim.follow(openid=o)), batch)
            # The first message after the follow reads the member: its contact is created then.
            texts = timed(lambda o: ok(sim.text(o, "积分")), batch)
            again = timed(lambda o: ok(sim.text(o, "积分")), batch)
            rounds.append({"base": base, "follow": follows, "text": texts, "again": again})
            newcomers += batch
        assert odoo.call("wechat.member", "search_count", [("account_id", "=", account_id)]) == len(newcomers) + len(
            warm
        )

        def median(name, key):
            return statistics.median(r[name][key] for r in rounds)

        print(
            f"webhook benchmark: {ROUNDS} rounds of {per_round} requests each, {WORKERS} Odoo workers, "
            f"{CONCURRENCY} concurrent clients (medians of the rounds)"
        )
        print(f"{'':26}{'req/s':>9}{'per worker':>12}{'p50 ms':>9}{'p99 ms':>9}{'vs baseline':>13}  rounds")
        for name, label in (
            ("base", "baseline GET /web/health"),
            ("follow", "follow (new member)"),
            ("text", "text 积分, first (+ contact)"),
            ("again", "text 积分, next"),
        ):
            ratios = [r["base"]["per_s"] / r[name]["per_s"] for r in rounds]
            per_s = median(name, "per_s")
            print(
                f"{label:26}{per_s:9.1f}{per_s / WORKERS:12.1f}{median(name, 'p50_ms'):9.1f}"
                f"{median(name, 'p99_ms'):9.1f}{statistics.median(ratios):12.2f}x  "
                + " ".join(f"{ratio:.2f}" for ratio in ratios)
            )
        print("(vs baseline: how many times slower than Odoo's cheapest request)")
        assert fake.violations == [], fake.violations
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
