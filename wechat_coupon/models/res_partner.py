from odoo import _, api, fields, models

# WeChat's limit on the content of a text reply (UTF-8 bytes).
TEXT_REPLY_MAX_BYTES = 2048


class ResPartner(models.Model):
    _inherit = "res.partner"

    def _wechat_loyalty_cards(self, program_types):
        self.ensure_one()
        today = self.env.company._wechat_today()
        return (
            self.env["loyalty.card"]
            .sudo()
            .search(
                [
                    ("partner_id", "=", self.id),
                    ("program_id.program_type", "in", program_types),
                    ("program_id.active", "=", True),
                    "|",
                    ("expiration_date", "=", False),
                    ("expiration_date", ">=", today),
                ]
            )
        )

    def _wechat_points_cards(self):
        """The member's cards of every loyalty points program (the ledger is Odoo's loyalty), those of
        ``wechat_referral``'s points programs included; not the stamp cards (their points are stamps)."""
        self.ensure_one()
        return self._wechat_loyalty_cards(["loyalty"]).filtered(lambda card: not card.program_id.wechat_stamp_card)

    def _wechat_stamp_cards(self, company):
        """The member's stamp cards at ``company``, as ``loyalty.program._wechat_stamp_values``: one per running
        stamp card program of the company, the card drawn empty when the member has none yet."""
        self.ensure_one()
        programs = self.env["loyalty.program"]._wechat_stamp_programs(company)
        cards = self._wechat_loyalty_cards(["loyalty"]).filtered(lambda card: card.program_id in programs)
        values = []
        for program in programs:
            card = cards.filtered(lambda c, program=program: c.program_id == program).sorted("id")[:1]
            values.append(program._wechat_stamp_values(card))
        return values

    def _wechat_points_text(self):
        """Adds the next expiry of each points card whose points expire ("120 points expire on 2027-03-31")."""
        text = super()._wechat_points_text()
        expiring = [line for card in self._wechat_points_cards() for line in card._wechat_points_expiry_texts(1)]
        return "\n".join([text] + expiring)

    def _wechat_coupons_text(self):
        self.ensure_one()
        cards = self._wechat_loyalty_cards(["coupons", "promo_code", "next_order_coupons"]).filtered(
            lambda c: c.points > 0
        )
        if not cards:
            return super()._wechat_coupons_text()
        lines = [_("Your coupons:")]
        for card in cards:
            lines.append(
                _(
                    "%(program)s: %(code)s (until %(date)s)",
                    program=card.program_id.name,
                    code=card.code,
                    date=card.expiration_date or "-",
                )
            )
        return "\n".join(lines)

    def _wechat_offers_text(self):
        """What "offers" answers: the coupon campaigns the member can claim now, with their claim links (at most
        5, within WeChat's 2048 bytes of a text reply); the member is the one the reply rule answers, else the
        contact's latest."""
        self.ensure_one()
        member_id = self.env.context.get("wechat_coupon_member_id")
        member = self.env["wechat.member"].sudo().browse(member_id).exists() if member_id else None
        member = member or self.sudo().wechat_member_ids[:1]
        offers = self.env["wechat.coupon.campaign"]._claimable_offers(member) if member else []
        if not offers:
            return super()._wechat_offers_text()
        text = _("Offers running now:")
        for offer in offers:
            line = offer._offer_text()
            if len(f"{text}\n{line}".encode()) > TEXT_REPLY_MAX_BYTES:
                break
            text = f"{text}\n{line}"
        return text

    def _wechat_wallet_cards(self, account):
        """The coupons shown in the member's wallet: valid ones first, then used and expired (recent)."""
        self.ensure_one()
        cards = (
            self.env["loyalty.card"]
            .sudo()
            .search(
                [
                    ("partner_id", "=", self.id),
                    ("program_id.program_type", "in", ["coupons", "promo_code"]),
                    ("company_id", "in", [False, account.company_id.id]),
                ],
                order="id desc",
                limit=100,
            )
        )
        today = account.company_id._wechat_today()
        return cards.sorted(lambda c: (c._wechat_status(today) != "valid", c.expiration_date or today, -c.id))

    def _wechat_valid_wallet_cards(self, account):
        """The valid coupons of the member's wallet, in the wallet's order (the member page's "My coupons")."""
        cards = self._wechat_wallet_cards(account)
        today = account.company_id._wechat_today()
        return cards.filtered(lambda c: c._wechat_status(today) == "valid")

    # ------------------------------------------------------------------ member levels
    wechat_level_member_ids = fields.One2many("wechat.member.level.member", "partner_id", string="Member Levels")
    wechat_level_id = fields.Many2one(
        "wechat.member.level",
        string="Member Level",
        compute="_compute_wechat_level",
        help="The contact's level at the current company.",
    )
    wechat_level_name = fields.Char("Member Level Name", compute="_compute_wechat_level")
    wechat_level_multiplier = fields.Float("Points Multiplier", compute="_compute_wechat_level")
    wechat_level_history_count = fields.Integer("Level Changes", compute="_compute_wechat_level_history_count")

    @api.depends_context("company")
    @api.depends("wechat_level_member_ids.level_id", "wechat_level_member_ids.company_id")
    def _compute_wechat_level(self):
        company = self.env.company
        rows = (
            self.env["wechat.member.level.member"]
            .sudo()
            .search([("partner_id", "in", self._origin.ids), ("company_id", "=", company.id)])
        )
        by_partner = {row.partner_id.id: row.level_id for row in rows}
        for partner in self:
            level = by_partner.get(partner._origin.id) or self.env["wechat.member.level"]
            partner.wechat_level_id = level.id
            partner.wechat_level_name = level.with_context(lang=self.env.lang).name or False
            partner.wechat_level_multiplier = level.points_multiplier or 1.0

    def _compute_wechat_level_history_count(self):
        counts = dict(
            self.env["wechat.member.level.history"]._read_group(
                [("partner_id", "in", self._origin.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.wechat_level_history_count = counts.get(partner._origin, 0)

    def action_view_wechat_level_history(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("wechat_coupon.wechat_member_level_history_action")
        action.update(domain=[("partner_id", "=", self.id)], context={"create": False})
        return action

    def _wechat_level_ladder(self, company):
        """The levels that apply to this contact at ``company``, lowest first: those of one of the contact's
        WeChat accounts there, else those of the company without an account."""
        self.ensure_one()
        levels = self.env["wechat.member.level"].sudo().search([("company_id", "=", company.id)])
        if not levels:
            return levels
        accounts = self.sudo().wechat_member_ids.account_id
        own = levels.filtered(lambda lv: lv.account_id and lv.account_id in accounts)
        if own:
            return own.filtered(lambda lv: lv.account_id == own[0].account_id)
        return levels.filtered(lambda lv: not lv.account_id)

    def _wechat_level_evaluate(self, company, reason):
        """Re-evaluate these contacts' levels at ``company`` from their qualifying value (one aggregate query
        per ladder for all of them); up at once, except for a refund (a refund never upgrades); a member below
        their level gets no downgrade here (the nightly check decides), but one back above has the pending
        downgrade cleared.  Returns the changed level rows."""
        LevelMember = self.env["wechat.member.level.member"].sudo()
        changed = LevelMember
        if not self:
            return changed
        ladders = {}
        for partner in self:
            ladder = partner._wechat_level_ladder(company)
            if ladder:
                ladders.setdefault(tuple(ladder.ids), (ladder, []))[1].append(partner.id)
        if not ladders:
            return changed
        ids = [partner_id for __, partner_ids in ladders.values() for partner_id in partner_ids]
        self.env.flush_all()
        # The rows of these contacts at this company, locked: concurrent syncs of one member, one after the other.
        self.env.cr.execute(
            """
            INSERT INTO wechat_member_level_member (partner_id, company_id, qualifying_value, pending,
                                                    create_uid, write_uid, create_date, write_date)
            SELECT unnest(%s::int[]), %s, 0, FALSE, %s, %s, now() at time zone 'UTC', now() at time zone 'UTC'
            ON CONFLICT (partner_id, company_id) DO NOTHING
            """,
            [ids, company.id, self.env.uid, self.env.uid],
        )
        self.env.cr.execute(
            "SELECT id, partner_id FROM wechat_member_level_member WHERE partner_id = ANY(%s) AND company_id = %s"
            " ORDER BY id FOR UPDATE",
            [ids, company.id],
        )
        row_of = {partner_id: row_id for row_id, partner_id in self.env.cr.fetchall()}
        LevelMember.invalidate_model()
        Level = self.env["wechat.member.level"]
        for ladder, partner_ids in ladders.values():
            self.env.cr.execute(Level._value_sql(ladder[0].basis, ladder[0].period, company, partner_ids))
            values = dict(self.env.cr.fetchall())
            for partner_id in partner_ids:
                row = LevelMember.browse(row_of[partner_id])
                value = values.get(partner_id) or 0.0
                if row.qualifying_value != value:
                    row.qualifying_value = value
                target = ladder._for_value(value)
                current = row.level_id if row.level_id in ladder else Level
                if target and (not current or target.threshold > current.threshold):
                    if reason != "refund" or not current:
                        row._change_level(target, reason)
                        changed |= row
                elif row.downgrade_date and current and value >= current.threshold:
                    row.downgrade_date = False
        if changed:
            # The automatic tags of the levels follow at once (the tag rules ran before, with the statistics).
            self.env["wechat.tag.rule"]._apply_to_partners(changed.partner_id)
        return changed

    @api.model
    def _load_pos_data_fields(self, config_id):
        return super()._load_pos_data_fields(config_id) + ["wechat_level_name", "wechat_level_multiplier"]
