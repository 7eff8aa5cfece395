import threading

from psycopg2.errors import SerializationFailure

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.wechat_member.tests.common import separate_env


@tagged("post_install", "-at_install")
class TestParallelReward(TransactionCase):
    """Two workers paying the same referral at once (committed data, separate cursors): points move once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with separate_env(cls.registry) as env:
            account = env["wechat.account"].create(
                {"name": "Parallel referral", "appid": "wxparallelref00001", "appsecret": "s", "sandbox": True}
            )
            points = env["loyalty.program"].create(
                {"name": "Parallel points", "program_type": "loyalty", "company_id": account.company_id.id}
            )
            program = env["wechat.referral.program"].create(
                {
                    "name": "Parallel",
                    "account_id": account.id,
                    "points_program_id": points.id,
                    "points_per_referral": 100,
                    "manual_review": True,
                }
            )
            Member = env["wechat.member"]
            referrer = Member._get_or_create(account, "oParallelRefA00000000000000001")[0]
            friend = Member._get_or_create(account, "oParallelRefB00000000000000001")[0]
            referral = env["wechat.referral"].create(
                {
                    "program_id": program.id,
                    "account_id": account.id,
                    "referrer_member_id": referrer.id,
                    "referee_member_id": friend.id,
                    "state": "review",
                }
            )
            cls.ids = {
                "account": account.id,
                "points": points.id,
                "program": program.id,
                "referral": referral.id,
                "partners": (referrer.partner_id | friend.partner_id).ids,
                "products": points.reward_ids.discount_line_product_id.ids,
            }

        def cleanup():
            ids = cls.ids
            with separate_env(cls.registry) as env:
                cr = env.cr
                cr.execute(
                    "DELETE FROM loyalty_history WHERE card_id IN "
                    "(SELECT id FROM loyalty_card WHERE program_id = %s)",
                    [ids["points"]],
                )
                cr.execute("DELETE FROM loyalty_card WHERE program_id = %s", [ids["points"]])
                cr.execute("DELETE FROM wechat_referral WHERE id = %s", [ids["referral"]])
                cr.execute("DELETE FROM wechat_referral_program WHERE id = %s", [ids["program"]])
                points = env["loyalty.program"].browse(ids["points"]).with_context(active_test=False)
                points.active = False
                points.unlink()
                env["product.product"].browse(ids["products"]).with_context(active_test=False).unlink()
                cr.execute("DELETE FROM wechat_member WHERE account_id = %s", [ids["account"]])
                cr.execute("DELETE FROM res_partner WHERE id = ANY(%s)", [ids["partners"]])
                cr.execute("DELETE FROM wechat_account WHERE id = %s", [ids["account"]])

        cls.addClassCleanup(cleanup)

    def test_two_managers_approve_at_once(self):
        errors, barrier = [], threading.Barrier(2)

        def worker():
            try:
                with separate_env(self.registry) as env:
                    barrier.wait()
                    env["wechat.referral"].browse(self.ids["referral"]).action_approve()
            except (SerializationFailure, UserError) as exc:  # the loser: Odoo retries, then sees it rewarded
                errors.append(exc)

        threads = [threading.Thread(target=worker) for __ in range(2)]
        with mute_logger("odoo.sql_db"):  # the loser's "could not serialize access"
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
        self.assertEqual(len(errors), 1, errors)
        with separate_env(self.registry) as env:
            referral = env["wechat.referral"].browse(self.ids["referral"])
            self.assertEqual(referral.state, "rewarded")
            cards = env["loyalty.card"].search([("program_id", "=", self.ids["points"])])
            self.assertEqual(len(cards), 1)
            self.assertEqual(cards.points, 100)
            self.assertEqual(len(cards.history_ids), 1)
