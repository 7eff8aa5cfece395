import logging
import secrets

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import consteq, float_compare
from odoo.tools.misc import hmac as hmac_sign

_logger = logging.getLogger(__name__)

# Cards (and their history lines) inserted per statement by the bulk issue.
BATCH_SIZE = 50000
# Statements tried per batch: the rows whose new code was already taken are retried with new codes.
CODE_ATTEMPTS = 5
COUPON_PROGRAM_TYPES = ("coupons", "promo_code")
WECHAT_ORIGINS = [("issue", "Campaign issue"), ("claim", "Claim page"), ("automation", "Automation")]


class LoyaltyCard(models.Model):
    _inherit = "loyalty.card"

    wechat_campaign_id = fields.Many2one(
        "wechat.coupon.campaign", string="WeChat Campaign", index="btree_not_null", readonly=True, ondelete="restrict"
    )
    wechat_automation_id = fields.Many2one(
        "wechat.coupon.automation",
        string="WeChat Automation",
        index="btree_not_null",
        readonly=True,
        ondelete="set null",
    )
    wechat_recipient_id = fields.Many2one(
        "res.partner",
        string="Issued To",
        readonly=True,
        ondelete="set null",
        help="The member the coupon was issued to; the holder (Customer) changes when it is forwarded.",
    )
    wechat_seq = fields.Integer("Coupon Number", readonly=True, help="1 to the campaign's limit per member.")
    wechat_origin = fields.Selection(WECHAT_ORIGINS, string="WeChat Origin", readonly=True, index="btree_not_null")
    wechat_claim_date = fields.Datetime(
        "Claimed On", readonly=True, help="When the member claimed the coupon or first saw it in the wallet."
    )
    wechat_redeem_order_id = fields.Many2one("pos.order", string="Redeemed In", readonly=True, index="btree_not_null")
    wechat_transfer_ids = fields.One2many("wechat.coupon.transfer", "card_id", string="Transfers", readonly=True)

    def init(self):
        res = super().init()
        # One coupon per (campaign, member, number): issuing twice never gives a second one.
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS loyalty_card_wechat_campaign_recipient_uniq
                ON loyalty_card (wechat_campaign_id, wechat_recipient_id, wechat_seq)
             WHERE wechat_campaign_id IS NOT NULL
            """
        )
        return res

    # ------------------------------------------------------------------ POS
    @api.model
    def _load_pos_data_domain(self, data):
        # WeChat coupons (possibly 100 000s) are fetched when scanned, not preloaded in every till.
        return super()._load_pos_data_domain(data) + [("wechat_origin", "=", False)]

    # ------------------------------------------------------------------ status
    def _wechat_status(self, today=None):
        """``valid``, ``used`` or ``expired`` (for the wallet)."""
        self.ensure_one()
        today = today or self.company_id._wechat_today()
        if not self.active or self.points <= 0 or self.wechat_redeem_order_id:
            return "used"
        if (
            (self.expiration_date and self.expiration_date < today)
            or (self.program_id.date_to and self.program_id.date_to < today)
            or not self.program_id.active
        ):
            return "expired"
        return "valid"

    # ------------------------------------------------------------------ points that expire
    def _wechat_points_expiry_schedule(self, limit=3):
        """``[(expiry date, points)]``: the next ``limit`` dates on which points of this card expire, and how
        many on each, by the nightly job's rule (first in, first out: see
        ``loyalty.program._wechat_expire_points``) if nothing more is earned or spent.  Empty when the program
        has no validity."""
        self.ensure_one()
        program = self.program_id
        if program.program_type != "loyalty" or program.wechat_points_validity <= 0 or self.points <= 0:
            return []
        today = program._wechat_points_local_today()
        __, start = program._wechat_points_cutoff(today)
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT COALESCE(SUM(issued) FILTER (WHERE create_date < %(start)s), 0) - COALESCE(SUM(used), 0)
              FROM loyalty_history WHERE card_id = %(card)s
            """,
            {"card": self.id, "start": start},
        )
        due = self.env.cr.fetchone()[0]
        self.env.cr.execute(
            """
            SELECT (create_date AT TIME ZONE 'UTC' AT TIME ZONE %(tz)s)::date, SUM(issued)
              FROM loyalty_history
             WHERE card_id = %(card)s AND issued > 0 AND create_date >= %(start)s
             GROUP BY 1 ORDER BY 1
            """,
            {"card": self.id, "start": start, "tz": program._wechat_points_tz().zone},
        )
        schedule = []
        # Points past their date that tonight's job has not expired yet expire today.
        days = [(None, 0.0)] + self.env.cr.fetchall()
        expired = 0.0
        for day, issued in days:
            due += issued
            now_expired = max(0.0, min(self.points, due))
            if now_expired > expired:
                date = max(program._wechat_points_expiry_date(day), today) if day else today
                if schedule and schedule[-1][0] == date:
                    schedule[-1] = (date, schedule[-1][1] + now_expired - expired)
                elif len(schedule) < limit:
                    schedule.append((date, now_expired - expired))
                else:
                    break
                expired = now_expired
            if expired >= self.points:
                break
        return schedule

    def _wechat_points_expiry_texts(self, limit=3):
        """ "120 points expire on 2027-03-31", for each of the next ``limit`` expiry dates of the card."""
        texts = []
        # A loop, not a list comprehension: _() finds the language in the calling frame's ``self``.
        for date, points in self._wechat_points_expiry_schedule(limit=limit):
            texts.append(
                _("%(points)s points expire on %(date)s", points=format(points, "g"), date=fields.Date.to_string(date))
            )
        return texts

    # ------------------------------------------------------------------ bulk issue
    @api.model
    def _wechat_generate_codes(self, count):
        """``count`` new coupon codes, made in one go for the bulk issue and the forward.

        They start with 044 as Odoo's ``_generate_code`` (pos_loyalty's coupon
        barcode rule) but carry 64 random bits instead of its 32: at 100 000
        coupons 32-bit codes collide within a single issue, and a code is
        what the till accepts.  Override this to change the format.
        """
        digits = secrets.token_hex(8 * count)
        return ["044" + digits[i : i + 16] for i in range(0, 16 * count, 16)]

    @api.model
    def _wechat_bulk_create(
        self,
        program,
        rows,
        points=1.0,
        expiration_date=False,
        description="",
        origin="issue",
        campaign=None,
        automation=None,
        claim_date=None,
    ):
        """Insert one coupon per ``(partner_id, seq)`` of ``rows`` with batched SQL.

        One statement per batch inserts the cards and their ``loyalty.history``
        line (``INSERT … RETURNING`` feeding the history insert), with codes
        from ``_wechat_generate_codes``.  Rows that already have a coupon of
        ``campaign`` are skipped (unique index, ``ON CONFLICT DO NOTHING``),
        so issuing twice is harmless even concurrently; a code that is
        already taken (or is a program's trigger code) is retried with a new
        one.  Returns the new cards, their holder in the cache.
        """
        program.ensure_one()
        if not rows:
            return self.browse()
        self.env.flush_all()
        rule_codes = set(
            self.env["loyalty.rule"].sudo().search([("mode", "=", "with_code"), ("code", "!=", False)]).mapped("code")
        )
        now = fields.Datetime.now()
        params = {
            "program": program.id,
            "company": program.company_id.id or None,
            "points": points,
            "exp": expiration_date or None,
            "campaign": campaign.id if campaign else None,
            "automation": automation.id if automation else None,
            "origin": origin,
            "claim": claim_date,
            "uid": self.env.uid,
            "now": now,
            "description": description or _("Gift For Customer"),
        }
        created = []
        for start in range(0, len(rows), BATCH_SIZE):
            created += self._wechat_bulk_create_batch(rows[start : start + BATCH_SIZE], params, rule_codes, campaign)
        return self._wechat_bulk_created_cards([r[0] for r in created], [r[1] for r in created])

    @api.model
    def _wechat_bulk_create_batch(self, pending, params, rule_codes, campaign):
        """Insert the coupons of one batch of ``(partner_id, seq)`` rows; the ``(id, partner_id, code)`` inserted.

        A row whose new code was already taken is tried again with another
        code, ``CODE_ATTEMPTS`` statements at most; then ``UserError``.
        """
        created = []
        for __ in range(CODE_ATTEMPTS):
            if not pending:
                break
            codes = self._wechat_generate_codes(len(pending))
            if rule_codes and not rule_codes.isdisjoint(codes):
                codes = [code if code not in rule_codes else None for code in codes]
            result = self._wechat_bulk_insert(pending, codes, params)
            created += result
            if len(result) == len(pending):
                pending = []
                break
            pending = self._wechat_bulk_retry_rows(pending, codes, result, campaign)
        if pending:
            raise UserError(_("Could not generate unique coupon codes; please try again."))
        return created

    @api.model
    def _wechat_bulk_insert(self, pending, codes, params):
        """One statement: the cards of ``pending`` with ``codes`` and their history line; the rows inserted.

        A row with no code (``None``: a program's trigger code was drawn) or
        that conflicts (code taken, coupon already issued) is not inserted.
        Returns ``[(id, partner_id, code)]``.
        """
        self.env.cr.execute(
            """
            WITH card AS (
                INSERT INTO loyalty_card (program_id, company_id, partner_id, points, code, expiration_date,
                                          active, wechat_campaign_id, wechat_automation_id,
                                          wechat_recipient_id, wechat_seq, wechat_origin, wechat_claim_date,
                                          create_uid, write_uid, create_date, write_date)
                SELECT %(program)s, %(company)s, t.partner_id, %(points)s, t.code, %(exp)s, TRUE,
                       %(campaign)s, %(automation)s, t.partner_id, t.seq, %(origin)s, %(claim)s,
                       %(uid)s, %(uid)s, %(now)s, %(now)s
                  FROM unnest(%(partners)s::int[], %(seqs)s::int[], %(codes)s::varchar[])
                       AS t(partner_id, seq, code)
                 WHERE t.code IS NOT NULL
                ON CONFLICT DO NOTHING
                RETURNING id, partner_id, code
            ), history AS (
                INSERT INTO loyalty_history (card_id, description, issued, used, create_uid, write_uid,
                                             create_date, write_date)
                SELECT card.id, %(description)s, %(points)s, 0, %(uid)s, %(uid)s, %(now)s, %(now)s
                  FROM card
            )
            SELECT id, partner_id, code FROM card
            """,
            dict(params, partners=[r[0] for r in pending], seqs=[r[1] for r in pending], codes=codes),
        )
        return self.env.cr.fetchall()

    @api.model
    def _wechat_bulk_retry_rows(self, pending, codes, result, campaign):
        """The rows of ``pending`` not inserted by ``result`` because their code was taken: to retry.

        The rows that already have their coupon of ``campaign`` (issued
        before, or concurrently) are not code collisions: they are dropped.
        """
        inserted = {r[2] for r in result}
        missing = [row for row, code in zip(pending, codes, strict=False) if code not in inserted]
        if campaign:
            # Already issued (not a code collision): nothing to do for those.
            self.env.cr.execute(
                """
                SELECT wechat_recipient_id, wechat_seq FROM loyalty_card
                 WHERE wechat_campaign_id = %s AND wechat_recipient_id = ANY(%s)
                """,
                [campaign.id, [r[0] for r in missing]],
            )
            existing = set(self.env.cr.fetchall())
            missing = [r for r in missing if (r[0], r[1]) not in existing]
        if missing:
            _logger.info("Bulk coupon issue: %s code(s) already taken, retried with new codes", len(missing))
        return missing

    @api.model
    def _wechat_bulk_created_cards(self, created_ids, created_partners):
        """The cards inserted in SQL, after resetting the ORM caches; their holder is put in the cache."""
        # The ORM caches know nothing of these rows; the holders are known, the callers notify them.
        self.invalidate_model()
        self.env["loyalty.history"].invalidate_model()
        self.env["loyalty.program"].invalidate_model(["coupon_ids", "coupon_count"])
        self.env["res.partner"].invalidate_model(["loyalty_card_count"])
        cards = self.browse(created_ids)
        self.env.cache.update(cards, self._fields["partner_id"], created_partners)
        return cards

    # ------------------------------------------------------------------ redemption
    def _wechat_redemption_error(self, point_changes, company):
        """Lock the cards that an order spends and check them; the refusal message or ``False``.

        ``point_changes``: ``{card id: points change}`` (negative when spent).
        The rows are locked (``SELECT … FOR UPDATE``, in id order) until the
        end of the transaction, so two tills redeeming one coupon at once are
        serialised: the second sees the points already spent.
        """
        spent = {int(k): v for k, v in point_changes.items() if int(k) > 0 and v < 0}
        if not spent:
            return False
        self.env.flush_all()
        # A concurrent redemption makes this fail with a serialization error: the request is retried.
        self.env.cr.execute(
            "SELECT id FROM loyalty_card WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
            [sorted(spent)],
            log_exceptions=False,
        )
        found = {row[0] for row in self.env.cr.fetchall()}
        cards = self.sudo().browse(sorted(found))
        cards.invalidate_recordset()
        if set(spent) - found:
            return _("Some coupons are invalid. The applied coupons have been updated. Please check the order.")
        today = (company or self.env.company)._wechat_today()
        for card in cards:
            code = card.code
            if not card.active or not card.program_id.active:
                return _("This coupon is no longer valid (%(code)s).", code=code)
            if card.company_id and company and card.company_id != company:
                return _(
                    "This coupon (%(code)s) belongs to another company (%(company)s) and cannot be used here.",
                    code=code,
                    company=card.company_id.name,
                )
            if card.expiration_date and card.expiration_date < today:
                return _(
                    "This coupon has expired (%(code)s, valid until %(date)s).", code=code, date=card.expiration_date
                )
            if float_compare(card.points, -spent[card.id], 2) < 0:
                if card.points <= 0 or card.wechat_redeem_order_id:
                    return _("This coupon has already been used (%(code)s).", code=code)
                return _("There are not enough points for the coupon: %(code)s.", code=code)
        return False

    # ------------------------------------------------------------------ forward to a friend
    def _wechat_forward_token(self, partner=None, code=None):
        """HMAC of (card, holder, code): a new holder or a new code invalidates older links."""
        self.ensure_one()
        partner_id = partner.id if partner is not None else self.partner_id.id
        message = f"{self.id}:{partner_id}:{code or self.code}"
        return hmac_sign(self.env(su=True), "wechat-coupon-forward", message)[:32]

    def _wechat_check_forward_token(self, token):
        """``True`` if ``token`` is the current link; else raise a clear error (forged or used)."""
        self.ensure_one()
        if consteq(str(token or ""), self._wechat_forward_token()):
            return True
        for transfer in self.sudo().wechat_transfer_ids:
            if consteq(str(token or ""), self._wechat_forward_token(transfer.from_partner_id, transfer.old_code)):
                raise UserError(_("This coupon has already been passed on: a share link can be used only once."))
        raise UserError(_("This link is not valid. Ask your friend to share the coupon again."))

    def _wechat_accept_forward(self, member, token):
        """The friend ``member`` takes the coupon: it becomes theirs, with a new code."""
        self.ensure_one()
        card = self.sudo()
        self.env.flush_all()
        self.env.cr.execute("SELECT id FROM loyalty_card WHERE id = %s FOR UPDATE", [card.id], log_exceptions=False)
        card.invalidate_recordset()
        card._wechat_check_forward_token(token)
        friend = member.partner_id
        if card.partner_id == friend:
            raise UserError(_("This coupon is already yours."))
        if card.program_id.program_type not in COUPON_PROGRAM_TYPES or card._wechat_status() != "valid":
            raise UserError(_("This coupon can no longer be passed on: it has been used or has expired."))
        if card.company_id and card.company_id != member.account_id.company_id:
            raise UserError(_("This coupon cannot be used with this WeChat account."))
        previous, old_code = card.partner_id, card.code
        code = self._wechat_generate_codes(1)[0]
        while self.search_count([("code", "=", code)]):
            code = self._wechat_generate_codes(1)[0]
        # A new code: screenshots of the old QR code no longer work at the till.
        card.write({"partner_id": friend.id, "code": code, "wechat_claim_date": fields.Datetime.now()})
        self.env["wechat.coupon.transfer"].sudo().create(
            {
                "card_id": card.id,
                "from_partner_id": previous.id,
                "to_partner_id": friend.id,
                "account_id": member.account_id.id,
                "old_code": old_code,
            }
        )
        return card

    # ------------------------------------------------------------------ wallet
    def _wechat_mark_seen(self):
        """The member opened these coupons (wallet, claim page): the ones a campaign issued are claimed now.

        Sets the claim date of those not claimed yet and updates their
        campaigns' statistics (issued → claimed).
        """
        unseen = self.filtered(lambda c: c.wechat_campaign_id and not c.wechat_claim_date)
        if unseen:
            unseen.sudo().write({"wechat_claim_date": fields.Datetime.now()})
            unseen.wechat_campaign_id._update_statistics()
