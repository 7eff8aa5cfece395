from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_round

from odoo.addons.wechat_member.models.pos_order import CONFIRMED_METHODS, PAID_STATES


class PosOrder(models.Model):
    _inherit = "pos.order"

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
        first one's lock and is then refused (already used).  The points the
        server already credited to the WeChat payer for this order
        (``_wechat_credit_payer_points``) are not added a second time.
        """
        coupon_data = self._wechat_drop_payer_credited(coupon_data)
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
        today = fields.Date.context_today(self)
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
        """The points this order earns in ``program``, computed as pos_loyalty's ``pointsForPrograms``."""
        self.ensure_one()
        lines = self.sudo().lines
        points = 0.0
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
            if rule.reward_point_mode == "order":
                points += rule.reward_point_amount
            elif rule.reward_point_mode == "money":
                # Rounded half-up to the cent, as the POS does.
                paid = sum(paid_lines.mapped("price_subtotal_incl"))
                points += float_round(rule.reward_point_amount * paid, precision_rounding=0.01)
            elif rule.reward_point_mode == "unit":
                points += rule.reward_point_amount * qty
        multiplier = self._wechat_level_multiplier(program)
        if multiplier != 1.0:
            points = float_round(points * multiplier, precision_rounding=0.01)
        return points

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
