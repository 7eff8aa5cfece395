from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged

from .common import CouponCase


@tagged("post_install", "-at_install")
class TestCouponAutomation(CouponCase):
    def automation(self, automation_type, **vals):
        values = {
            "name": automation_type,
            "automation_type": automation_type,
            "account_id": self.account.id,
            "program_id": self.program.id,
            "days": 7,
        }
        values.update(vals)
        return self.env["wechat.coupon.automation"].create(values)

    def test_birthday_once_a_year(self):
        automation = self.automation("birthday")
        target = self.account.company_id._wechat_today() + timedelta(days=7)
        member = self.make_member(window=True)
        member.partner_id.wechat_birthday = (
            target.replace(year=1990) if not (target.month == 2 and target.day == 29) else target.replace(year=1992)
        )
        other = self.make_member()
        other.partner_id.wechat_birthday = (target + timedelta(days=1)).replace(year=1990)
        before = len(self.fake.calls_to("/message/custom/send"))
        automation._cron_birthday()
        automation._cron_birthday()
        self.commit()  # notices are sent once the transaction commits
        cards = self.env["loyalty.card"].search([("wechat_automation_id", "=", automation.id)])
        self.assertEqual(cards.partner_id, member.partner_id)
        self.assertEqual(len(cards), 1, "a second run the same day gives nothing")
        self.assertEqual(cards.expiration_date, self.account.company_id._wechat_today() + timedelta(days=30))
        self.assertEqual(automation.log_count, 1)
        self.assertEqual(len(self.fake.calls_to("/message/custom/send")), before + 1)
        self.assertEqual(self.fake.violations, [])

    def test_birthday_is_the_shops_day(self):
        """At 20:00 UTC on 1 December it is already 2 December in Shanghai: the nightly run of a cron user in
        Brussels (where it is still the 1st) gives the coupon of those born on 9 December (2 + 7 days)."""
        self.env.user.tz = "Europe/Brussels"
        self.account.company_id.partner_id.tz = "Asia/Shanghai"
        automation = self.automation("birthday")
        shanghai = self.make_member()
        shanghai.partner_id.wechat_birthday = "1990-12-09"
        server = self.make_member()
        server.partner_id.wechat_birthday = "1990-12-08"
        with freeze_time("2026-12-01 20:00:00"):
            self.assertEqual(str(self.account.company_id._wechat_today()), "2026-12-02")
            automation._cron_birthday()
        cards = self.env["loyalty.card"].search([("wechat_automation_id", "=", automation.id)])
        self.assertEqual(cards.partner_id, shanghai.partner_id)
        self.assertEqual(str(cards.expiration_date), "2027-01-01", "30 days from the shop's today")
        self.assertEqual(self.fake.violations, [])

    def test_winback_once_per_dormancy(self):
        automation = self.automation("winback")
        dormant = self.make_member()
        active = self.make_member()
        self.env.cr.execute(
            "UPDATE res_partner SET wechat_activity_state = 'dormant', wechat_last_purchase = %s WHERE id = %s",
            [fields.Datetime.now() - timedelta(days=120), dormant.partner_id.id],
        )
        self.env.cr.execute(
            "UPDATE res_partner SET wechat_activity_state = 'active' WHERE id = %s", [active.partner_id.id]
        )
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
        self.assertEqual(
            (notice.kind_id.code, notice.state),
            ("winback", "digest"),
            "a marketing notice nobody else can carry waits for the daily digest",
        )

    def test_expiry_reminder_once_per_coupon(self):
        automation = self.automation("expiry", program_id=False, days=3)
        self.account.budget_per_week = 0  # the campaigns' notices would use up the weekly budget
        member = self.make_member(window=True)
        soon = self.make_campaign(member, expiration_date=self.account.company_id._wechat_today() + timedelta(days=3))
        soon.action_issue()
        later = self.make_campaign(
            member, name="Later", expiration_date=self.account.company_id._wechat_today() + timedelta(days=20)
        )
        later.action_issue()
        self.commit()
        before = len(self.fake.calls_to("/message/custom/send"))
        automation._cron_expiry_reminder()
        automation._cron_expiry_reminder()
        self.commit()
        sends = self.fake.calls_to("/message/custom/send")[before:]
        self.assertEqual(len(sends), 1)
        expiry = fields.Date.to_string(self.account.company_id._wechat_today() + timedelta(days=3))
        self.assertIn(expiry, sends[0]["body"]["text"]["content"])
        self.assertEqual(automation.log_ids.card_id, soon.card_ids)
        self.assertEqual(self.fake.violations, [])


