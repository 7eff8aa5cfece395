from odoo import fields, models


class LoyaltyProgram(models.Model):
    _inherit = "loyalty.program"

    wechat_stamp_card = fields.Boolean(
        "Stamp Card",
        help="A loyalty program shown to members as a stamp card (集点卡): each point is a stamp, the reward's "
        "required points are the stamps of a full card.",
    )
