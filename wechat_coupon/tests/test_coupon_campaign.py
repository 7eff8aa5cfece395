from datetime import timedelta
from unittest.mock import patch

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import CouponCase


@tagged("post_install", "-at_install")
class TestCouponCampaign(CouponCase):
    def test_bulk_issue_creates_valid_cards_and_is_idempotent(self):
        members = self.env["wechat.member"].concat(*[self.make_member() for __ in range(6)])
        until = self.account.company_id._wechat_today() + timedelta(days=30)
        campaign = self.make_campaign(members, expiration_date=until, points=1)
        campaign.action_issue()
        self.assertEqual(campaign.state, "issued")
        cards = self.env["loyalty.card"].search([("wechat_campaign_id", "=", campaign.id)])
        self.assertEqual(len(cards), 6)
        self.assertEqual(cards.partner_id, members.partner_id)
        self.assertEqual(len(set(cards.mapped("code"))), 6)
        for card in cards:
            # A normal loyalty coupon, as the ORM would have made it.
            self.assertTrue(card.code.startswith("044"))
            self.assertEqual(card.program_id, self.program)
            self.assertEqual(card.company_id, self.program.company_id)
            self.assertEqual(card.points, 1)
            self.assertEqual(card.expiration_date, until)
            self.assertTrue(card.active)
            self.assertEqual(card.display_name, f"{self.program.name}: {card.code}")
            self.assertEqual(len(card.history_ids), 1)
            self.assertEqual(card.history_ids.issued, 1)
            self.assertEqual(card.use_count, 0)
            self.assertEqual(card.points_display.split()[0], "1")
        self.assertEqual(self.program.coupon_count, 6)
        self.assertEqual(members[0].partner_id.loyalty_card_count, 1)
        self.assertIn(
            cards[0].code, members.partner_id.filtered(lambda p: p == cards[0].partner_id)._wechat_coupons_text()
        )
        self.assertEqual(campaign.issued_count, 6)
        # The views read them.
        self.env["loyalty.card"].web_search_read([("id", "in", cards.ids)], {"code": {}, "partner_id": {}})
        # Issue again, and with more members: only the new ones get a coupon.
        campaign.action_issue()
        newcomer = self.make_member()
        campaign.member_ids = [(4, newcomer.id)]
        campaign.action_issue()
        cards = self.env["loyalty.card"].search([("wechat_campaign_id", "=", campaign.id)])
        self.assertEqual(len(cards), 7)
        self.assertEqual(self.env["loyalty.history"].search_count([("card_id", "in", cards.ids)]), 7)
        self.assertEqual(campaign.issued_count, 7)

    def test_limit_per_member(self):
        members = self.make_member() | self.make_member()
        campaign = self.make_campaign(members, limit_per_member=3)
        campaign.action_issue()
        campaign.action_issue()
        cards = campaign.card_ids
        self.assertEqual(len(cards), 6)
        self.assertEqual(
            sorted(cards.filtered(lambda c: c.partner_id == members[0].partner_id).mapped("wechat_seq")), [1, 2, 3]
        )

    def test_bulk_issue_2000(self):
        partners = self.env["res.partner"].create([{"name": f"Bulk {i}"} for i in range(2000)])
        cards = self.env["loyalty.card"]._wechat_bulk_create(
            self.program, [(p.id, 1) for p in partners], points=2, description="bulk"
        )
        self.assertEqual(len(cards), 2000)
        self.assertEqual(len(set(cards.mapped("code"))), 2000)
        self.assertEqual(set(cards.mapped("points")), {2})
        self.assertEqual(self.env["loyalty.history"].search_count([("card_id", "in", cards.ids)]), 2000)
        self.assertEqual(self.program.coupon_count, 2000)

    def test_bulk_issue_retries_taken_codes(self):
        """A new code that is already a coupon's, or a program's trigger code, is replaced, never lost."""
        taken = self.make_campaign(self.make_member())
        taken.action_issue()
        taken_code = taken.card_ids.code
        trigger_code = "044" + "0" * 16
        self.env["loyalty.program"].create(
            {
                "name": "Promo",
                "program_type": "promo_code",
                "trigger": "with_code",
                "rule_ids": [(0, 0, {"mode": "with_code", "code": trigger_code})],
                "reward_ids": [(0, 0, {"reward_type": "discount", "discount": 5, "required_points": 1})],
            }
        )
        Card = type(self.env["loyalty.card"])
        generate = Card._wechat_generate_codes
        batches = []

        def generate_taken_first(card_model, count):
            codes = generate(card_model, count)
            if not batches:
                codes[0], codes[1] = taken_code, trigger_code
            batches.append(count)
            return codes

        members = self.env["wechat.member"].concat(*[self.make_member() for __ in range(4)])
        campaign = self.make_campaign(members)
        with patch.object(Card, "_wechat_generate_codes", generate_taken_first):
            campaign.action_issue()
        self.assertEqual(batches, [4, 2], "the two rows without a usable code are retried, only them")
        cards = campaign.card_ids
        self.assertEqual(cards.partner_id, members.partner_id)
        self.assertEqual(len(set(cards.mapped("code"))), 4)
        self.assertFalse({taken_code, trigger_code} & set(cards.mapped("code")))
        self.assertEqual(taken.card_ids.code, taken_code)
        self.assertEqual(self.env["loyalty.history"].search_count([("card_id", "in", cards.ids)]), 4)
        self.assertEqual(campaign.issued_count, 4)
        for code in cards.mapped("code"):
            self.assertRegex(code, r"^044[0-9a-f]{16}$", "64 random bits, barcode prefix 044")

        # Codes that stay taken: a clear error after a few tries.
        late = self.make_campaign(self.make_member())
        with (
            patch.object(Card, "_wechat_generate_codes", lambda card_model, count: [taken_code] * count),
            self.assertRaisesRegex(UserError, "unique coupon codes"),
        ):
            late.action_issue()
        self.assertFalse(late.card_ids)

    def test_notice_texts_only_for_reachable_members(self):
        """An issue to 100 000s of members makes texts only for the few with customer-service quota."""
        inside = self.make_member(window=True)
        others = self.make_member() | self.make_member(state="unfollowed")
        campaign = self.make_campaign(inside | others)
        Campaign = type(campaign)
        notice_text = Campaign._notice_text
        made = []

        def counting_notice_text(record, partner):
            made.append(partner)
            return notice_text(record, partner)

        with patch.object(Campaign, "_notice_text", counting_notice_text):
            campaign.action_issue()
            self.commit()
        self.assertEqual(made, [inside.partner_id])
        self.assertEqual((campaign.notified_count, campaign.not_notified_count), (1, 2))

    def test_audiences(self):
        follower = self.make_member()
        unfollowed = self.make_member(state="unfollowed")
        tag = self.env["res.partner.category"].create({"name": "VIP"})
        unfollowed.partner_id.category_id = [(4, tag.id)]
        campaign = self.make_campaign(audience="followers")
        campaign.action_issue()
        self.assertIn(follower.partner_id, campaign.card_ids.partner_id)
        self.assertNotIn(unfollowed.partner_id, campaign.card_ids.partner_id)
        by_tag = self.make_campaign(audience="category", category_id=tag.id)
        by_tag.action_issue()
        self.assertEqual(by_tag.card_ids.partner_id, unfollowed.partner_id)

    def test_followers_audience_includes_a_follower_of_a_moment_ago(self):
        """A follower whose contact is not created yet (followed a moment ago) gets the coupon on its contact."""
        member, __ = self.env["wechat.member"]._get_or_create(
            self.account, "oFollowedThenIssued00000001", defer_contact=True
        )
        campaign = self.make_campaign(audience="followers")
        campaign.action_issue()
        self.assertFalse(campaign.card_ids.filtered(lambda card: not card.partner_id))
        self.assertTrue(member.partner_id)
        self.assertIn(member.partner_id, campaign.card_ids.partner_id)

    def test_notices_only_inside_the_window(self):
        inside = self.make_member(window=True)
        outside = self.make_member()
        gone = self.make_member(state="unfollowed", window=True)
        campaign = self.make_campaign(inside | outside | gone)
        campaign.action_issue()
        self.assertFalse(self.fake.calls_to("/message/custom/send"), "sent once the issue is committed")
        self.commit()
        sends = self.fake.calls_to("/message/custom/send")
        self.assertEqual(len(sends), 1, "only the follower with customer-service quota is sent a text")
        self.assertEqual(sends[0]["body"]["touser"], inside.openid)
        self.assertIn(f"/wechat/coupons/{self.account.id}/claim/{campaign.id}", sends[0]["body"]["text"]["content"])
        self.assertEqual(campaign.notified_count, 1)
        self.assertEqual(campaign.not_notified_count, 2)
        self.assertEqual(self.fake.violations, [])
        # Issuing again notifies nobody (no new coupon).
        campaign.action_issue()
        self.commit()
        self.assertEqual(len(self.fake.calls_to("/message/custom/send")), 1)
        notices = self.env["wechat.notice"].search([("kind_id.code", "=", "coupon_issued")])
        self.assertEqual(sorted(notices.mapped("state")), ["none", "none", "sent"], "every notice recorded")

    def test_notice_by_template_for_members_without_quota(self):
        self.map_template(
            "coupon_issued",
            "TPL_COUPON",
            {"thing1": "coupon_name", "character_string2": "coupon_code", "time3": "expiry_date"},
        )
        member = self.make_member()
        campaign = self.make_campaign(
            member, expiration_date=self.account.company_id._wechat_today() + timedelta(days=30)
        )
        campaign.action_issue()
        self.commit()
        self.assertFalse(self.fake.calls_to("/message/custom/send"))
        data = self.fake_account.template_messages[-1]["data"]
        self.assertEqual(data["character_string2"]["value"], campaign.card_ids.code)
        self.assertEqual(data["thing1"]["value"], "WeChat 10% off")
        self.assertEqual(campaign.notified_count, 1)

    def test_program_type_checked(self):
        loyalty = self.env["loyalty.program"].create({"name": "Points", "program_type": "loyalty"})
        with self.assertRaises(ValidationError):
            self.make_campaign(program_id=loyalty.id)

    def test_claim_once_while_stock_lasts(self):
        campaign = self.make_campaign(audience="claim", claim_enabled=True, claim_limit=2)
        campaign.action_issue()
        first, second, third = self.make_member(), self.make_member(), self.make_member()
        cards = campaign._claim(first)
        self.assertEqual(cards.partner_id, first.partner_id)
        self.assertTrue(cards.wechat_claim_date)
        with self.assertRaisesRegex(UserError, "already claimed"):
            campaign._claim(first)
        campaign._claim(second)
        with self.assertRaisesRegex(UserError, "all the coupons"):
            campaign._claim(third)
        self.assertEqual(campaign.claim_count, 2)
        self.assertEqual(campaign.claimed_count, 2)

    def test_claim_blockers(self):
        """The claim page and ``_claim`` share the preconditions: ``_claim_blockers``."""
        campaign = self.make_campaign(audience="claim", claim_enabled=True, claim_limit=1)
        first, second = self.make_member(), self.make_member()
        self.assertEqual(list(campaign._claim_blockers(first)), ["unavailable"], "not issued yet")
        campaign.action_issue()
        self.assertEqual(campaign._claim_blockers(first), {})
        campaign._claim(first)
        self.assertEqual(list(campaign._claim_blockers(first)), ["claimed", "sold_out"])
        self.assertEqual(list(campaign._claim_blockers(second)), ["sold_out"])
        self.assertEqual(campaign._member_cards(first).partner_id, first.partner_id)
        self.assertFalse(campaign._member_cards(second))
        campaign.claim_enabled = False
        self.assertEqual(list(campaign._claim_blockers(second)), ["unavailable", "sold_out"])
        with self.assertRaisesRegex(UserError, "not available"):
            campaign._claim(second)

    def test_forward_to_a_friend(self):
        holder, friend = self.make_member(), self.make_member()
        campaign = self.make_campaign(holder)
        campaign.action_issue()
        card = campaign.card_ids
        token = card._wechat_forward_token()
        old_code = card.code
        with self.assertRaisesRegex(UserError, "not valid"):
            card._wechat_accept_forward(friend, "0" * 32)
        with self.assertRaisesRegex(UserError, "already yours"):
            card._wechat_accept_forward(holder, token)
        card._wechat_accept_forward(friend, token)
        self.assertEqual(card.partner_id, friend.partner_id)
        self.assertNotEqual(card.code, old_code, "the old code (screenshots) no longer works")
        self.assertEqual(card.wechat_recipient_id, holder.partner_id)
        transfer = self.env["wechat.coupon.transfer"].search([("card_id", "=", card.id)])
        self.assertEqual((transfer.from_partner_id, transfer.to_partner_id), (holder.partner_id, friend.partner_id))
        self.assertNotIn(card, holder.partner_id._wechat_wallet_cards(self.account))
        self.assertIn(card, friend.partner_id._wechat_wallet_cards(self.account))
        with self.assertRaisesRegex(UserError, "already been passed on"):
            card._wechat_accept_forward(self.make_member(), token)

    def test_used_coupon_cannot_be_forwarded(self):
        holder, friend = self.make_member(), self.make_member()
        campaign = self.make_campaign(holder)
        campaign.action_issue()
        card = campaign.card_ids
        token = card._wechat_forward_token()
        card.points = 0
        with self.assertRaisesRegex(UserError, "used or has expired"):
            card._wechat_accept_forward(friend, token)

    def test_redemption_checks(self):
        member = self.make_member()
        campaign = self.make_campaign(member)
        campaign.action_issue()
        card = campaign.card_ids
        Order = self.env["pos.order"]
        ok = Order.validate_coupon_programs({str(card.id): -1}, [])
        self.assertTrue(ok["successful"])
        card.expiration_date = self.account.company_id._wechat_today() - timedelta(days=1)
        res = Order.validate_coupon_programs({str(card.id): -1}, [])
        self.assertFalse(res["successful"])
        self.assertIn("expired", res["payload"]["message"])
        card.expiration_date = False
        other = self.env["res.company"].create({"name": "Other Retail"})
        res = Order.with_company(other).validate_coupon_programs({str(card.id): -1}, [])
        self.assertFalse(res["successful"])
        self.assertIn("another company", res["payload"]["message"])
        Order.confirm_coupon_programs(
            {str(card.id): {"points": -1, "program_id": self.program.id, "coupon_id": card.id, "barcode": False}}
        )
        self.assertEqual(card.points, 0)
        res = Order.validate_coupon_programs({str(card.id): -1}, [])
        self.assertFalse(res["successful"])
        self.assertIn("already been used", res["payload"]["message"])
        with self.assertRaisesRegex(UserError, "already been used"):
            Order.confirm_coupon_programs(
                {str(card.id): {"points": -1, "program_id": self.program.id, "coupon_id": card.id, "barcode": False}}
            )
        self.assertEqual(card.points, 0)

    def test_server_actions(self):
        members = self.make_member() | self.make_member()
        action = self.env["wechat.coupon.campaign"].action_create_from_members(members)
        campaign = self.env["wechat.coupon.campaign"].browse(action["res_id"])
        self.assertEqual(campaign.member_ids, members)
        self.assertEqual(campaign.state, "draft")
        wizard_action = self.env["wechat.coupon.issue.wizard"].action_open(members)
        wizard = (
            self.env["wechat.coupon.issue.wizard"]
            .with_context(wizard_action["context"])
            .create({"program_id": self.program.id})
        )
        wizard.action_issue()
        issued = self.env["loyalty.card"].search(
            [("partner_id", "in", members.partner_id.ids), ("wechat_origin", "=", "issue")]
        )
        self.assertEqual(len(issued), 2)
        for xmlid in (
            "wechat_coupon.action_wechat_member_issue_coupon",
            "wechat_coupon.action_wechat_member_create_coupon_campaign",
        ):
            self.assertEqual(self.env.ref(xmlid).binding_model_id.model, "wechat.member")
