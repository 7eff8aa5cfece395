import base64
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..const import CHANNEL_TYPES
from ..tools.qr_code import qr_png

MAX_TEMPORARY_DAYS = 30


class WeChatQrChannel(models.Model):
    _name = "wechat.qr.channel"
    _description = "WeChat QR Channel"
    _order = "account_id, sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    account_id = fields.Many2one("wechat.account", required=True, ondelete="cascade", index=True, check_company=True)
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    channel_type = fields.Selection(
        CHANNEL_TYPES,
        string="Type",
        required=True,
        default="store",
    )
    pos_config_id = fields.Many2one("pos.config", string="Store (POS)", check_company=True, index=True)
    user_id = fields.Many2one("res.users", string="Staff Member")
    scene = fields.Char(
        required=True,
        copy=False,
        readonly=True,
        default=lambda self: self.env["ir.sequence"].sudo().next_by_code("wechat.qr.channel.scene"),
        help="The QR scene string (1–64 characters) WeChat sends back when someone scans or follows.",
    )
    qr_type = fields.Selection(
        [("permanent", "Permanent"), ("temporary", "Temporary")], string="QR Type", default="permanent", required=True
    )
    expire_days = fields.Integer("Valid (days)", default=MAX_TEMPORARY_DAYS)
    ticket = fields.Char(readonly=True, copy=False)
    qr_url = fields.Char("QR Content", readonly=True, copy=False)
    qr_expires_at = fields.Datetime("QR Expires", readonly=True, copy=False)
    qr_image = fields.Binary("QR Code", attachment=True, readonly=True, copy=False)
    welcome_message = fields.Text(
        translate=True, help="Reply to a follow or scan through this QR (else the account's welcome message)."
    )
    scan_count = fields.Integer("Scans", compute="_compute_counts")
    follow_count = fields.Integer("Follows", compute="_compute_counts")
    member_count = fields.Integer("Members", compute="_compute_counts")

    _sql_constraints = [
        ("account_scene_uniq", "UNIQUE(account_id, scene)", "This QR scene is already used on this account."),
    ]

    @api.constrains("qr_type", "expire_days")
    def _check_expire_days(self):
        for channel in self:
            if channel.qr_type == "temporary" and not 1 <= channel.expire_days <= MAX_TEMPORARY_DAYS:
                raise ValidationError(_("A temporary WeChat QR code is valid for 1 to 30 days."))

    @api.constrains("scene")
    def _check_scene(self):
        for channel in self:
            if not 1 <= len(channel.scene or "") <= 64:
                raise ValidationError(_("A QR scene has 1 to 64 characters."))

    def _compute_counts(self):
        events = self.env["wechat.event"]._read_group(
            [("channel_id", "in", self.ids), ("event", "in", ("subscribe", "SCAN"))],
            ["channel_id", "event"],
            ["__count"],
        )
        counts = {(channel.id, event): count for channel, event, count in events}
        members = dict(
            self.env["wechat.member"]._read_group([("channel_id", "in", self.ids)], ["channel_id"], ["__count"])
        )
        for channel in self:
            follows = counts.get((channel.id, "subscribe"), 0)
            channel.follow_count = follows
            channel.scan_count = follows + counts.get((channel.id, "SCAN"), 0)
            channel.member_count = members.get(channel, 0)

    def action_generate_qr(self):
        """Ask WeChat for the QR ticket and render the image locally from the returned URL."""
        for channel in self:
            permanent = channel.qr_type == "permanent"
            res = channel.account_id._api().qrcode_create(
                channel.scene, permanent=permanent, expire_seconds=channel.expire_days * 86400
            )
            if not res.get("url"):
                raise UserError(_("WeChat returned no QR code for %(channel)s.", channel=channel.name))
            expires = res.get("expire_seconds")
            channel.write(
                {
                    "ticket": res.get("ticket"),
                    "qr_url": res["url"],
                    "qr_expires_at": fields.Datetime.now() + timedelta(seconds=int(expires)) if expires else False,
                    "qr_image": base64.b64encode(qr_png(res["url"])),
                }
            )
        return True

    def action_view_events(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("wechat_member.wechat_event_action_follows")
        action["domain"] = [("channel_id", "=", self.id)]
        return action

    def action_print_poster(self):
        missing = self.filtered(lambda c: not c.qr_image)
        if missing:
            missing.action_generate_qr()
        return self.env.ref("wechat_member.action_report_wechat_qr_poster").report_action(self)

    def _member_came(self, member, created):
        """``member`` followed or scanned through this channel (``created``: it made them a member).  A hook:
        other modules give what the channel gives (``wechat_coupon``: the stamp card it starts)."""
        self.ensure_one()
        return True

    def _welcome_text(self, default=""):
        """What a follow or a scan through this channel is answered: its welcome (``default`` when it has
        none), and for a store's door QR a link to the store's page (hours, phone, directions)."""
        text = (self.welcome_message if self else "") or default or ""
        store = self.sudo().pos_config_id
        if store and store.wechat_store_published and store.wechat_account_id == self.account_id:
            link = f'<a href="{store._wechat_store_url()}">{store.name}</a>'
            text = "\n".join(part for part in (text, _("Your store: %(link)s", link=link)) if part)
        return text

    @api.model
    def _from_scene(self, account, scene):
        if not scene:
            return self.browse()
        return self.with_context(active_test=False).search(
            [("account_id", "=", account.id), ("scene", "=", scene)], limit=1
        )
