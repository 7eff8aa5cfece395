from odoo import api, fields, models


class PosConfig(models.Model):
    _inherit = "pos.config"

    def _default_wechat_account(self):
        # The company's first account, also for a POS manager who does not manage WeChat.
        account = (
            self.env["wechat.account"]
            .sudo()
            .search([("company_id", "=", self.env.company.id)], order="sequence, id", limit=1)
        )
        return account.id

    wechat_account_id = fields.Many2one(
        "wechat.account",
        string="WeChat Account",
        default=_default_wechat_account,
        check_company=True,
        help="The WeChat service account of this store: receipts and the customer display invite customers who "
        "do not follow it yet.",
    )
    wechat_cs_user_ids = fields.Many2many(
        "res.users",
        "pos_config_wechat_cs_user_rel",
        "config_id",
        "user_id",
        string="Customer Service Staff",
        domain=lambda self: [("groups_id", "in", self.env.ref("wechat_member.group_wechat_customer_service").id)],
        help="The users of the WeChat customer-service group who answer this store's members first.",
    )
    wechat_cs_manager_id = fields.Many2one(
        "res.users",
        string="Customer Service Manager",
        help="Gets an activity when a member's WeChat message waits too long for a reply.",
    )
    wechat_follow_channel_id = fields.Many2one(
        "wechat.qr.channel",
        string="Follow QR Channel",
        compute="_compute_wechat_follow",
        help="The store's QR channel (a channel of this point of sale with a generated QR code).",
    )
    wechat_follow_qr = fields.Char(
        "Follow QR Image",
        compute="_compute_wechat_follow",
        help="Technical: the follow QR code of the store as a data URL, shown on receipts and the customer display.",
    )

    @api.depends("wechat_account_id")
    def _wechat_store_address(self):
        """The store's address on one line: its warehouse's address (Inventory), else its company's."""
        self.ensure_one()
        partner = self.sudo().picking_type_id.warehouse_id.partner_id or self.sudo().company_id.partner_id
        return ", ".join(
            part
            for part in (partner.state_id.name, partner.city, partner.street, partner.street2, partner.phone)
            if part
        )

    def _compute_wechat_follow(self):
        Channel = self.env["wechat.qr.channel"].sudo()
        channels = Channel.search([("pos_config_id", "in", self.ids), ("qr_image", "!=", False)], order="sequence, id")
        for config in self:
            mine = channels.filtered(lambda c, cfg=config: c.pos_config_id.id == cfg.id)
            account = config.sudo().wechat_account_id
            channel = mine.filtered(lambda c, a=account: c.account_id == a)[:1] if account else mine[:1]
            config.wechat_follow_channel_id = channel
            config.wechat_follow_qr = "data:image/png;base64," + channel.qr_image.decode() if channel else False

    @api.model
    def _load_pos_data_fields(self, config_id):
        params = super()._load_pos_data_fields(config_id)
        if params:  # an empty list loads every field
            params += ["wechat_account_id", "wechat_follow_qr"]
        return params
