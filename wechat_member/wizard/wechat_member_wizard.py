from odoo import _, fields, models
from odoo.exceptions import UserError


class WeChatMemberWizard(models.TransientModel):
    """The Action-menu wizards on members: message, tags, segment."""

    _name = "wechat.member.wizard"
    _inherit = ["wechat.member.selection.mixin"]
    _description = "WeChat Member Action"

    action = fields.Selection(
        [
            ("message", "Send WeChat message"),
            ("add_tag", "Add tag"),
            ("remove_tag", "Remove tag"),
            ("segment", "Add to segment"),
        ],
        required=True,
        default="message",
    )
    message = fields.Text()
    tag_id = fields.Many2one("wechat.tag", domain="[('account_id', '=', account_id)]")
    segment_id = fields.Many2one("wechat.segment", domain="[('account_id', '=', account_id)]")

    def action_apply(self):
        self.ensure_one()
        if len(self.member_ids.account_id) > 1:
            raise UserError(_("Choose members of one WeChat account at a time."))
        return getattr(self, f"_apply_{self.action}")()

    def _notify(self, message, kind="success"):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": kind,
                "message": message,
                "sticky": kind != "success",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _apply_message(self):
        """Customer-service text: only members with WeChat's quota left (their message, a follow, scan or click)."""
        if not (self.message or "").strip():
            raise UserError(_("Write the message first."))
        sent, errors = self.member_ids._send_service_text(self.message)
        failed = [f"{member.display_name}: {exc}" for member, exc in errors.items()]
        skipped = len(self.member_ids) - len(sent) - len(failed)
        message = _(
            "%(sent)s sent, %(skipped)s not reachable now (no customer-service quota, or unfollowed).",
            sent=len(sent),
            skipped=skipped,
        )
        if failed:
            message += "\n" + "\n".join(failed)
        return self._notify(message, "warning" if failed or skipped else "success")

    def _apply_add_tag(self):
        if not self.tag_id:
            raise UserError(_("Choose a tag."))
        self.tag_id.member_ids = [(4, m.id) for m in self.member_ids]
        return self._notify(
            _(
                "Tag %(tag)s added to %(count)s members; sync to send it to WeChat.",
                tag=self.tag_id.name,
                count=len(self.member_ids),
            )
        )

    def _apply_remove_tag(self):
        if not self.tag_id:
            raise UserError(_("Choose a tag."))
        self.tag_id.member_ids = [(3, m.id) for m in self.member_ids]
        return self._notify(
            _("Tag %(tag)s removed from %(count)s members.", tag=self.tag_id.name, count=len(self.member_ids))
        )

    def _apply_segment(self):
        if not self.segment_id:
            raise UserError(_("Choose a segment."))
        self.segment_id.extra_member_ids = [(4, m.id) for m in self.member_ids]
        return self._notify(
            _("%(count)s members added to %(segment)s.", count=len(self.member_ids), segment=self.segment_id.name)
        )
