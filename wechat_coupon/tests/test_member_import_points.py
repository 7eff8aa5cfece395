import base64

from odoo.tests import TransactionCase, new_test_user, tagged


def csv_bytes(rows):
    return "\n".join(",".join(row) for row in rows).encode("gbk")


@tagged("post_install", "-at_install")
class TestMemberImportPoints(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env, "import_points_manager", groups="base.group_user,wechat_member.group_wechat_manager"
        )
        cls.program = cls.env["loyalty.program"].create({"name": "Old member points", "program_type": "loyalty"})

    def run_import(self, rows):
        wizard = (
            self.env["wechat.member.import"]
            .with_user(self.manager)
            .create({"file": base64.b64encode(csv_bytes(rows)), "filename": "m.csv", "program_id": self.program.id})
        )
        wizard.action_import()
        return wizard

    def cards(self):
        return self.env["loyalty.card"].search([("program_id", "=", self.program.id)])

    def test_points_on_card_with_one_history_line(self):
        rows = [
            ["手机号", "姓名", "积分"],
            ["13800001111", "甲", "120"],
            ["13800002222", "乙", "0"],
            ["13800003333", "丙", ""],
        ]
        wizard = self.run_import(rows)
        self.assertEqual(wizard.created_count, 3)
        card = self.cards()
        self.assertEqual(len(card), 1, "no card for a zero or empty balance")
        self.assertEqual((card.partner_id.phone, card.points), ("+8613800001111", 120))
        self.assertEqual(card.history_ids.mapped(lambda h: (h.issued, h.used)), [(120, 0)])
        self.assertTrue(card.history_ids.description)
        # Same file again: nothing changes, no new history line.
        again = self.run_import(rows)
        self.assertEqual((again.created_count, again.updated_count), (0, 0))
        self.assertEqual(len(card.history_ids), 1)
        # A new balance: set on the same card, one line with the difference.
        rows[1][2] = "100"
        rows[2][2] = "5"
        third = self.run_import(rows)
        self.assertEqual((third.created_count, third.updated_count), (0, 2))
        self.assertEqual(card.points, 100)
        self.assertEqual(sorted(card.history_ids.mapped(lambda h: (h.issued, h.used))), [(0, 20), (120, 0)])
        self.assertEqual(len(self.cards()), 2)
