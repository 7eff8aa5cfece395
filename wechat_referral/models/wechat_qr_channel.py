from odoo import fields, models


class WeChatQrChannel(models.Model):
    _inherit = "wechat.qr.channel"

    referrer_member_id = fields.Many2one(
        "wechat.member",
        string="Referrer",
        readonly=True,
        index="btree_not_null",
        ondelete="cascade",
        help="The member whose personal referral QR code this is: friends following through it are attributed "
        "to them.",
    )

    def init(self):
        res = super().init()
        # One personal referral QR per member.
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS wechat_qr_channel_referrer_uniq
                ON wechat_qr_channel (referrer_member_id) WHERE referrer_member_id IS NOT NULL
            """
        )
        return res
