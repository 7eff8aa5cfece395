import threading
import time

from odoo.tests import TransactionCase, tagged

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
                f"SELECT count(*) FROM {table} WHERE account_id = %s AND openid = %s",  # noqa: S608
                [self.account_id, openid],
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
