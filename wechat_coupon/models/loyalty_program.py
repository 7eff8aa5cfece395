from odoo import api, fields, models


class LoyaltyProgram(models.Model):
    _inherit = "loyalty.program"

    wechat_stamp_card = fields.Boolean(
        "Stamp Card",
        help="A loyalty program shown to members as a stamp card (集点卡): each point is a stamp, the reward's "
        "required points are the stamps of a full card.",
    )

    @api.model
    def _load_pos_data_fields(self, config_id):
        return super()._load_pos_data_fields(config_id) + ["wechat_stamp_card"]
