from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from odoo.addons.point_of_sale.tests.common import TestPoSCommon

from .common import WeChatFakeMixin


@tagged("post_install", "-at_install")
class TestSegments(WeChatFakeMixin, TestPoSCommon):
    """The seed example: men aged 35–45, ≥ 2 purchases this month each ≥ 5 000, bought menswear."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.config = cls.basic_config
        Category = cls.env["product.category"]
        cls.menswear = Category.create({"name": "Menswear"})
        cls.suits = Category.create({"name": "Suits", "parent_id": cls.menswear.id})
        cls.womenswear = Category.create({"name": "Womenswear"})
        cls.suit = cls.create_product("Wool suit", cls.suits, 6000.0)
        cls.shirt = cls.create_product("Shirt", cls.menswear, 3000.0)
        cls.dress = cls.create_product("Silk dress", cls.womenswear, 6000.0)

    def person(self, name, gender, age):
        member = self.env["wechat.member"]._get_or_create(self.account, f"o{name:0<27}")[0]
        birthday = self.account.company_id._wechat_today() - relativedelta(years=age, days=10)
        member.partner_id.write({"name": name, "wechat_gender": gender, "wechat_birthday": birthday})
        return member

    def buy(self, member, product, times):
        orders = [self.create_ui_order_data([(product, 1)], customer=member.partner_id) for __ in range(times)]
        self.env["pos.order"].sync_from_ui(orders)

    def test_seed_segment(self):
        self.open_new_session()
        target = self.person("Target", "male", 40)
        self.buy(target, self.suit, 2)
        once = self.person("Once", "male", 40)
        self.buy(once, self.suit, 1)
        woman = self.person("Woman", "female", 40)
        self.buy(woman, self.suit, 2)
        older = self.person("Older", "male", 50)
        self.buy(older, self.suit, 2)
        cheap = self.person("Cheap", "male", 38)
        self.buy(cheap, self.shirt, 2)
        dresses = self.person("Dresses", "male", 36)
        self.buy(dresses, self.dress, 2)
        segment = self.env["wechat.segment"].create(
            {
                "name": "Menswear high spenders",
                "account_id": self.account.id,
                "domain": "[('gender', '=', 'male')]",
                "age_min": 35,
                "age_max": 45,
                "window_days": 30,
                "min_orders": 2,
                "min_order_amount": 5000,
                "product_categ_ids": [(6, 0, self.menswear.ids)],
            }
        )
        self.assertEqual(segment.member_count, 1)
        self.assertEqual(segment._member_ids(), target.ids)
        action = segment.action_view_members()
        self.assertEqual(self.env["wechat.member"].search(action["domain"]), target)
        # "Add to segment" adds people whatever the filters.
        segment.extra_member_ids = [(4, once.id)]
        self.assertEqual(set(segment._member_ids()), {target.id, once.id})
        campaign_action = segment.action_create_campaign()
        campaign = self.env["wechat.campaign"].browse(campaign_action["res_id"])
        self.assertEqual(campaign.segment_id, segment)

    def test_member_filters_and_bad_domain(self):
        members = [self.person(f"P{i}", "female" if i % 2 else "male", 20 + i) for i in range(6)]
        members[0].state = "unfollowed"
        segment = self.env["wechat.segment"].create(
            {"name": "Men", "account_id": self.account.id, "domain": "[('gender', '=', 'male')]"}
        )
        self.assertEqual(segment.member_count, 2, "followers only: P2 and P4")
        segment.followers_only = False
        self.assertEqual(segment.member_count, 3)
        with self.assertRaises(ValidationError):
            segment.domain = "[('no_such_field', '=', 1)]"
        with self.assertRaises(ValidationError):
            segment.write({"age_min": 50, "age_max": 40})

    def test_automatic_tag_after_purchases(self):
        self.open_new_session()
        big_spender = self.segment_big = self.env["wechat.segment"].create(
            {
                "name": "2+ purchases this month, each ≥ 5 000",
                "account_id": self.account.id,
                "window_days": 30,
                "min_orders": 2,
                "min_order_amount": 5000,
            }
        )
        tag = self.env["wechat.tag"].create({"name": "高价值", "account_id": self.account.id})
        self.env["wechat.tag.rule"].create(
            {"name": "High value", "segment_id": big_spender.id, "tag_id": tag.id, "remove_unmatched": True}
        )
        member = self.person("Buyer", "male", 40)
        self.buy(member, self.suit, 1)
        self.assertNotIn(member, tag.member_ids)
        self.buy(member, self.suit, 1)
        self.assertIn(member, tag.member_ids, "tagged right after the second big purchase")
        self.buy(member, self.shirt, 1)
        self.assertIn(member, tag.member_ids, "a small purchase does not take it back")

    def test_tag_rule_evaluates_the_buyer_only(self):
        self.open_new_session()
        regulars = self.env["wechat.segment"].create(
            {"name": "2+ purchases", "account_id": self.account.id, "window_days": 30, "min_orders": 2}
        )
        first, second = self.person("First", "male", 30), self.person("Second", "female", 30)
        self.buy(first, self.shirt, 2)
        self.buy(second, self.shirt, 2)
        self.assertEqual(set(regulars._member_ids()), {first.id, second.id})
        self.env.cr.execute(regulars._member_sql(among=first))
        self.assertEqual(
            [row[0] for row in self.env.cr.fetchall()],
            first.ids,
            "a rule checking one buyer reads that buyer's purchases only",
        )
        regulars.extra_member_ids = [(4, second.id)]
        self.env.cr.execute(regulars._member_sql(among=first))
        self.assertEqual([row[0] for row in self.env.cr.fetchall()], first.ids)

    def test_tag_rule_member_at_the_tag_limit(self):
        self.open_new_session()
        regulars = self.env["wechat.segment"].create(
            {"name": "2+ purchases", "account_id": self.account.id, "window_days": 30, "min_orders": 2}
        )
        tag = self.env["wechat.tag"].create({"name": "Regular", "account_id": self.account.id})
        self.env["wechat.tag.rule"].create({"name": "Regular", "segment_id": regulars.id, "tag_id": tag.id})
        full, other = self.person("Full", "male", 30), self.person("Other", "female", 30)
        full.tag_ids = [
            (
                6,
                0,
                self.env["wechat.tag"]
                .create([{"name": f"Tag {i}", "account_id": self.account.id} for i in range(20)])
                .ids,
            )
        ]
        with self.assertLogs("odoo.addons.wechat_member.models.wechat_tag_rule", "WARNING"):
            self.buy(full, self.shirt, 2)
        self.buy(other, self.shirt, 2)
        self.assertEqual(tag.member_ids, other, "WeChat's 20 tags: the sale goes through, the tag is left out")
        self.assertEqual(len(full.tag_ids), 20)

    def test_tag_sync_planned_once_after_purchases(self):
        self.open_new_session()
        regulars = self.env["wechat.segment"].create(
            {"name": "Buyers", "account_id": self.account.id, "window_days": 30, "min_orders": 1}
        )
        tag = self.env["wechat.tag"].create({"name": "Buyer", "account_id": self.account.id})
        self.env["wechat.tag.rule"].create({"name": "Buyer", "segment_id": regulars.id, "tag_id": tag.id})
        cron = self.env.ref("wechat_member.ir_cron_wechat_tag_sync")
        Trigger = self.env["ir.cron.trigger"].sudo()
        Trigger.search([("cron_id", "=", cron.id)]).unlink()
        start = fields.Datetime.now()
        for name in ("A", "B", "C"):
            self.buy(self.person(name, "male", 30), self.shirt, 1)
        self.assertEqual(len(tag.member_ids), 3)
        planned = Trigger.search([("cron_id", "=", cron.id)])
        self.assertEqual(len(planned), 1, "one tag sync for the orders of that minute, not one per order")
        self.assertGreater(planned.call_at, start)

    def test_one_definition_of_a_paid_purchase(self):
        """Segments, campaign attribution and referrals read ``pos.order._wechat_purchases_sql``: sales in a
        paid state (a refund order is not a purchase), in a window, net of their paid refunds."""
        self.open_new_session()
        sent, held = self.person("Sent", "male", 30), self.person("Held", "female", 30)
        before = fields.Datetime.now() - relativedelta(days=3)
        self.buy(sent, self.suit, 1)
        old = self.env["pos.order"].search([("partner_id", "=", sent.partner_id.id)])
        old.sudo().date_order = before - relativedelta(days=1)
        self.buy(sent, self.suit, 2)
        self.buy(held, self.dress, 1)
        kept, refunded = self.env["pos.order"].search(
            [("partner_id", "=", sent.partner_id.id), ("id", "!=", old.id)], order="id"
        )
        refund = self.create_ui_order_data([(self.suit, -1)], customer=sent.partner_id)
        refund["lines"][0][2]["refunded_orderline_id"] = refunded.lines[0].id
        self.env["pos.order"].sync_from_ui([refund])
        Order = self.env["pos.order"]
        self.env.flush_all()
        self.env.cr.execute(Order._wechat_purchases_sql(partners=sent.partner_id.ids, date_from=before, net=True))
        rows = {row[0]: row[4] for row in self.env.cr.fetchall()}
        self.assertEqual(rows, {kept.id: 6000.0, refunded.id: 0.0}, "the refund is no purchase; it nets its sale")
        # Campaign attribution: recipients vs holdout after the send, net of refunds, within the window.
        campaign = self.env["wechat.campaign"].create({"name": "Suits", "account_id": self.account.id})
        campaign.sudo().write({"sent_date": before, "recipient_count": 1, "holdout_count": 1, "attribution_days": 7})
        Recipient = self.env["wechat.campaign.recipient"].sudo()
        Recipient.create(
            [
                {"campaign_id": campaign.id, "member_id": sent.id},
                {"campaign_id": campaign.id, "member_id": held.id, "holdout": True},
            ]
        )
        campaign.invalidate_recordset()
        self.assertEqual((campaign.sent_buyers, campaign.sent_revenue), (1, 6000.0))
        self.assertEqual((campaign.holdout_buyers, campaign.holdout_revenue), (1, 6000.0))
        # Segments count the same purchases: two sales in the window (the refund order is not one).
        segment = self.env["wechat.segment"].create(
            {"name": "Twice", "account_id": self.account.id, "window_days": 2, "min_orders": 2}
        )
        self.assertEqual(segment._member_ids(), sent.ids)
        segment.min_orders = 3
        self.assertFalse(segment._member_ids(), "the sale before the window and the refund do not count")
