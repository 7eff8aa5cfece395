"""Import of an existing member base (the store's old member system) from a CSV or XLSX file.

Everything is parsed and validated in Python first (no record per row), the
existing contacts are matched with two SQL queries, then the new contacts are
inserted by SQL (``CREATE_BATCH`` rows a statement, with what ``create``
would set: defaults, log columns, stored computed fields recomputed by the
ORM, constraints) and the changed ones written.  Points are a hook, ``_wechat_import_points``: this
module does not depend on ``loyalty``; ``wechat_coupon`` sets the points on a
loyalty card of the chosen program.

Re-importing the same file changes nothing: the same phone is the same
contact, a value is written only when it differs, and the counts say
"0 created, 0 updated".
"""

import base64
import csv
import datetime
import io
import logging
import re

from odoo import Command, _, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.models import LOG_ACCESS_COLUMNS
from odoo.tools import SQL

from ..tools.phone import normalize_cn_mobile, phone_key

_logger = logging.getLogger(__name__)
# Contacts inserted by one SQL statement, then computed and flushed.
CREATE_BATCH = 5000
# Error and duplicate lines kept on the wizard (the counts cover them all).
MAX_LINES = 2000
MAX_NAME = 128
MAX_CODE = 64

# File headers (lower case, without spaces, underscores, dashes, dots) → column.
HEADERS = {
    "phone": (
        "手机号",
        "手机",
        "手机号码",
        "电话",
        "联系电话",
        "移动电话",
        "phone",
        "mobile",
        "phonenumber",
        "mobilephone",
        "mobilenumber",
        "tel",
        "telephone",
        "cellphone",
    ),
    "name": ("姓名", "名字", "会员姓名", "客户姓名", "会员名称", "name", "fullname", "membername", "customername"),
    "birthday": ("生日", "出生日期", "出生年月日", "birthday", "birthdate", "dateofbirth", "dob"),
    "code": (
        "会员号",
        "会员编号",
        "会员卡号",
        "卡号",
        "会员代码",
        "membernumber",
        "memberno",
        "membercode",
        "memberid",
        "cardnumber",
        "cardno",
        "number",
        "code",
    ),
    "points": (
        "积分",
        "积分余额",
        "当前积分",
        "可用积分",
        "剩余积分",
        "points",
        "pointsbalance",
        "balance",
        "loyaltypoints",
    ),
}
HEADER_KEYS = {alias: key for key, aliases in HEADERS.items() for alias in aliases}
DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%Y%m%d",
    "%Y年%m月%d日",
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
)


def _header_key(text):
    return HEADER_KEYS.get(re.sub(r"[\s_\-.#:：]", "", str(text or "")).lower())


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.date | datetime.datetime):
        return value
    return str(value).strip()


def read_table(data, filename=""):
    """Rows (lists of cells) of a CSV (UTF-8, UTF-8 with BOM, GBK/GB18030) or XLSX file, header first."""
    if data[:4] == b"PK\x03\x04" or (filename or "").lower().endswith(".xlsx"):
        try:
            import openpyxl
        except ImportError as exc:
            raise UserError(_("Reading XLSX files needs the Python library openpyxl; save the file as CSV.")) from exc
        try:
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds (zipfile, KeyError, InvalidFileException)
            raise UserError(_("This XLSX file cannot be read: %(error)s", error=exc)) from exc
        try:
            sheet = book.worksheets[0]
            return [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        finally:
            book.close()
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise UserError(_("Old Excel files (.xls) are not supported: save the file as XLSX or CSV."))
    if data.startswith(b"\xef\xbb\xbf"):
        text = data[3:].decode("utf-8", errors="replace")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            # Chinese Excel saves CSV in GBK; GB18030 is its superset.
            text = data.decode("gb18030", errors="replace")
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)]


def parse_date(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


def parse_number(value):
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).replace(",", "").replace("，", "").strip())
    except ValueError:
        return None


