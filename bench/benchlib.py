"""What the benchmarks share: Odoo's registry opened in-process, timing, interleaved batches, peak memory.

The benchmarks run as scripts (``./run bench NAME``): this folder is on their
``sys.path``, so ``from benchlib import ...`` works without a package.
"""

import os
import resource
import time


def open_registry(db):
    """``(odoo, registry)`` of ``db``, with the addons path and data dir the harness passes."""
    import odoo
    from odoo.modules.registry import Registry
    from odoo.tools import config

    args = ["--addons-path", os.environ["WM_ODOO_ADDONS"], "-d", db, "--log-level", "warn"]
    if os.environ.get("WM_ODOO_DATA_DIR"):
        args += ["--data-dir", os.environ["WM_ODOO_DATA_DIR"]]
    config.parse_config(args)
    return odoo, Registry(db)


def timed(fn):
    """``(seconds, result)`` of ``fn()``."""
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def peak_rss_mb():
    """Peak resident memory of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def interleaved(run_batch, total, batch, warmup, kinds=("members", "plain")):
    """Seconds spent per kind: ``run_batch(kind, start, count)`` for every kind, ``warmup`` orders each first
    (not timed), then ``total`` orders each in batches of ``batch``, alternating which kind goes first so
    that neither always follows the other."""
    times = dict.fromkeys(kinds, 0.0)
    for kind in kinds:
        run_batch(kind, 0, warmup)
    done = 0
    while done < total:
        count = min(batch, total - done)
        order = kinds if (done // batch) % 2 == 0 else tuple(reversed(kinds))
        for kind in order:
            times[kind] += run_batch(kind, warmup + done, count)
        done += count
    return times
