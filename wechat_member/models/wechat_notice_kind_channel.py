from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .wechat_notice_kind import CATEGORY_CHANNELS, CHANNELS


class WeChatNoticeKindChannel(models.Model):
    _name = "wechat.notice.kind.channel"
    _description = "WeChat Notice Channel"
    _order = "sequence, id"

    kind_id = fields.Many2one("wechat.notice.kind", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer(default=10)
    channel = fields.Selection(CHANNELS, required=True)

    _sql_constraints = [("kind_channel_uniq", "UNIQUE(kind_id, channel)", "A channel is listed once per kind.")]

    @api.constrains("channel", "kind_id")
    def _check_channel(self):
        for line in self:
            kind = line.kind_id
            if line.channel not in CATEGORY_CHANNELS[kind.category]:
                raise ValidationError(
                    _(
                        "%(channel)s cannot carry %(kind)s notices: template messages are for transactional notices "
                        "only, and the daily digest is for marketing.",
                        channel=dict(CHANNELS)[line.channel],
                        kind=kind.name,
                    )
                )
            if line.channel == "cs" and kind.no_cs:
                raise ValidationError(
                    _("WeChat opens no customer-service window for %(kind)s notices.", kind=kind.name)
                )
