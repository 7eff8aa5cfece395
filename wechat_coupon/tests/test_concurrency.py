import threading

from psycopg2.errors import SerializationFailure

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from odoo.addons.wechat_member.tests.common import separate_env


@tagged("post_install", "-at_install")
class TestConcurrentRedemption(TransactionCase):
    """Two tills confirm the same coupon at once, each on its own committed cursor."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with separate_env(cls.registry) as env:
            program = env["loyalty.program"].create(
                {
                    "name": "Concurrent coupon",
                    "program_type": "coupons",
                    "trigger": "with_code",
                    "applies_on": "current",
                    "rule_ids": [],
                    "reward_ids": [
                        (
                            0,
                            0,
                            {
                                "reward_type": "discount",
                                "discount": 10,
                                "discount_mode": "percent",
                                "discount_applicability": "order",
                                "required_points": 1,
                            },
                        )
                    ],
                }
            )
            partner = env["res.partner"].create({"name": "Concurrent holder"})
            card = env["loyalty.card"]._wechat_bulk_create(program, [(partner.id, 1)], origin="issue")
            cls.program_id, cls.partner_id, cls.card_id = program.id, partner.id, card.id

        def cleanup():
            with separate_env(cls.registry) as env:
                env["loyalty.card"].browse(cls.card_id).unlink()
                program = env["loyalty.program"].browse(cls.program_id)
                products = program.reward_ids.discount_line_product_id
                program.active = False
                program.unlink()
                products.product_tmpl_id.unlink()
                env["res.partner"].browse(cls.partner_id).unlink()

        cls.addClassCleanup(cleanup)

    def test_two_tills_one_coupon(self):
        results, barrier = [], threading.Barrier(2)
        data = {
            str(self.card_id): {
                "points": -1,
                "program_id": self.program_id,
                "coupon_id": self.card_id,
                "barcode": False,
            }
        }

        def till():
            # As Odoo's RPC dispatch: a serialization failure is retried in a new transaction.
            for attempt in range(3):
                try:
                    with separate_env(self.registry) as env:
                        env.cr.execute("SELECT 1")  # the snapshot starts before the race
                        if not attempt:
                            barrier.wait()
                        env["pos.order"].browse().confirm_coupon_programs(data)
                    results.append("ok")
                    return
                except SerializationFailure:
                    continue
                except UserError as exc:
                    results.append(str(exc))
                    return
                except Exception as exc:  # noqa: BLE001 - asserted below
                    results.append(f"unexpected {exc!r}")
                    return

        threads = [threading.Thread(target=till) for __ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        self.assertEqual(results.count("ok"), 1, results)
        refused = [r for r in results if r != "ok"]
        self.assertIn("already been used", refused[0])
        with separate_env(self.registry) as env:
            self.assertEqual(env["loyalty.card"].browse(self.card_id).points, 0)
