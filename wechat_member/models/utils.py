import logging

from odoo import SUPERUSER_ID, api

_logger = logging.getLogger(__name__)


def call_after_commit(env, model, method, items):
    """Call ``env[model].<method>(queued items)`` once the current transaction commits.

    For WeChat messages about what the transaction did (points credited, a
    thank-you after a sale): nothing is sent when it rolls back.  Items
    queued by the same transaction for the same method are handled in one
    call, as superuser, on a cursor of its own; an error is logged, never
    raised, since the caller's work is already saved.
    """
    postcommit = env.cr.postcommit
    queue = postcommit.data.setdefault(f"wechat_after_commit:{model}.{method}", [])
    if not queue:
        registry = env.registry

        @postcommit.add
        def call_queued():
            try:
                with registry.cursor() as cr:
                    getattr(api.Environment(cr, SUPERUSER_ID, {})[model], method)(queue)
            except Exception:  # noqa: BLE001 - after the commit: log only
                _logger.exception("%s.%s after commit failed for %s", model, method, queue)

    queue.extend(items)