class WeChatMemberImport(models.TransientModel):
    _name = "wechat.member.import"
    _description = "Import Members"
    _check_company_auto = True

    file = fields.Binary(
        "File",
        required=True,
        help="CSV (UTF-8 or GBK) or XLSX: phone, name, birthday, member "
        "number, points; headers in Chinese or English.",
    )
    filename = fields.Char("File Name")
    company_id = fields.Many2one(
        "res.company",
        "Company",
        required=True,
        default=lambda self: self.env.company,
        domain=lambda self: [("id", "in", self.env.user.company_ids.ids)],
    )
    state = fields.Selection(
        [("draft", "Draft"), ("preview", "Checked"), ("done", "Imported")], default="draft", readonly=True
    )
    row_count = fields.Integer("Rows", readonly=True)
    created_count = fields.Integer("Created", readonly=True)
    updated_count = fields.Integer("Updated", readonly=True)
    unchanged_count = fields.Integer("Unchanged", readonly=True)
    duplicate_count = fields.Integer("Duplicates", readonly=True)
    error_count = fields.Integer("Errors", readonly=True)
    summary = fields.Char("Result", readonly=True)
    line_ids = fields.One2many("wechat.member.import.line", "import_id", "Errors and Duplicates", readonly=True)

    # ------------------------------------------------------------------ actions
    def action_preview(self):
        return self._run(dry_run=True)

    def action_import(self):
        return self._run(dry_run=False)

    def _check_manager(self):
        if not self.env.su and not self.env.user.has_group("wechat_member.group_wechat_manager"):
            raise AccessError(_("Only WeChat Marketing managers can import members."))
        if self.company_id not in self.env.user.company_ids and not self.env.su:
            raise AccessError(
                _("You cannot import members into the company %(company)s.", company=self.company_id.display_name)
            )

    def _run(self, dry_run):
        self.ensure_one()
        self._check_manager()
        started = datetime.datetime.now()
        result = self._wechat_import(base64.b64decode(self.file or b""), dry_run=dry_run)
        self.line_ids.unlink()
        lines = result.pop("lines")
        self.write(
            dict(
                result,
                state="preview" if dry_run else "done",
                line_ids=[
                    (0, 0, {"row": row, "column": column, "value": str(value)[:256], "reason": reason, "kind": kind})
                    for row, column, value, reason, kind in lines[:MAX_LINES]
                ],
            )
        )
        _logger.info(
            "Member import %s (%s): %s in %s",
            self.id,
            "preview" if dry_run else "import",
            self.summary,
            datetime.datetime.now() - started,
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "context": self.env.context,
        }

    # ------------------------------------------------------------------ import
    def _wechat_import(self, data, dry_run=False):
        """Parse, validate, match and (unless ``dry_run``) write; returns the counts and the lines."""
        table = read_table(data, self.filename)
        while table and not any(str(c) for c in table[0]):
            table.pop(0)
        if not table:
            raise UserError(_("The file is empty."))
        header = table[0]
        columns = {}
        for index, text in enumerate(header):
            key = _header_key(text)
            if key and key not in columns:
                columns[key] = (index, str(text).strip())
        if "phone" not in columns:
            raise UserError(
                _(
                    "The file has no phone column (手机号 or phone). Columns found: %(columns)s",
                    columns=", ".join(str(h) for h in header if str(h)) or "-",
                )
            )
        lines = []
        rows = self._wechat_import_validate(table[1:], columns, lines)
        errors = len({line[0] for line in lines})
        rows = self._wechat_import_dedupe(rows, columns, lines)
        plan = self._wechat_import_match(rows, columns, lines)
        duplicates = len({line[0] for line in lines}) - errors
        created, changed = self._wechat_import_apply(plan, dry_run)
        points_changed = self._wechat_import_points(plan, columns, lines, dry_run)
        updated = len((changed | points_changed) - created)
        counts = {
            "row_count": len(table) - 1,
            "created_count": len(created) if not dry_run else sum(1 for r in plan if not r["partner_id"]),
            "updated_count": updated,
            "unchanged_count": len(plan)
            - (len(created) if not dry_run else sum(1 for r in plan if not r["partner_id"]))
            - updated,
            "duplicate_count": duplicates,
            "error_count": errors,
        }
        if dry_run:
            summary = _(
                "Check: %(created)s to create, %(updated)s to update, %(unchanged)s unchanged, "
                "%(duplicates)s duplicates, %(errors)s rows with errors.",
                created=counts["created_count"],
                updated=updated,
                unchanged=counts["unchanged_count"],
                duplicates=duplicates,
                errors=errors,
            )
        else:
            summary = _(
                "%(created)s created, %(updated)s updated, %(unchanged)s unchanged, "
                "%(duplicates)s duplicates, %(errors)s rows with errors.",
                created=counts["created_count"],
                updated=updated,
                unchanged=counts["unchanged_count"],
                duplicates=duplicates,
                errors=errors,
            )
        lines.sort(key=lambda line: line[0])
        return dict(counts, summary=summary, lines=lines)

    def _wechat_import_validate(self, table, columns, lines):
        """Dicts of the valid rows; an error line ``(row, column, value, reason, 'error')`` for each bad cell."""
        today = self.env.company._wechat_today()
        reasons = {
            "phone": _("Not a mainland China mobile number (11 digits starting with 13 to 19, optional +86)."),
            "phone_empty": _("The phone number is missing."),
            "birthday": _("Not a valid date (use YYYY-MM-DD)."),
            "birthday_range": _("The birthday is in the future or before 1900."),
            "points": _("Not a number."),
            "points_negative": _("Points cannot be negative."),
            "code": _("The member number is longer than %(max)s characters.", max=MAX_CODE),
        }
        label = {key: text for key, (index, text) in columns.items()}
        index = {key: i for key, (i, text) in columns.items()}
        rows = []
        for number, cells in enumerate(table, start=2):
            get = lambda key, cells=cells: cells[index[key]] if key in index and index[key] < len(cells) else ""  # noqa: E731
            if not any(str(c) for c in cells):
                continue
            bad = []
            raw_phone = get("phone")
            digits, e164 = normalize_cn_mobile(raw_phone)
            if not digits:
                bad.append(("phone", raw_phone, reasons["phone"] if str(raw_phone) else reasons["phone_empty"]))
            birthday = None
            raw = get("birthday")
            if raw != "":
                birthday = parse_date(raw)
                if not birthday:
                    bad.append(("birthday", raw, reasons["birthday"]))
                elif birthday > today or birthday.year < 1900:
                    bad.append(("birthday", raw, reasons["birthday_range"]))
            points = None
            raw = get("points")
            if raw != "":
                points = parse_number(raw)
                if points is None:
                    bad.append(("points", raw, reasons["points"]))
                elif points < 0:
                    bad.append(("points", raw, reasons["points_negative"]))
            code = str(get("code") or "").strip() or None
            if code and len(code) > MAX_CODE:
                bad.append(("code", code, reasons["code"]))
            if bad:
                lines += [(number, label[key], value, reason, "error") for key, value, reason in bad]
                continue
            name = " ".join(str(get("name") or "").split())[:MAX_NAME] or None
            rows.append(
                {
                    "row": number,
                    "key": digits,
                    "phone": e164,
                    "name": name,
                    "birthday": birthday,
                    "code": code,
                    "points": points,
                }
            )
        return rows

    def _wechat_import_dedupe(self, rows, columns, lines):
        """The rows without a phone or member number seen on an earlier row (those are reported)."""
        by_phone, by_code, kept = {}, {}, []
        phone_label = columns["phone"][1]
        code_label = columns.get("code", (None, ""))[1]
        for row in rows:
            first = by_phone.get(row["key"])
            if first:
                lines.append(
                    (
                        row["row"],
                        phone_label,
                        row["phone"],
                        _("Duplicate: the same phone as row %(row)s (this row is skipped).", row=first),
                        "duplicate",
                    )
                )
                continue
            first = row["code"] and by_code.get(row["code"])
            if first:
                lines.append(
                    (
                        row["row"],
                        code_label,
                        row["code"],
                        _("Duplicate: the same member number as row %(row)s (this row is skipped).", row=first),
                        "duplicate",
                    )
                )
                continue
            by_phone[row["key"]] = row["row"]
            if row["code"]:
                by_code[row["code"]] = row["row"]
            kept.append(row)
        return kept

    def _wechat_import_match(self, rows, columns, lines):
        """Each row with ``partner_id`` (the existing contact, or ``False``), its current values and its code.

        Same phone (phone or mobile, in the company or shared) → that contact; else a contact of the company
        with this member code and no phone → that contact.  The imported member number becomes the code of a
        new contact, or of a contact that has none, when no other contact holds it; else a code is generated.
        """
        partners, by_key, extra = self._wechat_import_phone_owners([row["key"] for row in rows])
        code_owner = self._wechat_import_code_owners([row["code"] for row in rows if row["code"]], partners)
        phone_label = columns["phone"][1]
        plan, seen = [], {}
        for row in rows:
            pid = by_key.get(row["key"])
            owner = code_owner.get(row["code"]) if row["code"] else None
            if not pid and owner and owner[1] in (self.company_id.id, None) and not owner[2]:
                pid = owner[0]  # the old member card without a phone yet
                partners[pid] = dict(partners[pid], phone=False)
            if pid and pid in seen:
                lines.append(
                    (
                        row["row"],
                        phone_label,
                        row["phone"],
                        _("Duplicate: the same contact as row %(row)s (this row is skipped).", row=seen[pid]),
                        "duplicate",
                    )
                )
                continue
            if pid:
                seen[pid] = row["row"]
            if row["key"] in extra:
                lines.append(
                    (
                        row["row"],
                        phone_label,
                        row["phone"],
                        _(
                            "Duplicate: %(count)s contacts have this phone; the oldest member is updated.",
                            count=len(extra[row["key"]]) + 1,
                        ),
                        "duplicate",
                    )
                )
            current = partners.get(pid, {}) if pid else {}
            code = self._wechat_import_row_code(row, pid, owner, current, columns, lines)
            plan.append(dict(row, partner_id=pid or False, current=current, new_code=code))
        return plan

    def _wechat_import_phone_owners(self, keys):
        """The active contacts (of the company or shared) whose phone or mobile is one of ``keys`` (11 digits).

        Returns ``(partners, by_key, extra)``: their current values by id, the contact of each phone (the
        oldest member first) and the other contacts holding the same phone.
        """
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT id, right(regexp_replace(COALESCE(phone, ''), '[^0-9]', '', 'g'), 11),
                   right(regexp_replace(COALESCE(mobile, ''), '[^0-9]', '', 'g'), 11),
                   phone, name, wechat_birthday, wechat_member_code
              FROM res_partner
             WHERE active AND (company_id = %s OR company_id IS NULL)
               AND (right(regexp_replace(COALESCE(phone, ''), '[^0-9]', '', 'g'), 11) = ANY(%s)
                    OR right(regexp_replace(COALESCE(mobile, ''), '[^0-9]', '', 'g'), 11) = ANY(%s))
             ORDER BY wechat_member_code IS NULL, id
            """,
            [self.company_id.id, keys, keys],
        )
        partners, by_key, extra = {}, {}, {}
        for pid, key_phone, key_mobile, phone, name, birthday, code in self.env.cr.fetchall():
            partners[pid] = {"phone": phone, "name": name, "birthday": birthday, "code": code}
            for key in {key_phone, key_mobile} - {""}:
                if key not in by_key:
                    by_key[key] = pid
                elif by_key[key] != pid:
                    extra.setdefault(key, []).append(pid)
        return partners, by_key, extra

    def _wechat_import_code_owners(self, codes, partners):
        """``{code: (contact id, its company id, its phone's 11 digits)}`` of the contacts holding one of
        ``codes`` as member code, in any company; their current values are added to ``partners``."""
        self.env.cr.execute(
            """
            SELECT id, company_id, phone, name, wechat_birthday, wechat_member_code FROM res_partner
             WHERE wechat_member_code = ANY(%s)
            """,
            [codes],
        )
        code_owner = {}
        for pid, pcompany, phone, name, birthday, code in self.env.cr.fetchall():
            code_owner[code] = (pid, pcompany, phone_key(phone))
            partners.setdefault(pid, {"phone": phone, "name": name, "birthday": birthday, "code": code})
        return code_owner

    def _wechat_import_row_code(self, row, pid, owner, current, columns, lines):
        """The member code to set on the row's contact: the file's member number, ``True`` (generate one) or
        ``None`` (the contact keeps its code); a duplicate line when another contact holds the number."""
        code_label = columns.get("code", (None, ""))[1]
        taken_by_other = row["code"] and owner and owner[0] != pid
        if current.get("code"):
            if taken_by_other:
                lines.append(
                    (
                        row["row"],
                        code_label,
                        row["code"],
                        _(
                            "Duplicate: this member number belongs to another contact; the contact keeps its "
                            "member code %(code)s.",
                            code=current["code"],
                        ),
                        "duplicate",
                    )
                )
            return None
        if row["code"] and not taken_by_other:
            return row["code"]
        if taken_by_other:
            lines.append(
                (
                    row["row"],
                    code_label,
                    row["code"],
                    _("Duplicate: this member number belongs to another contact; a new member " "code is generated."),
                    "duplicate",
                )
            )
        return True

    def _wechat_import_next_code(self, taken):
        """A new (random, unused) member code that no imported row keeps."""
        Partner = self.env["res.partner"].sudo()
        code = Partner._wechat_new_member_codes(1)[0]
        while code in taken:
            code = Partner._wechat_new_member_codes(1)[0]
        return code

    def _wechat_import_apply(self, plan, dry_run):
        """Create the new contacts (batched), write the changed ones; ``(created ids, changed ids)``."""
        Partner = (
            self.env["res.partner"]
            .sudo()
            .with_company(self.company_id)
            .with_context(
                tracking_disable=True, mail_create_nolog=True, mail_notrack=True, mail_create_nosubscribe=True
            )
        )
        company = self.company_id.id
        # Imported member numbers kept as codes: a generated code must not take one of them.
        taken = {row["new_code"] for row in plan if row["new_code"] and row["new_code"] is not True}
        changed, to_create = set(), []
        writes = []
        for row in plan:
            if not row["partner_id"]:
                to_create.append(row)
                continue
            current, vals = row["current"], {}
            if row["name"] and row["name"] != current.get("name"):
                vals["name"] = row["name"]
            if row["birthday"] and row["birthday"] != current.get("birthday"):
                vals["wechat_birthday"] = row["birthday"]
            if not current.get("phone"):
                vals["phone"] = row["phone"]
            if row["new_code"]:
                vals["wechat_member_code"] = row["new_code"]
            if vals:
                changed.add(row["partner_id"])
                writes.append((row["partner_id"], vals))
        if dry_run:
            return set(), changed
        for pid, vals in writes:
            if vals.get("wechat_member_code") is True:
                vals["wechat_member_code"] = self._wechat_import_next_code(taken)
            Partner.browse(pid).write(vals)
        default_name = _("Member %(phone)s")
        created = set()
        for start in range(0, len(to_create), CREATE_BATCH):
            batch = to_create[start : start + CREATE_BATCH]
            records = self._wechat_import_create(
                Partner,
                [
                    {
                        "name": row["name"] or default_name % {"phone": row["phone"]},
                        "phone": row["phone"],
                        "wechat_birthday": row["birthday"] or False,
                        "company_id": company,
                        "wechat_member_code": (
                            self._wechat_import_next_code(taken) if row["new_code"] is True else row["new_code"]
                        ),
                    }
                    for row in batch
                ],
            )
            for row, partner_id in zip(batch, records.ids, strict=True):
                row["partner_id"] = partner_id
            created.update(records.ids)
            # Keep the memory flat on 50 000 rows.
            Partner.invalidate_model()
        return created, changed

    def _wechat_import_create(self, Partner, vals_list):
        """The contacts of ``vals_list`` (the same stored, non-computed fields in each), inserted by one SQL
        ``INSERT … SELECT … FROM unnest(…) RETURNING id``; returned in the order of ``vals_list``.

        The ORM's ``create`` costs ~6.5 ms a contact; this inserts what it would: the given values, the
        defaults (``default_get``: type, active, lang, tz, ``default_*`` keys of the context, ``ir.default``)
        and the log columns.  Then every stored computed field of ``res.partner`` (commercial partner,
        complete name, sanitized phone, partner share, member flag, …, whatever the installed modules add) is
        computed by the ORM for the new ids and flushed, the Python constraints of the written fields and the
        company consistency are checked, as ``create`` does.  ``create``'s mail side (creation note,
        followers) is off for the import anyway (``tracking_disable``, ``mail_create_nolog``,
        ``mail_create_nosubscribe``).
        """
        given = list(vals_list[0])
        defaults, others = self._wechat_import_defaults(Partner, given)
        records = self._wechat_import_insert(Partner, vals_list, given, defaults)
        self._wechat_import_complete(records, given + list(defaults), others)
        return records

    def _wechat_import_defaults(self, Partner, given):
        """What ``create`` would default for the fields not in ``given``: ``(defaults, others)``, the second
        for the fields without a column (many2many: ``Command.set``)."""
        fields_ = Partner._fields
        missing = [
            name
            for name, field in fields_.items()
            if field.store and name not in given and name not in LOG_ACCESS_COLUMNS and name != "id"
        ]
        defaults = Partner.default_get(missing)
        others = {
            name: [Command.set(value)]
            if fields_[name].type == "many2many" and value and isinstance(value[0], int)
            else value
            for name, value in defaults.items()
            if not fields_[name].column_type
        }
        return defaults, others

    def _wechat_import_insert(self, Partner, vals_list, given, defaults):
        """One ``INSERT … SELECT … FROM unnest(…) RETURNING id`` of ``vals_list``, with the defaults and the
        log columns; the new contacts, in id order."""
        cr = self.env.cr
        fields_ = Partner._fields
        constants = {
            name: fields_[name].convert_to_column_insert(value, Partner, defaults)
            for name, value in defaults.items()
            if fields_[name].column_type
        }
        now = cr.now()
        constants.update(create_uid=self.env.uid, write_uid=self.env.uid, create_date=now, write_date=now)
        column_type = {name: fields_[name].column_type[1] for name in list(given) + list(constants)}
        cr.execute(
            SQL(
                """
            INSERT INTO res_partner (%(columns)s)
            SELECT %(values)s
              FROM unnest(%(arrays)s) WITH ORDINALITY AS t(%(names)s, ord)
             ORDER BY t.ord
            RETURNING id
            """,
                columns=SQL(", ").join(SQL.identifier(name) for name in given + list(constants)),
                values=SQL(", ").join(
                    [SQL.identifier("t", name) for name in given]
                    + [SQL("%s::%s", value, SQL(column_type[name])) for name, value in constants.items()]
                ),
                arrays=SQL(", ").join(
                    SQL(
                        "%s::%s[]",
                        [fields_[name].convert_to_column_insert(vals[name], Partner, vals) for vals in vals_list],
                        SQL(column_type[name]),
                    )
                    for name in given
                ),
                names=SQL(", ").join(SQL.identifier(name) for name in given),
            )
        )
        return Partner.browse(sorted(id_ for (id_,) in cr.fetchall()))

    def _wechat_import_complete(self, records, written, others):
        """What ``create`` does after its INSERT: the stored computed fields computed and flushed, the
        non-column defaults written, the constraints and the company consistency checked."""
        fields_ = records._fields
        cache = self.env.cache
        for field in fields_.values():
            if field.related and not field.column_type:
                # As ``_create``: a related field stored elsewhere (the image sizes, as attachments) is empty
                # when its source is not given; computing it would search the attachments once per record.
                if field.related.split(".")[0] not in written:
                    for record in records:
                        cache.set(record, field, field.convert_to_cache(None, record))
                    continue
            if field.store and field.compute and field.name not in written:
                self.env.add_to_compute(field, records)
        records.modified(written, create=True)
        # An empty many2many default (``category_id``: no tags) is nothing to write on a new record.
        others = {
            name: value
            for name, value in others.items()
            if not (
                fields_[name].type == "many2many"
                and all(command[0] == Command.SET and not command[2] for command in value)
            )
        }
        if others:
            records.write(others)
        records._validate_fields(written)
        if records._check_company_auto:
            records._check_company()
        records.flush_recordset()
        self.env.flush_all()

    def _wechat_import_points(self, plan, columns, lines, dry_run):
        """Hook: set the file's points; returns the ids of the contacts whose points changed.

        ``wechat_member`` has no points ledger: ``wechat_coupon`` sets them on a loyalty card.
        """
        return set()


class WeChatMemberImportLine(models.TransientModel):
    _name = "wechat.member.import.line"
    _description = "Member Import: Error or Duplicate"
    _order = "row, id"

    import_id = fields.Many2one("wechat.member.import", required=True, ondelete="cascade")
    company_id = fields.Many2one(related="import_id.company_id")
    row = fields.Integer("Row", help="Row number in the file (the header is row 1).")
    column = fields.Char("Column")
    value = fields.Char("Value")
    reason = fields.Char("Reason")
    kind = fields.Selection([("error", "Error"), ("duplicate", "Duplicate")], string="Kind", default="error")
