from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import CouponCase


@tagged("post_install", "-at_install")
class TestCouponAutomation(CouponCase):
    def automation(self, automation_type, **vals):
        values = {"name": automation_type, "automation_type": automation_type, "account_id": self.account.id,
                  "program_id": self.program.id, "days": 7}
        values.update(vals)
        return self.env["wechat.coupon.automation"].create(values)

    def test_birthday_once_a_year(self):
        automation = self.automation("birthday")
        target = fields.Date.today() + timedelta(days=7)
        member = self.make_member(window=True)
        member.partner_id.wechat_birthday = target.replace(year=1990) if not (
            target.month == 2 and target.day == 29) else target.replace(year=1992)
        other = self.make_member()
        other.partner_id.wechat_birthday = (target + timedelta(days=1)).replace(year=1990)
        before = len(self.fake.calls_to("/message/custom/send"))
        automation._cron_birthday()
        automation._cron_birthday()
        self.commit()  # notices are sent once the transaction commits
        cards = self.env["loyalty.card"].search([("wechat_automation_id", "=", automation.id)])
        self.assertEqual(cards.partner_id, member.partner_id)
        self.assertEqual(len(cards), 1, "a second run the same day gives nothing")
        self.assertEqual(cards.expiration_date, fields.Date.today() + timedelta(days=30))
        self.assertEqual(automation.log_count, 1)
        self.assertEqual(len(self.fake.calls_to("/message/custom/send")), before + 1)
        self.assertEqual(self.fake.violations, [])

    def test_winback_once_per_dormancy(self):
        automation = self.automation("winback")
        dormant = self.make_member()
        active = self.make_member()
        self.env.cr.execute(
            "UPDATE res_partner SET wechat_activity_state = 'dormant', wechat_last_purchase = %s WHERE id = %s",
            [fields.Datetime.now() - timedelta(days=120), dormant.partner_id.id],
        )
        self.env.cr.execute("UPDATE res_partner SET wechat_activity_state = 'active' WHERE id = %s",
                            [active.partner_id.id])
        self.env["res.partner"].invalidate_model(["wechat_activity_state", "wechat_last_purchase"])
        before = len(self.fake.calls_to("/message/custom/send"))
        automation._cron_winback()
        automation._cron_winback()
        self.commit()
        cards = self.env["loyalty.card"].search([("wechat_automation_id", "=", automation.id)])
        self.assertEqual(cards.partner_id, dormant.partner_id)
        self.assertEqual(len(cards), 1)
        self.assertEqual(len(self.fake.calls_to("/message/custom/send")), before, "no quota: no customer service")
        notice = self.env["wechat.notice"].search([("member_id", "=", dormant.id)])
        self.assertEqual((notice.kind_id.code, notice.state), ("winback", "digest"),
                         "a marketing notice nobody else can carry waits for the daily digest")

    def test_expiry_reminder_once_per_coupon(self):
        automation = self.automation("expiry", program_id=False, days=3)
        self.account.budget_per_week = 0  # the campaigns' notices would use up the weekly budget
        member = self.make_member(window=True)
        soon = self.make_campaign(member, expiration_date=fields.Date.today() + timedelta(days=3))
        soon.action_issue()
        later = self.make_campaign(member, name="Later", expiration_date=fields.Date.today() + timedelta(days=20))
        later.action_issue()
        self.commit()
        before = len(self.fake.calls_to("/message/custom/send"))
        automation._cron_expiry_reminder()
        automation._cron_expiry_reminder()
        self.commit()
        sends = self.fake.calls_to("/message/custom/send")[before:]
        self.assertEqual(len(sends), 1)
        expiry = fields.Date.to_string(fields.Date.today() + timedelta(days=3))
        self.assertIn(expiry, sends[0]["body"]["text"]["content"])
        self.assertEqual(automation.log_ids.card_id, soon.card_ids)
        self.assertEqual(self.fake.violations, [])