@tagged("post_install", "-at_install")
class TestBirthdayDigest(CouponCase):
    """Birthday members who never wrote to the account are reached by the daily digest, not customer service."""

    def test_thousand_birthdays_one_mass_send_each_once_within_the_cap(self):
        self.account.budget_per_week = 0
        target = self.account.company_id._wechat_today() + timedelta(days=7)
        born = target.replace(year=1992) if (target.month, target.day) == (2, 29) else target.replace(year=1990)
        openids = self.fake_account.add_followers(1000)
        Member = self.env["wechat.member"]
        Member._bulk_create(self.account, openids)
        members = Member.search([("account_id", "=", self.account.id), ("openid", "in", openids)])
        members.partner_id.write({"wechat_birthday": born})
        capped = members[:5]
        self.env["wechat.message.log"]._log(self.account, capped.ids * 4, "mass")  # WeChat's 4 this month
        automation = self.env["wechat.coupon.automation"].create(
            {
                "name": "Birthday",
                "automation_type": "birthday",
                "account_id": self.account.id,
                "program_id": self.program.id,
                "days": 7,
            }
        )
        automation._cron_birthday()
        self.commit()
        notices = self.env["wechat.notice"].search(
            [("kind_id.code", "=", "birthday"), ("member_id", "in", members.ids)]
        )
        self.assertEqual(len(notices), 1000)
        self.assertEqual(set(notices.mapped("state")), {"digest"}, "nobody wrote: no customer service")
        self.assertFalse(self.fake.calls_to("/message/custom/send"))
        self.env["wechat.notice.digest"]._cron_digest(force=True)
        sends = self.fake.calls_to("/cgi-bin/message/mass/send")
        self.assertEqual(len(sends), 1, "1 000 members: one call (up to 10 000 openids a call)")
        touser = sends[0]["body"]["touser"]
        self.assertEqual(len(touser), len(set(touser)), "each member once")
        self.assertEqual(set(touser), set((members - capped).mapped("openid")), "none over the monthly cap")
        self.assertEqual(set(notices.filtered(lambda n: n.member_id not in capped).mapped("state")), {"sent"})
        self.assertEqual(set(notices.filtered(lambda n: n.member_id in capped).mapped("state")), {"none"})
        self.assertEqual(self.fake.violations, [])

    def test_birthday_by_subscribe_notice_when_opted_in(self):
        self.map_template(
            "birthday", "SUB_BIRTHDAY", {"thing1": "coupon_name", "time2": "expiry_date"}, channel="subscribe"
        )
        target = self.account.company_id._wechat_today() + timedelta(days=7)
        born = target.replace(year=1992) if (target.month, target.day) == (2, 29) else target.replace(year=1990)
        member = self.make_member()
        member.partner_id.wechat_birthday = born
        self.fake.subscribe_accept(self.appid, member.openid, ["SUB_BIRTHDAY"])
        self.env["wechat.notice.optin"]._record(member, ["SUB_BIRTHDAY"])
        automation = self.env["wechat.coupon.automation"].create(
            {
                "name": "Birthday",
                "automation_type": "birthday",
                "account_id": self.account.id,
                "program_id": self.program.id,
                "days": 7,
            }
        )
        automation._cron_birthday()
        self.commit()
        notice = self.env["wechat.notice"].search([("kind_id.code", "=", "birthday"), ("member_id", "=", member.id)])
        self.assertEqual((notice.state, notice.channel), ("sent", "subscribe"))
        sent = [m for m in self.fake_account.subscribe_messages if m["touser"] == member.openid]
        self.assertEqual(len(sent), 1)
        self.assertEqual(set(sent[0]["data"]), {"thing1", "time2"})
