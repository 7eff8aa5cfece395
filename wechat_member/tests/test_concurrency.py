import threading
import time

from psycopg2 import errors

from odoo import fields
from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL, mute_logger

from .common import separate_env


@tagged("post_install", "-at_install")
class TestParallelDeliveries(TransactionCase):
    """WeChat retries and parallel deliveries on separate cursors (as separate workers do)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with separate_env(cls.registry) as env:
            cls.account_id = (
                env["wechat.account"]
                .create({"name": "Parallel", "appid": "wxparallel00000001", "appsecret": "s", "sandbox": True})
                .id
            )

        def cleanup():
            with separate_env(cls.registry) as env:
                cr = env.cr
                cr.execute("SELECT partner_id FROM wechat_member WHERE account_id = %s", [cls.account_id])
                partner_ids = [r[0] for r in cr.fetchall()]
                cr.execute("DELETE FROM wechat_event WHERE account_id = %s", [cls.account_id])
                cr.execute("DELETE FROM wechat_member WHERE account_id = %s", [cls.account_id])
                cr.execute("DELETE FROM res_partner WHERE id = ANY(%s)", [partner_ids])
                cr.execute("DELETE FROM wechat_account WHERE id = %s", [cls.account_id])

        cls.addClassCleanup(cleanup)

    def deliver_in_parallel(self, messages):
        errors, barrier = [], threading.Barrier(len(messages))

        def worker(msg):
            try:
                with separate_env(self.registry) as env:
                    env.cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
                    barrier.wait()
                    env["wechat.event"]._receive(env["wechat.account"].browse(self.account_id), msg)
            except Exception as exc:  # noqa: BLE001 - asserted below
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(m,)) for m in messages]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        self.assertEqual(errors, [])

    def count(self, table, openid):
        with separate_env(self.registry) as env:
            env.cr.execute(
                SQL(
                    "SELECT count(*) FROM %s WHERE account_id = %s AND openid = %s",
                    SQL.identifier(table),
                    self.account_id,
                    openid,
                )
            )
            return env.cr.fetchone()[0]

    def test_same_event_twenty_times_in_parallel(self):
        openid = "oParallelSame0000000000000001"
        msg = {
            "ToUserName": "gh",
            "FromUserName": openid,
            "CreateTime": str(int(time.time())),
            "MsgType": "event",
            "Event": "subscribe",
            "EventKey": "",
        }
        self.deliver_in_parallel([dict(msg) for __ in range(20)])
        self.assertEqual(self.count("wechat_event", openid), 1)
        self.assertEqual(self.count("wechat_member", openid), 1)

    def test_different_events_of_a_new_member_in_parallel(self):
        openid = "oParallelMixed000000000000001"
        now = int(time.time())
        msgs = [
            {
                "ToUserName": "gh",
                "FromUserName": openid,
                "CreateTime": str(now),
                "MsgType": "text",
                "Content": "积分",
                "MsgId": str(900000 + i),
            }
            for i in range(8)
        ]
        msgs.append(
            {
                "ToUserName": "gh",
                "FromUserName": openid,
                "CreateTime": str(now),
                "MsgType": "event",
                "Event": "subscribe",
                "EventKey": "",
            }
        )
        self.deliver_in_parallel(msgs)
        self.assertEqual(self.count("wechat_event", openid), 9)
        self.assertEqual(self.count("wechat_member", openid), 1, "one member however the events race")


@tagged("post_install", "-at_install")
class TestParallelTagging(TransactionCase):
    """Two tills tagging two members with the same automatic tag do not wait on each other."""

    def test_rule_tags_members_without_locking_the_tag(self):
        start = fields.Datetime.now()
        with separate_env(self.registry) as env:
            account = env["wechat.account"].create(
                {"name": "Parallel tags", "appid": "wxparalleltags0001", "appsecret": "s", "sandbox": True}
            )
            segment = env["wechat.segment"].create({"name": "All followers", "account_id": account.id})
            tag = env["wechat.tag"].create({"name": "Regular", "account_id": account.id})
            env["wechat.tag.rule"].create({"name": "Regular", "segment_id": segment.id, "tag_id": tag.id})
            members = [env["wechat.member"]._get_or_create(account, f"oParallelTag{i:017d}")[0] for i in range(2)]
            ids = {"account": account.id, "tag": tag.id, "partners": [m.partner_id.id for m in members]}

        def cleanup():
            with separate_env(self.registry) as env:
                env["wechat.member"].search([("account_id", "=", ids["account"])]).unlink()
                env["wechat.account"].browse(ids["account"]).unlink()
                env["res.partner"].browse(ids["partners"]).unlink()
                cron = env.ref("wechat_member.ir_cron_wechat_tag_sync")
                env["ir.cron.trigger"].search([("cron_id", "=", cron.id), ("call_at", ">", start)]).unlink()

        self.addCleanup(cleanup)
        with separate_env(self.registry) as first, separate_env(self.registry) as second:
            # The first till tags its buyer and has not committed yet ...
            changed = first["wechat.tag.rule"]._apply_to_partners(first["res.partner"].browse(ids["partners"][0]))
            self.assertEqual(changed.ids, [ids["tag"]])
            first.flush_all()
            # ... the second till tags another buyer at once: no row of the first is in its way.
            second.cr.execute("SET LOCAL lock_timeout = '2s'")
            changed = second["wechat.tag.rule"]._apply_to_partners(second["res.partner"].browse(ids["partners"][1]))
            second.flush_all()
            self.assertEqual(changed.ids, [ids["tag"]])
        with separate_env(self.registry) as env:
            self.assertEqual(len(env["wechat.tag"].browse(ids["tag"]).member_ids), 2)


@tagged("post_install", "-at_install")
class TestCampaignQueueLocks(TransactionCase):
    """Two senders (cron workers, or a cron and the digest) on cursors of their own: never the same campaign
    nor the same chunk (``FOR NO KEY UPDATE SKIP LOCKED``)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with separate_env(cls.registry) as env:
            account = env["wechat.account"].create(
                {"name": "Queue", "appid": "wxqueue0000000001", "appsecret": "s", "sandbox": True}
            )
            campaigns = env["wechat.campaign"].create(
                [
                    {"name": f"Queue {i}", "account_id": account.id, "audience": "all", "text_content": "Hi"}
                    for i in range(3)
                ]
            )
            campaigns.write({"state": "sending"})
            chunks = env["wechat.campaign.chunk"].create(
                [
                    {
                        "campaign_id": campaigns[0].id,
                        "sequence": i,
                        "clientmsgid": f"wmqueuelocks-{campaigns[0].id}-{i}",
                    }
                    for i in range(1, 4)
                ]
            )
            cls.account_id, cls.campaign_ids, cls.chunk_ids = account.id, campaigns.ids, chunks.ids

        def cleanup():
            with separate_env(cls.registry) as env:
                env.cr.execute("DELETE FROM wechat_campaign WHERE id = ANY(%s)", [cls.campaign_ids])
                env.cr.execute("DELETE FROM wechat_account WHERE id = %s", [cls.account_id])

        cls.addClassCleanup(cleanup)

    def test_two_senders_never_lock_the_same_campaign_or_chunk(self):
        with separate_env(self.registry) as env_a, separate_env(self.registry) as env_b:
            ours = set(self.campaign_ids)
            # The cron's claim (every due campaign): what A holds, B does not get.
            held_a = env_a["wechat.campaign"]._lock_for_sending(limit=1000)
            self.assertLessEqual(ours, set(held_a.ids))
            held_b = env_b["wechat.campaign"]._lock_for_sending(limit=1000)
            self.assertFalse(ours & set(held_b.ids), "B skips the campaigns A holds")
            env_a.cr.rollback()
            env_b.cr.rollback()

            first = env_a["wechat.campaign"]._lock_for_sending(ids=self.campaign_ids, limit=1)
            self.assertEqual(len(first), 1)
            others = env_b["wechat.campaign"]._lock_for_sending(ids=self.campaign_ids, limit=3)
            self.assertEqual(len(others), 2)
            self.assertNotIn(first.id, others.ids)
            self.assertFalse(env_b["wechat.campaign"]._lock_for_sending(ids=first.ids))

            chunks_a = env_a["wechat.campaign.chunk"].browse(self.chunk_ids)._lock_pending(limit=2)
            chunks_b = env_b["wechat.campaign.chunk"].browse(self.chunk_ids)._lock_pending(limit=3)
            self.assertEqual(len(chunks_a), 2)
            self.assertEqual(len(chunks_b), 1, "the third chunk only")
            self.assertFalse(set(chunks_a.ids) & set(chunks_b.ids))

            env_a.cr.rollback()  # A's step ends: its campaign and chunks are free again
            self.assertEqual(env_b["wechat.campaign"]._lock_for_sending(ids=first.ids).ids, first.ids)
            env_b.cr.rollback()


