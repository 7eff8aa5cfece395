from odoo import api, fields, models


class WeChatNoticeOptin(models.Model):
    """One accepted one-time subscribe notice (订阅通知): allows one ``message/subscribe/bizsend``.

    Written by the server from WeChat's signed ``subscribe_msg_popup_event``
    (never from the page: a page could claim any opt-in); consumed by the
    notice router when it sends a subscribe notice of that template.
    """

    _name = "wechat.notice.optin"
    _description = "WeChat Subscribe Notice Opt-in"
    _order = "id desc"

    account_id = fields.Many2one("wechat.account", required=True, ondelete="cascade", index=True, readonly=True)
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    member_id = fields.Many2one("wechat.member", required=True, ondelete="cascade", index=True, readonly=True)
    template_id = fields.Char("WeChat Template ID", required=True, index=True, readonly=True)
    state = fields.Selection(
        [("available", "Available"), ("used", "Used")], default="available", required=True, index=True, readonly=True
    )
    date = fields.Datetime("Accepted On", default=fields.Datetime.now, required=True, readonly=True)
    used_date = fields.Datetime(readonly=True)
    notice_id = fields.Many2one("wechat.notice", ondelete="set null", readonly=True)
    event_id = fields.Many2one("wechat.event", ondelete="set null", readonly=True)

    @api.model
    def _record(self, member, template_ids, event=None):
        """Record the member's accepts (one row per accepted template)."""
        return self.sudo().create(
            [
                {
                    "account_id": member.account_id.id,
                    "member_id": member.id,
                    "template_id": template_id,
                    "event_id": event.id if event else False,
                }
                for template_id in template_ids
            ]
        )

    @api.model
    def _withdraw(self, member, template_ids):
        """The member refused these templates in WeChat's settings: their opt-ins are gone."""
        self.sudo().search(
            [
                ("member_id", "=", member.id),
                ("template_id", "in", list(template_ids)),
                ("state", "=", "available"),
            ]
        ).unlink()
