import base64
import datetime
import io

from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged

CSV_ROWS = [
    ["手机号", "姓名", "生日", "会员号", "积分"],
    ["13900001111", "张三", "1990-05-03", "V001", "100"],  # 2 created, keeps V001
    ["+86 139-0000-2222", "李四", "1985/12/01", "", "50"],  # 3 created, generated code
    ["138 0013 8000", "王五", "", "V002", ""],  # 4 existing contact (by phone): updated
    ["12345", "坏号码", "", "", ""],  # 5 error: phone
    ["13900003333", "赵六", "1990-13-01", "", ""],  # 6 error: birthday
    ["13900004444", "钱七", "", "", "abc"],  # 7 error: points
    ["139 0000 1111", "张三二", "", "", ""],  # 8 duplicate in the file (row 2)
    ["13900005555", "孙八", "", "V100", "10"],  # 9 created, V100 taken: generated code
    ["", "", "", "", ""],  # empty: ignored
]


def csv_bytes(rows, encoding="gbk"):
    return "\r\n".join(",".join(row) for row in rows).encode(encoding)


@tagged("post_install", "-at_install")
class TestMemberImport(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.other_company = cls.env["res.company"].create({"name": "Import Other Co"})
        cls.manager = new_test_user(
            cls.env,
            "import_manager",
            groups="base.group_user,wechat_member.group_wechat_manager",
            company_id=cls.company.id,
            company_ids=[(6, 0, cls.company.ids)],
        )
        cls.cashier = new_test_user(
            cls.env,
            "import_cashier",
            groups="base.group_user,wechat_member.group_wechat_cashier",
            company_id=cls.company.id,
            company_ids=[(6, 0, cls.company.ids)],
        )
        Partner = cls.env["res.partner"]
        cls.existing = Partner.create({"name": "Old Wang", "phone": "+86 138 0013 8000", "company_id": cls.company.id})
        cls.code_owner = Partner.create(
            {"name": "Holder", "phone": "13700000000", "company_id": cls.company.id, "wechat_member_code": "V100"}
        )
        cls.foreign = Partner.create(
            {"name": "Other company", "phone": "13900006666", "company_id": cls.other_company.id}
        )

    def run_import(self, data, filename="members.csv", user=None, **vals):
        wizard = (
            self.env["wechat.member.import"]
            .with_user(user or self.manager)
            .create(dict({"file": base64.b64encode(data), "filename": filename}, **vals))
        )
        wizard.action_import()
        return wizard

    def partner(self, phone):
        return self.env["res.partner"].search([("phone", "=", phone)])

    def test_csv_gbk_created_updated_errors_duplicates(self):
        wizard = self.run_import(csv_bytes(CSV_ROWS))
        self.assertEqual(
            (
                wizard.created_count,
                wizard.updated_count,
                wizard.unchanged_count,
                wizard.error_count,
                wizard.duplicate_count,
            ),
            (3, 1, 0, 3, 2),
        )
        self.assertEqual(wizard.row_count, 9)
        zhang = self.partner("+8613900001111")
        self.assertEqual(
            (zhang.name, zhang.wechat_birthday, zhang.wechat_member_code, zhang.company_id),
            ("张三", datetime.date(1990, 5, 3), "V001", self.company),
        )
        li = self.partner("+8613900002222")
        self.assertEqual(li.wechat_birthday, datetime.date(1985, 12, 1))
        self.assertTrue(li.wechat_member_code and li.wechat_member_code != "V001")
        sun = self.partner("+8613900005555")
        self.assertTrue(sun.wechat_member_code and sun.wechat_member_code != "V100")
        self.assertEqual(self.code_owner.wechat_member_code, "V100")
        # Same phone, other format: the existing contact is updated, not duplicated.
        self.assertEqual((self.existing.name, self.existing.wechat_member_code), ("王五", "V002"))
        self.assertEqual(
            self.env["res.partner"].search_count([("phone", "in", ["+86 138 0013 8000", "+8613800138000"])]), 1
        )
        # Row 1 (the header) may carry a note of an add-on (e.g. points without a loyalty program).
        errors = {(line.row, line.column, line.kind) for line in wizard.line_ids if line.row > 1}
        self.assertEqual(
            errors,
            {
                (5, "手机号", "error"),
                (6, "生日", "error"),
                (7, "积分", "error"),
                (8, "手机号", "duplicate"),
                (9, "会员号", "duplicate"),
            },
        )
        line = wizard.line_ids.filtered(lambda rec: rec.row == 6)
        self.assertEqual(line.value, "1990-13-01")
        self.assertTrue(line.reason)
        self.assertIn("3 created, 1 updated", wizard.summary)

    def test_reimport_is_a_no_op(self):
        data = csv_bytes(CSV_ROWS)
        self.run_import(data)
        count = self.env["res.partner"].search_count([])
        codes = dict(
            self.env["res.partner"].search([("phone", "like", "+86139")]).mapped(lambda p: (p.id, p.wechat_member_code))
        )
        again = self.run_import(data)
        self.assertEqual((again.created_count, again.updated_count, again.unchanged_count), (0, 0, 4))
        self.assertIn("0 created, 0 updated", again.summary)
        self.assertEqual(self.env["res.partner"].search_count([]), count)
        self.assertEqual(
            dict(
                self.env["res.partner"]
                .search([("phone", "like", "+86139")])
                .mapped(lambda p: (p.id, p.wechat_member_code))
            ),
            codes,
        )

    def test_preview_writes_nothing(self):
        count = self.env["res.partner"].search_count([])
        wizard = (
            self.env["wechat.member.import"]
            .with_user(self.manager)
            .create({"file": base64.b64encode(csv_bytes(CSV_ROWS)), "filename": "m.csv"})
        )
        wizard.action_preview()
        self.assertEqual(
            (wizard.state, wizard.created_count, wizard.updated_count, wizard.error_count), ("preview", 3, 1, 3)
        )
        self.assertEqual(self.env["res.partner"].search_count([]), count)
        self.assertEqual(self.existing.name, "Old Wang")

    def test_xlsx_and_utf8_bom(self):
        import openpyxl

        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(["Phone", "Name", "Birthday", "Member Number", "Points"])
        sheet.append([13911112222, "Ada", datetime.datetime(1992, 2, 29), "X-9", 12.5])
        sheet.append(["+86 13911113333", "Bob", "2001-01-01", None, None])
        sheet.append(["13911114444", "Cy", datetime.datetime(2999, 1, 1), None, None])
        buffer = io.BytesIO()
        book.save(buffer)
        wizard = self.run_import(buffer.getvalue(), filename="members.xlsx")
        self.assertEqual((wizard.created_count, wizard.error_count), (2, 1))
        ada = self.partner("+8613911112222")
        self.assertEqual(
            (ada.name, ada.wechat_birthday, ada.wechat_member_code), ("Ada", datetime.date(1992, 2, 29), "X-9")
        )
        self.assertEqual(wizard.line_ids.filtered(lambda line: line.row > 1).mapped("row"), [4])
        bom = csv_bytes([["phone", "name"], ["13911115555", "Émile 李"]], encoding="utf-8-sig")
        wizard = self.run_import(bom)
        self.assertEqual(wizard.created_count, 1)
        self.assertEqual(self.partner("+8613911115555").name, "Émile 李")

    def test_cashier_cannot_import(self):
        with self.assertRaises(AccessError):
            self.run_import(csv_bytes(CSV_ROWS), user=self.cashier)
        self.assertFalse(self.partner("+8613900001111"))

    def test_company_scoping(self):
        # A contact of another company with the same phone is neither seen nor changed.
        wizard = self.run_import(csv_bytes([["phone", "name"], ["13900006666", "Mine"]]))
        self.assertEqual(wizard.created_count, 1)
        self.assertEqual(self.foreign.name, "Other company")
        mine = self.env["res.partner"].search([("phone", "=", "+8613900006666")])
        self.assertEqual(mine.company_id, self.company)
        # A manager cannot import into a company they do not belong to.
        with self.assertRaises(AccessError):
            self.run_import(csv_bytes([["phone"], ["13900007777"]]), company_id=self.other_company.id)
        self.assertFalse(self.partner("+8613900007777"))

    def test_created_contact_is_a_normal_contact(self):
        """A contact the import inserts by SQL is the contact ``create`` makes from the same values."""
        wizard = self.run_import(
            csv_bytes([["手机号", "姓名", "生日"], ["13900008888", "周九", "1991-07-08"], ["13900009999", "", ""]])
        )
        self.assertEqual(wizard.created_count, 2)
        Partner = self.env["res.partner"]
        zhou = Partner.search([("name", "=", "周九")])
        self.assertEqual(len(zhou), 1)
        self.assertEqual(Partner.search([("phone", "=", "+8613900008888")]), zhou)
        self.assertEqual(Partner.search([("phone_mobile_search", "=", "+8613900008888")]), zhou)
        self.assertIn(zhou.id, [pid for pid, __ in Partner.name_search("周九")])
        self.assertEqual((zhou.display_name, zhou.complete_name), ("周九", "周九"))
        self.assertEqual(zhou.commercial_partner_id, zhou)
        self.assertEqual(
            (zhou.company_id, zhou.type, zhou.active, zhou.wechat_birthday),
            (self.company, "contact", True, datetime.date(1991, 7, 8)),
        )
        self.assertRegex(zhou.wechat_member_code, r"^WM\d{4,}$")
        if "phone_sanitized" in Partner._fields:
            self.assertEqual(zhou.phone_sanitized, "+8613900008888")
        unnamed = self.partner("+8613900009999")
        self.assertEqual((unnamed.display_name, unnamed.commercial_partner_id), ("Member +8613900009999", unnamed))
        # Every stored field as ``create`` sets it (defaults, computed fields), in the wizard's environment.
        reference = (
            Partner.with_user(self.manager)
            .sudo()
            .with_company(self.company)
            .with_context(
                tracking_disable=True,
                mail_create_nolog=True,
                mail_notrack=True,
                mail_create_nosubscribe=True,
            )
            .create(
                {
                    "name": "周九",
                    "phone": "+8613900007777",
                    "wechat_birthday": "1991-07-08",
                    "company_id": self.company.id,
                    "wechat_member_code": "WM7777777777",
                }
            )
        )
        own = {"id", "phone", "phone_sanitized", "wechat_member_code", "commercial_partner_id"}
        for name, field in Partner._fields.items():
            if not field.store or name in own:
                continue
            if field.type == "datetime" and zhou[name] and reference[name]:
                self.assertLess(abs((zhou[name] - reference[name]).total_seconds()), 60, name)
            else:
                self.assertEqual(zhou[name], reference[name], name)
        # The cashier finds the member at the till by member code and by phone.
        config = self.env["pos.config"].create({"name": "Import POS", "company_id": self.company.id})
        for query in (zhou.wechat_member_code, "+8613900008888"):
            found = Partner.wechat_pos_find_member(config.id, query)["res.partner"]
            self.assertEqual([record["id"] for record in found], zhou.ids, query)
            self.assertEqual(found[0]["wechat_member_code"], zhou.wechat_member_code)