@tagged("post_install", "-at_install")
class TestProfileFetchBesideTheWebhook(TransactionCase):
    """The profile fetch (a cron, REPEATABLE READ) while the webhook changes one of its members."""

    def test_member_changed_meanwhile_is_fetched_next_time(self):
        with separate_env(self.registry) as env:
            account = env["wechat.account"].create(
                {
                    "name": "Profiles",
                    "appid": "wxprofiles00000001",
                    "appsecret": "s",
                    "sandbox": True,
                    "sandbox_url": "http://127.0.0.1:9",  # nobody: WeChat is unreachable
                    "timeout": 1,
                }
            )
            members = env["wechat.member"].browse(
                [env["wechat.member"]._get_or_create(account, f"oProfiles{i:020d}")[0].id for i in range(3)]
            )
            account_id, ids = account.id, members.ids
        try:
            with separate_env(self.registry) as cron, separate_env(self.registry) as webhook:
                cron.cr.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                pending = cron["wechat.member"].browse(ids)
                pending.mapped("openid")  # the job's snapshot is taken
                # Meanwhile the member writes: the webhook updates the row and commits first.
                webhook["wechat.member"].browse(ids[1])._touch()
                webhook.cr.commit()
                # The sandbox account has no fake behind it: WeChat's answer is an error, written as "failed".
                pending._fetch_user_info()
                cron.cr.commit()
            with separate_env(self.registry) as env:
                states = env["wechat.member"].browse(ids).mapped("info_state")
            self.assertEqual(states, ["failed", "pending", "failed"], "the changed one waits for the next run")
        finally:
            with separate_env(self.registry) as env:
                partners = env["wechat.member"].browse(ids).partner_id
                env.cr.execute("DELETE FROM wechat_member WHERE id = ANY(%s)", [ids])
                env.cr.execute("DELETE FROM res_partner WHERE id = ANY(%s)", [partners.ids])
                env.cr.execute("DELETE FROM wechat_account WHERE id = %s", [account_id])


