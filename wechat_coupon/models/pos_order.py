from odoo import _, api, models
from odoo.exceptions import UserError

from odoo.addons.wechat_member.models.pos_order import CONFIRMED_METHODS


class PosOrder(models.Model):
    _inherit = "pos.order"

    def validate_coupon_programs(self, point_changes, new_codes):
        """Refuse used, expired, other company's or unknown coupons, with the card rows locked."""
        Card = self.env["loyalty.card"]
        error = Card._wechat_redemption_error(point_changes or {}, self.company_id[:1] or self.env.company)
        if error:
            ids = [int(k) for k in (point_changes or {})]
            cards = Card.sudo().browse(ids).exists()
            return {
                "successful": False,
                "payload": {
                    "message": error,
                    "updated_points": {c.id: c.points for c in cards},
                    "removed_coupons": list(set(ids) - set(cards.ids)),
                },
            }
        return super().validate_coupon_programs(point_changes, new_codes)

    def confirm_coupon_programs(self, coupon_data):
        """Spend the coupons once: lock the cards, re-check them, then let pos_loyalty deduct the points.

        Two tills confirming one coupon at once: the second waits for the
        first one's lock and is then refused (already used).
        """
        changes = {
            int(k): v.get("points", 0) for k, v in (coupon_data or {}).items() if int(k) > 0 and isinstance(v, dict)
        }
        Card = self.env["loyalty.card"]
        error = Card._wechat_redemption_error(changes, self.company_id[:1] or self.env.company)
        if error:
            raise UserError(error)
        res = super().confirm_coupon_programs(coupon_data)
        spent = Card.sudo().browse([k for k, v in changes.items() if v < 0]).exists()
        wechat_cards = spent.filtered("wechat_origin")
        if wechat_cards and self:
            wechat_cards.write({"wechat_redeem_order_id": self[:1].id})
            wechat_cards.wechat_campaign_id._update_statistics()
        return res

    @api.model
    def _wechat_check_spending(self, order):
        """A reward paid with the points of a customer's own card (loyalty, eWallet: the cards the POS loads
        because the customer is set) needs the customer identified: their dynamic code, or the cashier's
        confirmation (masked name and last 4 phone digits).  A coupon scanned from the wallet is proof of its
        own (its code)."""
        super()._wechat_check_spending(order)
        if order.get("wechat_bind_method") in CONFIRMED_METHODS:
            return
        card_ids = {
            vals.get("coupon_id")
            for command in order.get("lines") or []
            if isinstance(command, list | tuple)
            and len(command) == 3
            and isinstance(vals := command[2], dict)
            and vals.get("is_reward_line")
            and (vals.get("points_cost") or 0) > 0
            and isinstance(vals.get("coupon_id"), int)
            and vals["coupon_id"] > 0
        }
        if not card_ids:
            return
        cards = self.env["loyalty.card"].sudo().browse(card_ids).exists()
        own = cards.filtered(lambda card: card.partner_id and card.program_id.is_nominative)
        if own:
            raise UserError(
                _(
                    "The points of %(customer)s cannot be spent: the customer was not confirmed. Confirm the customer "
                    "(name and last 4 phone digits) or scan their dynamic member code, then validate the order again.",
                    customer=own[0].partner_id.display_name,
                )
            )
