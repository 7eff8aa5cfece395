from datetime import timedelta

from odoo import fields, models

# WeChat keeps a temporary media 3 days; a cached media_id is reused a little less long.
MEDIA_CACHE_DAYS = timedelta(days=3) - timedelta(hours=1)


class WeChatMedia(models.Model):
    """A file uploaded to WeChat as temporary media (``media/upload``), by content: the same image sent again
    within 3 days reuses its ``media_id``."""

    _name = "wechat.media"
    _description = "WeChat Uploaded Media"
    _order = "id desc"

    account_id = fields.Many2one("wechat.account", required=True, ondelete="cascade", index=True, readonly=True)
    checksum = fields.Char(required=True, readonly=True)
    media_type = fields.Char(required=True, readonly=True)
    media_id = fields.Char("Media ID", required=True, readonly=True)
    uploaded_at = fields.Datetime(required=True, readonly=True)

    _sql_constraints = [
        ("account_checksum_uniq", "UNIQUE(account_id, checksum, media_type)", "This file is already uploaded."),
    ]

    def _cached(self, account, checksum, media_type):
        """The media_id WeChat still keeps for this content, or None."""
        media = self.sudo().search(
            [
                ("account_id", "=", account.id),
                ("checksum", "=", checksum),
                ("media_type", "=", media_type),
                ("uploaded_at", ">", fields.Datetime.now() - MEDIA_CACHE_DAYS),
            ],
            limit=1,
        )
        return media.media_id or None

    def _store(self, account, checksum, media_type, media_id):
        vals = {"media_id": media_id, "uploaded_at": fields.Datetime.now()}
        Media = self.sudo()
        media = Media.search(
            [("account_id", "=", account.id), ("checksum", "=", checksum), ("media_type", "=", media_type)], limit=1
        )
        if media:
            media.write(vals)
        else:
            Media.create(dict(vals, account_id=account.id, checksum=checksum, media_type=media_type))