@tagged("post_install", "-at_install")
class TestContactOfAFollowerReadTwice(TransactionCase):
    """Two transactions read a new follower without contact at once: one contact is created."""

    def setUp(self):
        super().setUp()
        with separate_env(self.registry) as env:
            env.cr.execute("SELECT max(id) FROM res_partner")
            self.last_partner_id = env.cr.fetchone()[0]
            account = env["wechat.account"].create(
                {"name": "Contacts", "appid": "wxcontacts0000001", "appsecret": "s", "sandbox": True}
            )
            member, __ = env["wechat.member"]._get_or_create(account, "oReadTwice00000000000000001", defer_contact=True)
            self.account_id, self.member_id = account.id, member.id

        def cleanup():
            with separate_env(self.registry) as env:
                env.cr.execute("SELECT partner_id FROM wechat_member WHERE account_id = %s", [self.account_id])
                partner_ids = [row[0] for row in env.cr.fetchall() if row[0]]
                env.cr.execute("DELETE FROM wechat_member WHERE account_id = %s", [self.account_id])
                env.cr.execute("DELETE FROM res_partner WHERE id = ANY(%s)", [partner_ids])
                env.cr.execute("DELETE FROM wechat_account WHERE id = %s", [self.account_id])

        self.addCleanup(cleanup)

    def contacts(self):
        with separate_env(self.registry) as env:
            env.cr.execute("SELECT partner_id FROM wechat_member WHERE id = %s", [self.member_id])
            partner_id = env.cr.fetchone()[0]
            env.cr.execute("SELECT count(*) FROM res_partner WHERE id > %s", [self.last_partner_id])
            return partner_id, env.cr.fetchone()[0]

    def test_read_committed_takes_the_contact_of_the_other(self):
        with separate_env(self.registry) as first, separate_env(self.registry) as second:
            second.cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")  # the webhook's
            member = second["wechat.member"].browse(self.member_id)
            second.cr.execute("SELECT partner_id FROM wechat_member WHERE id = %s", [self.member_id])
            self.assertIsNone(second.cr.fetchone()[0], "the second one read the member without contact")
            contact = first["wechat.member"].browse(self.member_id).partner_id
            first.cr.commit()
            member._create_contacts()  # as its read would, after the first committed
            self.assertEqual(member.partner_id.id, contact.id)
            second.cr.commit()
        self.assertEqual(self.contacts(), (contact.id, 1))

    def test_repeatable_read_is_retried(self):
        with separate_env(self.registry) as first, separate_env(self.registry) as second:
            second.cr.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")  # a cron's, a page's
            member = second["wechat.member"].browse(self.member_id)
            second.cr.execute("SELECT partner_id FROM wechat_member WHERE id = %s", [self.member_id])
            contact = first["wechat.member"].browse(self.member_id).partner_id
            first.cr.commit()
            with mute_logger("odoo.sql_db"), self.assertRaises(errors.SerializationFailure):
                member._create_contacts()  # Odoo retries the request or the cron job: it then reads the contact
            second.cr.rollback()
        self.assertEqual(self.contacts(), (contact.id, 1))

    def test_profile_cron_leaves_a_member_given_its_contact_meanwhile_to_the_next_run(self):
        with separate_env(self.registry) as env:
            account = env["wechat.account"].browse(self.account_id)
            other, __ = env["wechat.member"]._get_or_create(account, "oReadTwice00000000000000002", defer_contact=True)
            other_id = other.id
        with separate_env(self.registry) as cron, separate_env(self.registry) as page:
            cron.cr.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            members = cron["wechat.member"].search([("account_id", "=", self.account_id)], order="id")  # snapshot
            contact = page["wechat.member"].browse(self.member_id).partner_id  # the member's page, meanwhile
            page.cr.commit()
            with_contacts = members._with_contacts()
            self.assertEqual(with_contacts.ids, [other_id], "the member changed meanwhile waits for the next run")
            self.assertTrue(with_contacts.partner_id)
            cron.cr.commit()
        self.assertEqual(self.contacts(), (contact.id, 2), "one contact each")
