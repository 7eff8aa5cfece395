"""Points of the member import: set on a loyalty card of the chosen program, with one history line per change.

``wechat_member`` has no ``loyalty`` dependency; the import's points hook is
filled here, where ``loyalty`` is.  Cards and history lines are inserted by
batched SQL (``INSERT … RETURNING`` feeding the history insert, codes from
``loyalty.card._wechat_generate_codes``), as ``_wechat_bulk_create`` does.
"""

from odoo import _, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare

BATCH_SIZE = 10000
CODE_ATTEMPTS = 5


class WeChatMemberImport(models.TransientModel):
    _inherit = "wechat.member.import"

    program_id = fields.Many2one(
        "loyalty.program",
        "Loyalty Program",
        check_company=True,
        domain="[('program_type', '=', 'loyalty'), ('company_id', 'in', [company_id, False])]",
        help="The imported points balance is set on each member's card of this program.",
    )

    def _wechat_import_points(self, plan, columns, lines, dry_run):
        changed = super()._wechat_import_points(plan, columns, lines, dry_run)
        rows = [row for row in plan if row["points"] is not None]
        if not rows or "points" not in columns:
            return changed
        program = self.program_id
        if not program:
            lines.append(
                (1, columns["points"][1], "", _("No loyalty program chosen: the points are not imported."), "error")
            )
            return changed
        new, updates = self._wechat_import_points_plan(rows)
        changed |= {row["partner_id"] for row in new if row["partner_id"]}
        changed |= {pid for __, __, __, pid in updates}
        if dry_run:
            return changed
        params = {
            "program": program.id,
            "company": program.company_id.id or None,
            "uid": self.env.uid,
            "now": fields.Datetime.now(),
            "description": _("Imported"),
        }
        if updates:
            self._wechat_import_update_cards(updates, params)
        for start in range(0, len(new), BATCH_SIZE):
            self._wechat_import_new_cards(
                [(row["partner_id"], row["points"]) for row in new[start : start + BATCH_SIZE]], params
            )
        self.env["loyalty.card"].invalidate_model()
        self.env["loyalty.history"].invalidate_model()
        self.env["loyalty.program"].invalidate_model(["coupon_ids", "coupon_count"])
        self.env["res.partner"].invalidate_model(["loyalty_card_count"])
        return changed

    def _wechat_import_points_plan(self, rows):
        """``(new, updates)``: the rows whose contact has no card of the program yet (with points), and
        ``(card id, points, difference, contact id)`` of the cards whose balance differs from the file."""
        self.env.flush_all()
        known = [row["partner_id"] for row in rows if row["partner_id"]]
        self.env.cr.execute(
            """
            SELECT DISTINCT ON (partner_id) partner_id, id, points FROM loyalty_card
             WHERE program_id = %s AND active AND partner_id = ANY(%s)
             ORDER BY partner_id, id
            """,
            [self.program_id.id, known],
        )
        cards = {pid: (card_id, points) for pid, card_id, points in self.env.cr.fetchall()}
        new, updates = [], []
        for row in rows:
            card = cards.get(row["partner_id"]) if row["partner_id"] else None
            if not card:
                if float_compare(row["points"], 0, precision_digits=2) > 0:
                    new.append(row)
            elif float_compare(card[1], row["points"], precision_digits=2):
                updates.append((card[0], row["points"], row["points"] - card[1], row["partner_id"]))
        return new, updates

    def _wechat_import_update_cards(self, updates, params):
        """Set the file's balance on existing cards, with one "Imported" history line per card (SQL)."""
        self.env.cr.execute(
            """
            WITH card AS (
                UPDATE loyalty_card c SET points = t.points, write_uid = %(uid)s, write_date = %(now)s
                  FROM unnest(%(ids)s::int[], %(points)s::float8[], %(diffs)s::float8[]) AS t(id, points, diff)
                 WHERE c.id = t.id
                RETURNING c.id, t.diff
            )
            INSERT INTO loyalty_history (card_id, description, issued, used, create_uid, write_uid,
                                         create_date, write_date)
            SELECT card.id, %(description)s, GREATEST(card.diff, 0), GREATEST(-card.diff, 0),
                   %(uid)s, %(uid)s, %(now)s, %(now)s
              FROM card
            """,
            dict(params, ids=[u[0] for u in updates], points=[u[1] for u in updates], diffs=[u[2] for u in updates]),
        )

    def _wechat_import_new_cards(self, pending, params):
        """Cards of the program for ``pending`` ``(contact id, points)``, with their history line (SQL);
        codes that another card took meanwhile are drawn again (``CODE_ATTEMPTS`` times)."""
        for __ in range(CODE_ATTEMPTS):
            codes = self.env["loyalty.card"]._wechat_generate_codes(len(pending))
            self.env.cr.execute(
                """
                WITH card AS (
                    INSERT INTO loyalty_card (program_id, company_id, partner_id, points, code, active,
                                              create_uid, write_uid, create_date, write_date)
                    SELECT %(program)s, %(company)s, t.partner_id, t.points, t.code, TRUE,
                           %(uid)s, %(uid)s, %(now)s, %(now)s
                      FROM unnest(%(partners)s::int[], %(points)s::float8[], %(codes)s::varchar[])
                           AS t(partner_id, points, code)
                    ON CONFLICT DO NOTHING
                    RETURNING id, points, code
                ), history AS (
                    INSERT INTO loyalty_history (card_id, description, issued, used, create_uid, write_uid,
                                                 create_date, write_date)
                    SELECT card.id, %(description)s, card.points, 0, %(uid)s, %(uid)s, %(now)s, %(now)s
                      FROM card
                )
                SELECT code FROM card
                """,
                dict(params, partners=[p[0] for p in pending], points=[p[1] for p in pending], codes=codes),
            )
            inserted = {r[0] for r in self.env.cr.fetchall()}
            pending = [p for p, code in zip(pending, codes, strict=True) if code not in inserted]
            if not pending:
                return
        raise UserError(_("Could not generate unique loyalty card codes; please try again."))
