from collections import Counter
from datetime import timedelta

from odoo.tests import Form, tagged

from .common import CouponCase

REACH_FIELDS = ["reach_summary", "reach_count", "unreachable_count"]


@tagged("post_install", "-at_install")
class TestCouponReach(CouponCase):
    """Before issuing or running: how many members each channel reaches, and how many none."""

    def setUp(self):
        super().setUp()
        # One with a customer-service quota (their own message just now), one follower, one unfollowed.
        self.quota = self.make_member()
        self.quota._touch(grant="message")
        self.follower = self.make_member()
        self.gone = self.make_member(state="unfollowed")
        self.members = self.quota | self.follower | self.gone

    def map_template(self, kind_code):
        return self.env["wechat.notice.template"].create(
            {
                "account_id": self.account.id,
                "kind_id": self.env["wechat.notice.kind"]._get(kind_code).id,
                "channel": "template",
                "template_id": f"TPL-{kind_code}",
                "line_ids": [
                    (0, 0, {"keyword": "thing1", "value_key": "coupon_name"}),
                    (0, 0, {"keyword": "time2", "value_key": "expiry_date"}),
                ],
            }
        )

    def reach(self, record):
        record.invalidate_recordset(REACH_FIELDS)
        return record.reach_count, record.unreachable_count, record.reach_summary

    def test_campaign_reach_per_channel(self):
        campaign = self.make_campaign(self.members)
        # Without a template mapping only customer service reaches, and only the member with a quota.
        self.assertEqual(
            self.reach(campaign),
            (1, 2, "Customer-service message 1 · Template message 0 · Subscribe notice 0 · not reachable 2"),
        )
        mapping = self.map_template("coupon_issued")
        self.assertEqual(
            self.reach(campaign),
            (2, 1, "Customer-service message 1 · Template message 1 · Subscribe notice 0 · not reachable 1"),
        )
        # It is what the router does when the coupons are issued.
        campaign.action_issue()
        notices = self.env["wechat.notice"].search([("member_id", "in", self.members.ids)])
        self.assertEqual(Counter(n.channel or "none" for n in notices), {"cs": 1, "template": 1, "none": 1})
        self.assertEqual(notices.filtered(lambda n: n.channel == "template").mapping_id, mapping)
        # Once issued, no reach is shown.
        self.assertEqual(self.reach(campaign), (0, 0, False))

    def test_campaign_reach_of_followers_and_tag_audiences(self):
        self.map_template("coupon_issued")
        campaign = self.make_campaign(audience="followers")
        self.assertEqual(self.reach(campaign)[:2], (2, 0), "the followers of the account, by CS and template")
        tag = self.env["res.partner.category"].create({"name": "VIP"})
        self.gone.partner_id.category_id = tag
        campaign.write({"audience": "category", "category_id": tag.id})
        self.assertEqual(self.reach(campaign)[:2], (0, 1))
        campaign.audience = "claim"
        self.assertEqual(self.reach(campaign), (0, 0, False), "nobody is sent anything from a claim page")

    def test_campaign_reach_in_the_form(self):
        """The form recomputes it while the audience is edited, before saving."""
        self.map_template("coupon_issued")
        campaign = self.make_campaign()
        with Form(campaign) as form:
            self.assertEqual(form.reach_summary, "nobody")
            form.member_ids.add(self.follower)
            form.member_ids.add(self.gone)
            self.assertEqual(
                form.reach_summary,
                "Customer-service message 0 · Template message 1 · Subscribe notice 0 · not reachable 1",
            )

    def test_expiry_automation_reach_of_the_next_run(self):
        """Expiry reminder: the holders of the coupons that expire in ``days``; once reminded, nobody."""
        target = self.account.company_id._wechat_today() + timedelta(days=3)
        for member in self.members:
            self.make_campaign(member, name=f"Soon {member.id}", expiration_date=target).action_issue()
        later = self.make_member()
        self.make_campaign(later, name="Later", expiration_date=target + timedelta(days=1)).action_issue()
        automation = self.env["wechat.coupon.automation"].create(
            {"name": "Expiry", "automation_type": "expiry", "account_id": self.account.id, "days": 3}
        )
        self.account.budget_per_week = 0
        # coupon_expiring: subscribe notice, customer service, template (no subscribe mapping here).
        self.assertEqual(
            self.reach(automation),
            (1, 2, "Subscribe notice 0 · Customer-service message 1 · Template message 0 · not reachable 2"),
        )
        self.map_template("coupon_expiring")
        self.assertEqual(self.reach(automation)[:2], (2, 1))
        automation.action_run()
        self.assertEqual(self.reach(automation), (0, 0, "nobody"), "the next run has nothing left to remind")

    def test_birthday_automation_reach(self):
        """Birthday (marketing): customer service with a quota, else the daily digest for followers."""
        target = self.account.company_id._wechat_today() + timedelta(days=7)
        birthday = target.replace(year=1992) if (target.month, target.day) == (2, 29) else target.replace(year=1990)
        self.members.partner_id.wechat_birthday = birthday
        self.make_member().partner_id.wechat_birthday = birthday + timedelta(days=1)
        automation = self.env["wechat.coupon.automation"].create(
            {
                "name": "Birthday",
                "automation_type": "birthday",
                "account_id": self.account.id,
                "program_id": self.program.id,
                "days": 7,
            }
        )
        self.account.budget_per_week = 0
        self.assertEqual(
            self.reach(automation),
            (2, 1, "Customer-service message 1 · Subscribe notice 0 · Daily digest (mass send) 1 · not reachable 1"),
        )
