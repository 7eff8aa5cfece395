import time
from contextlib import contextmanager
from unittest.mock import patch

from odoo.tests import tagged

from .common import WeChatCase


@tagged("post_install", "-at_install")
class TestContactOfANewFollower(WeChatCase):
    """A follow inserts the member alone, in WeChat's 5 seconds: its contact is created when the member is first
    read (its next message, its member page, the till, the profile cron), for all the members of that read."""

    def follow(self, openid):
        msg = {
            "ToUserName": "gh_test",
            "FromUserName": openid,
            "CreateTime": str(int(time.time())),
            "MsgType": "event",
            "Event": "subscribe",
        }
        self.env["wechat.event"]._receive(self.account, msg, signature_checked=True)
        return self.env["wechat.member"].search([("account_id", "=", self.account.id), ("openid", "=", openid)])

    @contextmanager
    def contact_creations(self):
        """The openids of each creation of new members' contacts, while in the block."""
        Member = type(self.env["wechat.member"])
        create = Member._new_member_partners
        calls = []

        def spy(model, account, openids):
            calls.append(list(openids))
            return create(model, account, openids)

        with patch.object(Member, "_new_member_partners", spy):
            yield calls

    def contact_column(self, members):
        """The members' ``partner_id`` column, as SQL reads it."""
        self.env.flush_all()
        self.env.cr.execute("SELECT id, partner_id FROM wechat_member WHERE id = ANY(%s) ORDER BY id", [members.ids])
        return dict(self.env.cr.fetchall())

    def test_follow_creates_no_contact(self):
        Partner = self.env["res.partner"].with_context(active_test=False)
        before = Partner.search_count([])
        member = self.follow("oNoContactYet000000000000001")
        event = self.env["wechat.event"].search([("member_id", "=", member.id)])
        self.assertEqual((event.state, event.new_member), ("done", True))
        self.assertEqual(self.contact_column(member), {member.id: None})
        self.assertEqual(Partner.search_count([]), before)

    def test_contact_created_at_the_first_read_for_the_members_of_that_read(self):
        openids = [f"oContactLater00000000000000{i}" for i in range(3)]
        members = self.env["wechat.member"].browse([self.follow(openid).id for openid in openids])
        self.env.invalidate_all()
        with self.contact_creations() as calls:
            contacts = members.partner_id
            self.env.invalidate_all()
            self.assertEqual(members.partner_id, contacts, "created once")
        self.assertEqual(calls, [openids], "one batch for the three members read together")
        self.assertEqual(len(contacts), 3)
        self.assertEqual(self.contact_column(members), {m.id: m.partner_id.id for m in members})
        tz = self.account.company_id._wechat_tz().zone
        for member in members:
            contact = member.partner_id
            self.assertEqual(contact.name, f"WeChat member {member.openid[-6:]}")
            self.assertRegex(contact.wechat_member_code, r"^WM\d{10}$")
            self.assertEqual((contact.company_id, contact.tz), (self.account.company_id, tz))
            self.assertTrue(contact.wechat_is_member)
            self.assertEqual(contact.wechat_member_ids, member)
            self.assertEqual(member.activity_state, "to_activate")

    def test_missing_contacts_created_once_for_members_not_read_yet(self):
        """Created for SQL readers (segments, audiences, notices): once, for members not read in this transaction."""
        openids = [f"oNotReadYet0000000000000000{i}" for i in range(2)]
        members = self.env["wechat.member"].browse([self.follow(openid).id for openid in openids])
        Partner = self.env["res.partner"].with_context(active_test=False)
        before = Partner.search_count([])
        self.env.invalidate_all()
        with self.contact_creations() as calls:
            self.env["wechat.member"]._create_missing_contacts([("account_id", "=", self.account.id)])
        self.assertEqual(calls, [openids])
        self.assertEqual(Partner.search_count([]), before + 2)
        self.assertEqual(self.contact_column(members), {m.id: m.partner_id.id for m in members})
        self.assertEqual(len(members.partner_id), 2)

    def test_member_page_and_till_find_the_member_with_its_contact(self):
        """``_get_or_create`` (member page, WeChat Pay, till) returns the member of a follow with its contact."""
        self.follow("oFollowedThenPage0000000001")
        self.env.invalidate_all()
        member, created = self.env["wechat.member"]._get_or_create(self.account, "oFollowedThenPage0000000001")
        self.assertFalse(created)
        self.assertTrue(member.partner_id.wechat_member_code)
        self.assertEqual(self.contact_column(member), {member.id: member.partner_id.id})

    def test_segment_contacts_include_the_new_contact(self):
        """A segment's contacts, read in SQL, include the contact of a follower of a moment ago."""
        member = self.follow("oFollowedThenSegment00000001")
        segment = self.env["wechat.segment"].create({"name": "Everyone", "account_id": self.account.id})
        partner_ids = segment._partner_ids()
        self.assertNotIn(None, partner_ids)
        self.assertIn(member.partner_id.id, partner_ids)

    def test_notice_keeps_the_new_contact(self):
        """A notice routed in SQL to a follower of a moment ago keeps its contact."""
        other = self.follow("oFollowedThenNotice000000001")
        values = {"points": 10, "balance": 110, "reason": "Purchase"}
        notice = self.env["wechat.notice"]._notify("points_change", other, values, key="contact", send=False)
        self.assertEqual(len(notice), 1)
        self.assertTrue(notice.partner_id)
        self.assertEqual(notice.partner_id, other.partner_id)
