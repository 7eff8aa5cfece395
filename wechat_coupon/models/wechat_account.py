from odoo import models


class WeChatAccount(models.Model):
    _inherit = "wechat.account"

    def _wechat_coupon_wallet_url(self):
        self.ensure_one()
        return f"{self.get_base_url()}/wechat/coupons/{self.id}"

    def _wechat_coupon_claim_url(self, campaign):
        self.ensure_one()
        return f"{self.get_base_url()}/wechat/coupons/{self.id}/claim/{campaign.id}"
