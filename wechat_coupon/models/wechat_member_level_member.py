from odoo import _, fields, models

# Why a member's level changed.
LEVEL_REASONS = [
    ("purchase", "Purchase"),
    ("refund", "Refund"),
    ("schedule", "Scheduled Check"),
    ("threshold", "Threshold Change"),
    ("manual", "Manual"),
]


class WeChatMemberLevelMember(models.Model):
    """The level of a contact at a company (one per company), with the value that qualifies them."""

    _name = "wechat.member.level.member"
    _description = "WeChat Member Level of a Contact"
    _order = "company_id, level_id, id"
    _rec_name = "partner_id"
    _check_company_auto = True

    partner_id = fields.Many2one("res.partner", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one("res.company", required=True, index=True)
    level_id = fields.Many2one("wechat.member.level", ondelete="restrict", index=True, check_company=True)
    qualifying_value = fields.Float(digits="Account", readonly=True)
    since = fields.Datetime(readonly=True)
    downgrade_date = fields.Date(
        readonly=True, help="Below the level's threshold: the level goes down on this date unless back above."
    )
    pending = fields.Boolean(readonly=True, help="To re-evaluate by the background job (thresholds changed).")

    _sql_constraints = [
        ("partner_company_uniq", "UNIQUE(partner_id, company_id)", "A contact has one level per company."),
    ]

    def _change_level(self, level, reason):
        """Move to ``level`` (may be empty), with a history line and, up, a notice."""
        self.ensure_one()
        old = self.level_id
        if old == level:
            return False
        self.write({"level_id": level.id, "since": fields.Datetime.now(), "downgrade_date": False})
        self.env["wechat.member.level.history"].sudo().create(
            {
                "partner_id": self.partner_id.id,
                "company_id": self.company_id.id,
                "from_level_id": old.id,
                "to_level_id": level.id,
                "reason": reason,
                "qualifying_value": self.qualifying_value,
            }
        )
        if level and level.threshold > (old.threshold if old else 0.0):
            self._notify_upgrade()
        self.partner_id.invalidate_recordset(["wechat_level_id", "wechat_level_name", "wechat_level_multiplier"])
        return True

    def _members(self):
        """The WeChat members to tell: of the level's account, else of the company."""
        self.ensure_one()
        members = self.partner_id.sudo().wechat_member_ids.filtered(lambda m: m.company_id == self.company_id)
        if self.level_id.account_id:
            members = members.filtered(lambda m: m.account_id == self.level_id.account_id)
        return members

    def _notify_upgrade(self):
        Notice = self.env["wechat.notice"].sudo()
        for row in self:
            members = row._members()
            if members:
                Notice._notify(
                    "level_upgrade",
                    members,
                    {"level": row.level_id.name, "level_id": row.level_id.id},
                    key=f"level-{row.id}-{row.level_id.id}-{fields.Datetime.to_string(row.since)}",
                )

    def _notify_downgrade(self):
        Notice = self.env["wechat.notice"].sudo()
        for row in self:
            members = row._members()
            lower = row.level_id._ladder()._for_value(row.qualifying_value)
            if members:
                Notice._notify(
                    "level_downgrade",
                    members,
                    {
                        "level": row.level_id.name,
                        "level_id": row.level_id.id,
                        "new_level": lower.name or "",
                        "date": fields.Date.to_string(row.downgrade_date),
                        "missing": row._display_value(row.level_id.threshold - row.qualifying_value),
                    },
                    key=f"level-down-{row.id}-{row.level_id.id}-{fields.Date.to_string(row.downgrade_date)}",
                )

    def _next_level(self):
        """``(next level, missing value)`` or ``(empty, 0)`` at the top."""
        self.ensure_one()
        ladder = self.level_id._ladder() if self.level_id else self.env["wechat.member.level"]
        above = ladder.filtered(lambda lv: lv.threshold > self.level_id.threshold)
        if not above:
            return ladder.browse(), 0.0
        return above[0], max(above[0].threshold - self.qualifying_value, 0.0)

    def _display_value(self, value):
        self.ensure_one()
        if self.level_id.basis == "points":
            points = f"{value:g}"
            return _("%(points)s points", points=points)
        return f"{self.company_id.currency_id.symbol or ''}{value:,.0f}"

    def _member_page_values(self):
        """The member page's level card: name, next level, what is missing and the downgrade date."""
        self.ensure_one()
        level = self.level_id
        nxt, missing = self._next_level()
        values = {
            "name": level.name,
            "next": nxt.name or False,
            "next_text": False,
            "progress": 100,
            "downgrade_text": False,
        }
        if nxt:
            span = (nxt.threshold - level.threshold) or 1.0
            values["progress"] = int(max(0.0, min(1.0, (self.qualifying_value - level.threshold) / span)) * 100)
            values["next_text"] = _(
                "%(missing)s more to %(level)s", missing=self._display_value(missing), level=nxt.name
            )
        if self.downgrade_date:
            values["downgrade_text"] = _(
                "Your level ends on %(date)s unless you reach %(missing)s more by then.",
                date=fields.Date.to_string(self.downgrade_date),
                missing=self._display_value(max(level.threshold - self.qualifying_value, 0.0)),
            )
        return values
