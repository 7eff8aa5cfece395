from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestCouponNeutralize(TransactionCase):
    def test_neutralize_stops_the_automations(self):
        crons = [
            self.env.ref(f"wechat_coupon.{xmlid}")
            for xmlid in (
                "ir_cron_wechat_coupon_birthday",
                "ir_cron_wechat_coupon_winback",
                "ir_cron_wechat_coupon_expiry",
            )
        ]
        for cron in crons:
            cron.active = True
        self.env.flush_all()
        for query in get_neutralization_queries(["wechat_coupon"]):
            self.env.cr.execute(query)
        self.env.invalidate_all()
        for cron in crons:
            self.assertFalse(cron.active, cron.name)
