from datetime import timedelta

from odoo.tests import tagged

from .common import CouponHttpCase

TEMPLATE = "SUBcouponExpiry000000000000001"
KEYWORDS = [("thing1", "coupon_name"), ("character_string2", "coupon_code"), ("time3", "expiry_date")]


@tagged("post_install", "-at_install")
class TestNotifyMeTour(CouponHttpCase):
    """A member opts in for the coupon-expiry notice on the member page; the expiry reminder then goes by it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fake_account.add_subscribe_template(
            TEMPLATE, title="优惠券到期提醒", keywords=tuple(k for k, __ in KEYWORDS)
        )
        cls.mapping = cls.env["wechat.notice.template"].create(
            {
                "account_id": cls.account.id,
                "kind_id": cls.env.ref("wechat_coupon.notice_kind_coupon_expiring").id,
                "channel": "subscribe",
                "template_id": TEMPLATE,
                "line_ids": [(0, 0, {"keyword": k, "value_key": v}) for k, v in KEYWORDS],
            }
        )
        cls.account.budget_per_week = 0

    def send_after_commit(self):
        """Run the post-commit sends (the registry is already in test mode in an HttpCase)."""
        self.env.flush_all()
        self.env.cr.postcommit.run()
        self.env.invalidate_all()

    def test_notify_me_then_expiry_reminder_by_subscribe_notice(self):
        openid = "oNotifyTour00000000000000001"
        member = self.make_member(openid=openid)  # a follower without a customer-service window
        self.fake.set_browser_user(self.appid, openid)
        campaign = self.make_campaign(
            member, expiration_date=self.account.company_id._wechat_today() + timedelta(days=3)
        )
        campaign.action_issue()
        self.send_after_commit()
        automation = self.env["wechat.coupon.automation"].create(
            {
                "name": "Expiry",
                "automation_type": "expiry",
                "account_id": self.account.id,
                "days": 3,
            }
        )

        tickets_before = self.fake_account.jsapi_ticket_calls
        self.browser_size = "375x667"
        self.start_tour(f"/wechat/member/{self.account.id}?lang=en", "wechat_notify_me_tour")
        self.fake.wait_idle(10)  # the popup event reaches Odoo's callback

        optins = self.env["wechat.notice.optin"].search([("member_id", "=", member.id)])
        self.assertEqual(len(optins), 1, "recorded from WeChat's signed subscribe_msg_popup_event")
        self.assertEqual((optins.template_id, optins.state), (TEMPLATE, "available"))
        self.assertTrue(optins.event_id, "from the callback's event, not from the page")
        self.assertEqual(self.fake_account.jsapi_ticket_calls - tickets_before, 1, "one ticket for the page")

        automation._cron_expiry_reminder()
        self.send_after_commit()
        self.fake.wait_idle(10)
        sent = [m for m in self.fake_account.subscribe_messages if m["touser"] == openid]
        self.assertEqual(len(sent), 1, "the expiry notice arrived as a subscribe notice, once")
        self.assertEqual(sent[0]["template_id"], TEMPLATE)
        self.assertEqual(set(sent[0]["data"]), {k for k, __ in KEYWORDS}, "exactly the mapping's keywords")
        self.assertEqual(sent[0]["data"]["character_string2"]["value"], campaign.card_ids.code)
        notice = self.env["wechat.notice"].search(
            [("member_id", "=", member.id), ("kind_id.code", "=", "coupon_expiring")]
        )
        self.assertEqual(len(notice), 1)
        self.assertEqual((notice.state, notice.channel), ("sent", "subscribe"))
        self.assertEqual(notice.mapping_id, self.mapping)
        optins.invalidate_recordset()
        self.assertEqual((optins.state, optins.notice_id), ("used", notice))
        self.assertFalse(self.fake.calls_to("/message/custom/send"), "not by customer service")

        automation._cron_expiry_reminder()
        self.send_after_commit()
        self.fake.wait_idle(10)
        self.assertEqual(
            len([m for m in self.fake_account.subscribe_messages if m["touser"] == openid]),
            1,
            "a second run sends nothing more",
        )
        self.assertEqual(len(self.fake.calls_to("/message/subscribe/bizsend")), 1)
        self.assertEqual(self.fake.violations, [])
