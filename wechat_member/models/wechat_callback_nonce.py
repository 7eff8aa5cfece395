import hashlib
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import consteq

# A callback's timestamp is accepted within 300 s either way: a nonce is kept
# longer than that window, then purged by the cron.
NONCE_KEEP = timedelta(hours=1)


class WeChatCallbackNonce(models.Model):
    """Nonces of the callback signatures already accepted (replay protection).

    WeChat retries a callback with the same URL and body: a retry is
    accepted (the event is deduplicated further on); the same signed URL
    with another body is a replay and refused.
    """

    _name = "wechat.callback.nonce"
    _description = "WeChat Callback Nonce"
    _log_access = False

    account_id = fields.Many2one("wechat.account", required=True, ondelete="cascade", index=False)
    nonce = fields.Char(required=True)
    body_hash = fields.Char(required=True)
    used_at = fields.Datetime(required=True, index=True, default=fields.Datetime.now)

    _sql_constraints = [
        ("account_nonce_uniq", "UNIQUE(account_id, nonce)", "This callback nonce was already used."),
    ]

    @api.model
    def _use(self, account, nonce, body):
        """True if ``nonce`` is new for ``account``, or was used with this very ``body`` (a WeChat retry)."""
        digest = hashlib.sha256(body or b"").hexdigest()
        self.env.cr.execute(
            """
            INSERT INTO wechat_callback_nonce (account_id, nonce, body_hash, used_at)
            VALUES (%s, %s, %s, %s)
            ON CONFLICT (account_id, nonce) DO NOTHING
            RETURNING id
            """,
            [account.id, nonce or "", digest, fields.Datetime.now()],
        )
        if self.env.cr.fetchone():
            return True
        self.env.cr.execute(
            "SELECT body_hash FROM wechat_callback_nonce WHERE account_id = %s AND nonce = %s",
            [account.id, nonce or ""],
        )
        row = self.env.cr.fetchone()
        return bool(row) and consteq(row[0], digest)

    @api.model
    def _cron_purge(self):
        self.env.cr.execute(
            "DELETE FROM wechat_callback_nonce WHERE used_at < %s", [fields.Datetime.now() - NONCE_KEEP]
        )
