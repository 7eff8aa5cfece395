from datetime import timedelta

from odoo import api, fields, models

# After this many refused OAuth codes from one address within the window, the
# address is answered 429 until the window has passed.
MAX_FAILURES = 5
WINDOW = timedelta(minutes=10)


class WeChatOAuthFailure(models.Model):
    """OAuth codes WeChat refused, per client address (throttles code guessing on the member pages)."""

    _name = "wechat.oauth.failure"
    _description = "WeChat OAuth Failure"
    _log_access = False

    ip = fields.Char(required=True, index=True)
    used_at = fields.Datetime(required=True, index=True, default=fields.Datetime.now)

    @api.model
    def _throttled(self, ip):
        self.env.cr.execute(
            "SELECT COUNT(*) FROM wechat_oauth_failure WHERE ip = %s AND used_at > %s",
            [ip or "", fields.Datetime.now() - WINDOW],
        )
        return self.env.cr.fetchone()[0] >= MAX_FAILURES

    @api.model
    def _record(self, ip):
        self.env.cr.execute(
            "INSERT INTO wechat_oauth_failure (ip, used_at) VALUES (%s, %s)", [ip or "", fields.Datetime.now()]
        )

    @api.model
    def _cron_purge(self):
        self.env.cr.execute("DELETE FROM wechat_oauth_failure WHERE used_at < %s", [fields.Datetime.now() - WINDOW])
