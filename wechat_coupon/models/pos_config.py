from odoo import _, models


class PosConfig(models.Model):
    _inherit = "pos.config"

    def use_coupon_code(self, code, creation_date, partner_id, pricelist_id):
        """Scanning a WeChat coupon: the code shown in the member's wallet works at the till.

        Odoo only finds a coupon reserved to a customer when that customer is
        set on the order.  A WeChat coupon is shown (as a QR code) in its
        holder's wallet, and its code changes when it is forwarded: the code
        is enough, unless the order is for another customer.  A code that was
        passed on to a friend, or a used coupon, is refused with a clear
        message.
        """
        res = super().use_coupon_code(code, creation_date, partner_id, pricelist_id)
        Card = self.env["loyalty.card"].sudo()
        program_ids = self._get_program_ids().ids
        card = Card.search(
            [("program_id", "in", program_ids), ("code", "=", code), ("wechat_origin", "!=", False)], limit=1
        )
        if not res.get("successful") and card:
            if partner_id and card.partner_id and card.partner_id.id != partner_id:
                return self._wechat_coupon_refusal(_("This coupon (%(code)s) belongs to another member.", code=code))
            if not partner_id and card.partner_id:
                res = super().use_coupon_code(code, creation_date, card.partner_id.id, pricelist_id)
        if not res.get("successful") and card and (card.points <= 0 or card.wechat_redeem_order_id):
            return self._wechat_coupon_refusal(_("This coupon has already been used (%(code)s).", code=code))
        if not res.get("successful") and not card:
            transfer = self.env["wechat.coupon.transfer"].sudo().search([("old_code", "=", code)], limit=1)
            if transfer:
                return self._wechat_coupon_refusal(
                    _(
                        "This coupon was passed on to a friend: the code %(code)s is no longer valid.",
                        code=code,
                    )
                )
        return res

    def _wechat_coupon_refusal(self, message):
        return {"successful": False, "payload": {"error_message": message}}
