from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import float_round

from odoo.addons.wechat_member.const import PAID_STATES
from odoo.addons.wechat_member.models.pos_order import CONFIRMED_METHODS

# The programs whose points a refund takes back or gives back: the member's own points, kept across orders
# (loyalty points and stamp cards).  Gift cards and eWallets are money, refunded as such (pos_loyalty refuses
# to refund their lines).
REFUND_POINTS_EXCLUDED_TYPES = ("gift_card", "ewallet")
# Once-per-order flags, written by the server only (under a row lock, in SQL).
POINTS_GUARDS = {"wechat_points_done", "wechat_refund_points_done"}


def _refund_points_program(program):
    return (
        program.is_nominative
        and program.applies_on in ("both", "future")
        and program.program_type not in REFUND_POINTS_EXCLUDED_TYPES
    )


class PosOrder(models.Model):
    _inherit = "pos.order"

    wechat_points_done = fields.Boolean(
        "Points Confirmed",
        readonly=True,
        copy=False,
        help="Technical: the loyalty points of this order were confirmed (added once per order, whatever the "
        "number of calls).",
    )
    wechat_refund_points_done = fields.Boolean(
        "Refund Points Settled",
        readonly=True,
        copy=False,
        help="Technical: this refund took back the points its refunded lines earned, and gave back the points "
        "of its refunded rewards (once per refund order).",
    )

    def write(self, vals):
        if not self.env.su and POINTS_GUARDS & set(vals):
            raise AccessError(_("The points guards of an order are set by the server only."))
        return super().write(vals)

    @api.model
    def _process_order(self, order, existing_order):
        # The points guards are the server's: never taken from the POS.
        for key in POINTS_GUARDS:
            order.pop(key, None)
        return super()._process_order(order, existing_order)

    def action_pos_order_paid(self):
        res = super().action_pos_order_paid()
        self._wechat_refund_points()
        return res

    @api.model
    def sync_from_ui(self, orders):
        """Also send back the points cards of the synced orders' member customers, as the server has them now:
        the receipt shows the balance after the order, a refund's takeback or the points the server credited
        to the WeChat payer included (``_wechat_refund_points``, ``_wechat_credit_payer_points``)."""
        result = super().sync_from_ui(orders)
        partner_ids = [p["id"] for p in result.get("res.partner") or []]
        if partner_ids and result.get("pos.order"):
            config = self.env["pos.order"].browse(result["pos.order"][0]["id"]).config_id
            programs = config._get_program_ids().filtered(lambda p: p.program_type == "loyalty")
            Card = self.env["loyalty.card"]
            cards = Card.sudo().search([("partner_id", "in", partner_ids), ("program_id", "in", programs.ids)])
            if cards:
                result["loyalty.card"] = cards.read(Card._load_pos_data_fields(config.id), load=False)
        return result

    def validate_coupon_programs(self, point_changes, new_codes):
        """Refuse used, expired, other company's or unknown coupons, with the card rows locked."""
        Card = self.env["loyalty.card"]
        error = Card._wechat_redemption_error(point_changes or {}, self.company_id[:1] or self.env.company)
        if error:
            ids = [int(k) for k in (point_changes or {})]
            cards = Card.sudo().browse(ids).exists()
            return {
                "successful": False,
                "payload": {
                    "message": error,
                    "updated_points": {c.id: c.points for c in cards},
                    "removed_coupons": list(set(ids) - set(cards.ids)),
                },
            }
        return super().validate_coupon_programs(point_changes, new_codes)

    def confirm_coupon_programs(self, coupon_data):
        """Spend the coupons once: lock the cards, re-check them, then let pos_loyalty deduct the points.

        Two tills confirming one coupon at once: the second waits for the
        first one's lock and is then refused (already used).  Once per order:
        called again for the same order (a retry, a lost answer), it changes
        no points and answers as the first call did (``_wechat_points_once``).
        The points the server already credited to the WeChat payer for this order
        (``_wechat_credit_payer_points``) are not added a second time.
        """
        if len(self) == 1 and not self._wechat_points_once():
            return self._wechat_coupon_updates(coupon_data)
        coupon_data = self._wechat_drop_refund_earned(self._wechat_drop_payer_credited(coupon_data))
        changes = {
            int(k): v.get("points", 0) for k, v in (coupon_data or {}).items() if int(k) > 0 and isinstance(v, dict)
        }
        Card = self.env["loyalty.card"]
        error = Card._wechat_redemption_error(changes, self.company_id[:1] or self.env.company)
        if error:
            raise UserError(error)
        res = super().confirm_coupon_programs(coupon_data)
        spent = Card.sudo().browse([k for k, v in changes.items() if v < 0]).exists()
        wechat_cards = spent.filtered("wechat_origin")
        if wechat_cards and self:
            wechat_cards.write({"wechat_redeem_order_id": self[:1].id})
            wechat_cards.wechat_campaign_id._update_statistics()
        return res

    @api.model
    def _wechat_check_spending(self, order):
        """A reward paid with the points of a customer's own card (loyalty, eWallet: the cards the POS loads
        because the customer is set) needs the customer identified: their dynamic code, or the cashier's
        confirmation (masked name and last 4 phone digits).  A coupon scanned from the wallet is proof of its
        own (its code)."""
        super()._wechat_check_spending(order)
        if order.get("wechat_bind_method") in CONFIRMED_METHODS:
            return
        card_ids = {
            vals.get("coupon_id")
            for command in order.get("lines") or []
            if isinstance(command, list | tuple)
            and len(command) == 3
            and isinstance(vals := command[2], dict)
            and vals.get("is_reward_line")
            and (vals.get("points_cost") or 0) > 0
            and isinstance(vals.get("coupon_id"), int)
            and vals["coupon_id"] > 0
        }
        if not card_ids:
            return
        cards = self.env["loyalty.card"].sudo().browse(card_ids).exists()
        own = cards.filtered(lambda card: card.partner_id and card.program_id.is_nominative)
        if own:
            raise UserError(
                _(
                    "The points of %(customer)s cannot be spent: the customer was not confirmed. Confirm the customer "
                    "(name and last 4 phone digits) or scan their dynamic member code, then validate the order again.",
                    customer=own[0].partner_id.display_name,
                )
            )

    # ------------------------------------------------------------------ the WeChat payer's points
    def _wechat_payer_bound(self):
        """The payer became the customer after the POS validated the order without one: the POS
        computed no points for the nominative programs, the server credits them."""
        res = super()._wechat_payer_bound()
        for order in self.filtered(lambda o: o.partner_id and o.amount_total > 0):
            order._wechat_credit_payer_points()
        return res

    def _wechat_payer_programs(self):
        """The loyalty programs of the order's POS that earn its customer points, as the POS applies
        them (``_programIsApplicable`` of pos_loyalty): automatic, current, of the company, usages left,
        of the order's pricelist."""
        self.ensure_one()
        today = self.company_id._wechat_today()
        return (
            self.config_id._get_program_ids()
            .sudo()
            .filtered(
                lambda p: p.program_type == "loyalty"
                and p.is_nominative
                and p.trigger == "auto"
                and p.active
                and (not p.date_from or p.date_from <= today)
                and (not p.date_to or p.date_to >= today)
                and (not p.company_id or p.company_id == self.company_id)
                and not (p.limit_usage and p.total_order_count >= p.max_usage)
                and (not p.pricelist_ids or self.pricelist_id in p.pricelist_ids)
            )
        )

    def _wechat_program_points(self, program):
        """The points this order earns in ``program``, computed as pos_loyalty's ``pointsForPrograms``, times
        the customer's level multiplier (as the POS's ``pointsForPrograms`` of this module)."""
        points = sum(points for _rule, points, _paid_lines in self._wechat_rule_points(program))
        multiplier = self._wechat_level_multiplier(program)
        if multiplier != 1.0:
            points = float_round(points * multiplier, precision_rounding=0.01)
        return points

    def _wechat_rule_points(self, program):
        """``(rule, points, paid lines)`` of each automatic rule of ``program`` that earns points on this
        order: the paid lines are the lines the rule counts (money: their amount, unit: their quantity)."""
        self.ensure_one()
        lines = self.sudo().lines
        result = []
        for rule in program.rule_ids.filtered(lambda r: r.mode == "auto"):
            valid = rule.valid_product_ids

            def applies(line, rule=rule, valid=valid):
                return rule.any_product or line.product_id in valid

            # The minimum amount: without the automatic discounts and this program's own discounts.
            for_minimum = lines.filtered(
                lambda line, applies=applies: applies(line)
                and not (
                    line.reward_id.reward_type == "discount"
                    and (line.reward_id.program_id.trigger == "auto" or line.reward_id.program_id == program)
                )
            )
            amount = sum(
                for_minimum.mapped(
                    "price_subtotal_incl" if rule.minimum_amount_tax_mode == "incl" else "price_subtotal"
                )
            )
            if rule.minimum_amount > amount:
                continue
            # The paid lines: never this program's rewards nor gift cards or eWallet spent.
            paid_lines = lines.filtered(
                lambda line, applies=applies: applies(line)
                and not (
                    line.is_reward_line
                    and (
                        line.reward_id.program_id == program
                        or line.reward_id.program_id.program_type in ("gift_card", "ewallet")
                    )
                )
            )
            qty = sum(paid_lines.filtered(lambda line: not line.is_reward_line).mapped("qty"))
            if qty < rule.minimum_qty:
                continue
            points = 0.0
            if rule.reward_point_mode == "order":
                points = rule.reward_point_amount
            elif rule.reward_point_mode == "money":
                # Rounded half-up to the cent, as the POS does.
                paid = sum(paid_lines.mapped("price_subtotal_incl"))
                points = float_round(rule.reward_point_amount * paid, precision_rounding=0.01)
            elif rule.reward_point_mode == "unit":
                points = rule.reward_point_amount * qty
            result.append((rule, points, paid_lines))
        return result

    def _wechat_level_multiplier(self, program):
        """The customer's level multiplier for ``program``: nominative points programs (not stamp cards)."""
        self.ensure_one()
        if program.program_type != "loyalty" or not program.is_nominative or program.wechat_stamp_card:
            return 1.0
        if not self.partner_id:
            return 1.0
        return self.partner_id.sudo().with_company(self.company_id).wechat_level_multiplier or 1.0

    # ------------------------------------------------------------------ member levels
    def _wechat_count_purchase(self):
        """After the member statistics: re-evaluate the levels of the customers whose orders were counted now
        (up at once on the purchase that crosses a threshold; a refund never upgrades)."""
        before = self.filtered(lambda o: o.state in PAID_STATES and not o.wechat_stats_done and o.partner_id)
        res = super()._wechat_count_purchase()
        counted = before.filtered("wechat_stats_done")
        for (company, refund), orders in counted.grouped(lambda o: (o.company_id, o.amount_total < 0)).items():
            partners = orders.partner_id.sudo().filtered("wechat_is_member")
            partners._wechat_level_evaluate(company, "refund" if refund else "purchase")
        return res

    def _wechat_credit_payer_points(self):
        """Credit the points of this order to its customer's card of each loyalty program (the card found or
        created as pos_loyalty's ``confirm_coupon_programs`` does), with a history line.  Once: a program
        with a history line of this order already (re-sync, or the POS credited it) is left alone."""
        self.ensure_one()
        History = self.env["loyalty.history"].sudo()
        Card = self.env["loyalty.card"].sudo()
        partner = self.partner_id
        new_cards = Card
        for program in self._wechat_payer_programs():
            done = History.search_count(
                [("order_model", "=", self._name), ("order_id", "=", self.id), ("card_id.program_id", "=", program.id)],
                limit=1,
            )
            if done:
                continue
            points = self._wechat_program_points(program)
            if points <= 0:
                continue
            card = Card.search([("partner_id", "=", partner.id), ("program_id", "=", program.id)], order="id", limit=1)
            if card:
                # Another till may credit the same card now: one after the other.
                self.env.cr.execute("SELECT id FROM loyalty_card WHERE id = %s FOR UPDATE", [card.id])
                card.invalidate_recordset(["points"])
            else:
                card = Card.with_context(action_no_send_mail=True).create(
                    {
                        "program_id": program.id,
                        "partner_id": partner.id,
                        "code": Card._generate_code(),
                        "points": 0,
                        "source_pos_order_id": self.id,
                    }
                )
                new_cards |= card
            card.points += points
            History.create(
                {
                    "card_id": card.id,
                    "order_model": self._name,
                    "order_id": self.id,
                    "description": _("Onsite %(order)s, paid with WeChat", order=self.display_name),
                    "issued": points,
                    "used": 0,
                }
            )
        new_cards._send_creation_communication()

    def _wechat_drop_refund_earned(self, coupon_data):
        """``coupon_data`` without points earned by a refund order (all its lines refund lines): a refund
        earns nothing, it takes back (``_wechat_refund_points``).  pos_loyalty's rules per order count even
        an order with only refund lines."""
        order = self[:1]
        if not coupon_data or not order.lines or not all(line.refunded_orderline_id for line in order.lines):
            return coupon_data
        return {
            key: dict(change, points=0) if isinstance(change, dict) and (change.get("points") or 0) > 0 else change
            for key, change in coupon_data.items()
        }

    def _wechat_drop_payer_credited(self, coupon_data):
        """``coupon_data`` without the points changes the server already credited to the WeChat payer: a change
        of a program this order has credited (``_wechat_credit_payer_points``), for the order's customer,
        that spends nothing."""
        orders = self.filtered(lambda o: o.wechat_bind_method == "payer" and o.partner_id)
        if not coupon_data or not orders:
            return coupon_data
        order = orders[:1]
        credited = (
            self.env["loyalty.history"]
            .sudo()
            .search([("order_model", "=", self._name), ("order_id", "=", order.id)])
            .card_id.filtered(lambda c: c.partner_id == order.partner_id)
            .program_id
        )
        if not credited:
            return coupon_data
        cards = self.env["loyalty.card"].sudo()
        result = {}
        for key, change in coupon_data.items():
            if isinstance(change, dict) and change.get("program_id") in credited.ids and not change.get("line_codes"):
                card = cards.browse(int(key)).exists() if int(key) > 0 else cards
                partner_id = card.partner_id.id if card else change.get("partner_id")
                if partner_id == order.partner_id.id and (change.get("points") or 0) >= 0:
                    continue
            result[key] = change
        return result

    # ------------------------------------------------------------------ points once per order
    def _wechat_points_once(self):
        """Mark this order's points as confirmed; False when they already were (then nothing is added).

        Marked and locked in one statement, as ``_wechat_count_purchase``: a
        concurrent call for the same order waits, then finds it done.
        """
        self.ensure_one()
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE pos_order SET wechat_points_done = TRUE WHERE id = %s AND wechat_points_done IS NOT TRUE"
            " RETURNING id",
            [self.id],
        )
        done = bool(self.env.cr.fetchone())
        self.invalidate_recordset(["wechat_points_done"])
        return done

    def _wechat_coupon_updates(self, coupon_data):
        """What ``confirm_coupon_programs`` answers for cards already confirmed, without changing them: the
        cards of ``coupon_data`` (a new card of the POS, a negative key, is the one this order opened or the
        customer's card of its program, as pos_loyalty maps it) with their points now."""
        self.ensure_one()
        Card = self.env["loyalty.card"].sudo()
        opened = Card.search([("source_pos_order_id", "=", self.id)])
        cards = Card
        updates = []
        for key, vals in (coupon_data or {}).items():
            key = int(key)
            vals = vals if isinstance(vals, dict) else {}
            old_id = key
            if key > 0:
                card = Card.browse(key).exists()
            else:
                program_id = vals.get("program_id")
                card = opened.filtered(lambda c, p=program_id: c.program_id.id == p)[:1]
                if not card and vals.get("partner_id") and not vals.get("giftCardId"):
                    card = Card.search(
                        [("partner_id", "=", vals["partner_id"]), ("program_id", "=", program_id)], order="id", limit=1
                    )
                    old_id = card.id
            if not card:
                continue
            cards |= card
            if card.program_id.is_nominative:
                updates.append(
                    {
                        "old_id": old_id,
                        "id": card.id,
                        "points": card.points,
                        "code": card.code,
                        "program_id": card.program_id.id,
                        "partner_id": card.partner_id.id,
                    }
                )
        return {
            "coupon_updates": updates,
            "program_updates": [
                {"program_id": program.id, "usages": program.total_order_count} for program in cards.program_id
            ],
            "new_coupon_info": [],
            "coupon_report": {},
        }

    def add_loyalty_history_lines(self, coupon_data, coupon_updates):
        """The history of this order's points, once per card: a card with a line of this order already (the
        POS calling again, or the server crediting the WeChat payer) gets no second one."""
        self.ensure_one()
        self.env.cr.execute("SELECT id FROM pos_order WHERE id = %s FOR UPDATE", [self.id])
        recorded = (
            self.env["loyalty.history"]
            .sudo()
            .search([("order_model", "=", self._name), ("order_id", "=", self.id), ("wechat_kind", "=", False)])
            .card_id.ids
        )
        if recorded:
            mapping = {int(item["old_id"]): int(item["id"]) for item in coupon_updates or []}
            coupon_data = [
                vals for vals in coupon_data or [] if mapping.get(int(vals.get("card_id") or 0)) not in recorded
            ]
        return super().add_loyalty_history_lines(coupon_data, coupon_updates)

    # ------------------------------------------------------------------ refunds
    def _wechat_refund_points(self):
        """Settle the points of each paid refund order, once: take back what its refunded lines earned
        (``_wechat_take_back_points``), give back what its refunded rewards spent
        (``_wechat_restore_reward_points``).

        Guarded by ``wechat_refund_points_done``, marked under a row lock in
        the statement that reads it: a re-synced refund, or this method
        called twice, never settles twice.  The POS is not trusted here: the
        amounts come from the server's own order lines and points history.
        """
        orders = self.filtered(
            lambda o: o.state in PAID_STATES and not o.wechat_refund_points_done and o.lines.refunded_orderline_id
        )
        if not orders:
            return
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE pos_order SET wechat_refund_points_done = TRUE"
            " WHERE id = ANY(%s) AND wechat_refund_points_done IS NOT TRUE RETURNING id",
            [orders.ids],
        )
        todo = self.browse([row[0] for row in self.env.cr.fetchall()]).sudo()
        todo.invalidate_recordset(["wechat_refund_points_done"])
        for refund in todo:
            refund._wechat_take_back_points()
            refund._wechat_restore_reward_points()

    def _wechat_settled_refund_lines(self):
        """The lines of paid, settled refund orders that refund lines of this (original) order."""
        self.ensure_one()
        return self.lines.refund_orderline_ids.filtered(
            lambda line: line.order_id.state in PAID_STATES and line.order_id.wechat_refund_points_done
        )

    def _wechat_refund_share(self, program, refund_lines):
        """The share (0 to 1) of the points this original order earned in ``program`` that ``refund_lines``
        (lines refunding its lines) take back.

        Each rule that earned points counts with the points it earned (as
        ``_wechat_rule_points`` computes them on the original order): a rule
        per money or per order by amount (refunded amount of the lines it
        counted ÷ their paid amount), a rule per unit by quantity (refunded
        units ÷ units counted).  Without such a rule (the rules changed
        since), by the amount of the whole order.  A level multiplier scales
        the issued points, not the share: it is taken back with them.
        """
        self.ensure_one()

        def by_amount(lines):
            paid = sum(lines.mapped("price_subtotal_incl"))
            refunded = -sum(
                refund_lines.filtered(lambda r: r.refunded_orderline_id in lines).mapped("price_subtotal_incl")
            )
            return min(1.0, max(0.0, refunded / paid)) if paid > 0 else 0.0

        def by_unit(lines):
            lines = lines.filtered(lambda line: not line.is_reward_line)
            qty = sum(lines.mapped("qty"))
            refunded = -sum(refund_lines.filtered(lambda r: r.refunded_orderline_id in lines).mapped("qty"))
            return min(1.0, max(0.0, refunded / qty)) if qty > 0 else 0.0

        weighted = total = 0.0
        for rule, points, paid_lines in self._wechat_rule_points(program):
            if points <= 0:
                continue
            share = by_unit(paid_lines) if rule.reward_point_mode == "unit" else by_amount(paid_lines)
            weighted += points * share
            total += points
        if total > 0:
            return min(1.0, weighted / total)
        return by_amount(self.lines)

    def _wechat_take_back_points(self):
        """Take back, from each card, the share of the points its original orders earned that this refund's
        lines refund, with a ``refund`` history line (``used``) per original order and card.

        The points a card earned are those of its original order's history
        (``issued``: what it really earned), on the cards of the original
        order's customer (the points a referrer got for the order are
        ``wechat_referral``'s to claw back).  The takeback is computed on all
        the settled refunds of the original order together, minus what they
        took back already: two partial refunds never take back more than
        the order earned.

        The balance may go negative: the member may have spent the points
        already (a reward, or points expired).  Clamping at 0 would let a
        customer buy, spend the points and keep them through the refund; a
        negative balance is a debt the next purchases pay back, and cannot be
        spent (pos_loyalty refuses a reward the balance does not cover).
        """
        self.ensure_one()
        History = self.env["loyalty.history"].sudo()
        for original in self.lines.refunded_orderline_id.order_id:
            earned_lines = History.search(
                [
                    ("order_model", "=", self._name),
                    ("order_id", "=", original.id),
                    ("wechat_kind", "=", False),
                    ("issued", ">", 0),
                ]
            ).filtered(
                # The customer's own cards: not the points another member got for this order (a referral).
                lambda h, o=original: h.card_id.partner_id == o.partner_id
                and _refund_points_program(h.card_id.program_id)
            )
            if not earned_lines:
                continue
            settled = original._wechat_settled_refund_lines()
            for card in earned_lines.card_id:
                earned = sum(earned_lines.filtered(lambda h, c=card: h.card_id == c).mapped("issued"))
                share = original._wechat_refund_share(card.program_id, settled)
                target = min(earned, float_round(earned * share, precision_rounding=0.01))
                self._wechat_lock_card(card)
                taken = sum(
                    History.search(
                        [
                            ("card_id", "=", card.id),
                            ("wechat_kind", "=", "refund"),
                            ("order_model", "=", self._name),
                            ("order_id", "in", settled.order_id.ids),
                        ]
                    ).mapped("used")
                )
                points = float_round(target - taken, precision_rounding=0.01)
                if points <= 0:
                    continue
                card.points -= points
                History.create(
                    {
                        "card_id": card.id,
                        "order_model": self._name,
                        "order_id": self.id,
                        "wechat_kind": "refund",
                        "description": _(
                            "Refund %(refund)s of %(order)s: points taken back",
                            refund=self.display_name,
                            order=original.display_name,
                        ),
                        "issued": 0,
                        "used": points,
                    }
                )

    def _wechat_restore_reward_points(self):
        """Give back the points the refunded reward lines spent, in proportion of the refunded quantity, with a
        ``refund_restore`` history line (``issued``) per card.  Computed on all the settled refunds of each
        reward line together: never more than the reward cost."""
        self.ensure_one()
        History = self.env["loyalty.history"].sudo()
        restored = {}
        for line in self.lines.filtered("refunded_orderline_id"):
            reward_line = line.refunded_orderline_id
            card = reward_line.coupon_id
            if (
                not reward_line.is_reward_line
                or reward_line.points_cost <= 0
                or reward_line.qty <= 0
                or not card
                or not _refund_points_program(card.program_id)
            ):
                continue
            settled = reward_line.refund_orderline_ids.filtered(
                lambda r: r.order_id.state in PAID_STATES and r.order_id.wechat_refund_points_done
            )
            before = -sum(settled.filtered(lambda r: r.order_id != self).mapped("qty"))
            now = before - line.qty

            def cost(qty, reward_line=reward_line):
                share = min(1.0, qty / reward_line.qty)
                return float_round(reward_line.points_cost * share, precision_rounding=0.01)

            points = cost(now) - cost(before)
            if points > 0:
                restored[card] = restored.get(card, 0.0) + points
        for card, points in restored.items():
            self._wechat_lock_card(card)
            if History.search_count(
                [
                    ("card_id", "=", card.id),
                    ("wechat_kind", "=", "refund_restore"),
                    ("order_model", "=", self._name),
                    ("order_id", "=", self.id),
                ],
                limit=1,
            ):
                continue  # given back already
            card.points += points
            History.create(
                {
                    "card_id": card.id,
                    "order_model": self._name,
                    "order_id": self.id,
                    "wechat_kind": "refund_restore",
                    "description": _(
                        "Refund %(refund)s: points of the refunded reward given back", refund=self.display_name
                    ),
                    "issued": points,
                    "used": 0,
                }
            )

    def _wechat_lock_card(self, card):
        """Another till may change the same card now: one after the other."""
        self.env.flush_all()
        self.env.cr.execute("SELECT id FROM loyalty_card WHERE id = %s FOR UPDATE", [card.id])
        card.invalidate_recordset(["points"])
