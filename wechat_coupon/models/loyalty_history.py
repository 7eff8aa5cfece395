from odoo import fields, models

# What a points line is, beyond loyalty's own "issued by an order / used by an order".
HISTORY_KINDS = [
    ("expiry", "Points Expired"),
    ("refund", "Taken Back by a Refund"),
    ("refund_restore", "Given Back by a Refund"),
]


class LoyaltyHistory(models.Model):
    _inherit = "loyalty.history"

    # The points expiry sums a card's lines (first in, first out): found by card.
    card_id = fields.Many2one(index=True)
    wechat_kind = fields.Selection(
        HISTORY_KINDS,
        string="Kind",
        readonly=True,
        index="btree_not_null",
        help="Empty for the points an order earned or spent. Points expired (first in, first out), points a "
        "refund took back from what its original order earned, points a refund gave back that its original "
        "order had spent on a reward.",
    )
