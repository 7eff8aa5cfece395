import logging

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_amount

from ..const import PAID_STATES
from .wechat_pay_refund import PAID_REFUND_STATES

_logger = logging.getLogger(__name__)


BIND_METHODS = [
    ("dynamic_code", "Dynamic member code"),
    ("static_code_confirmed", "Member code, confirmed by the cashier"),
    ("phone_confirmed", "Phone, confirmed by the cashier"),
    ("customer_confirmed", "Customer confirmed by the cashier before spending points"),
    ("payer", "WeChat Pay payer"),
    ("preorder", "Booking paid in WeChat"),
]
# What the POS may say of how the cashier identified the customer (the payer is the server's).
CONFIRMED_METHODS = ("dynamic_code", "static_code_confirmed", "phone_confirmed", "customer_confirmed")


class PosOrder(models.Model):
    _inherit = "pos.order"

    wechat_bind_method = fields.Selection(
        BIND_METHODS,
        string="Customer Identified By",
        readonly=True,
        copy=False,
        help="How the customer was identified at the till: the customer's dynamic member code (verified by the"
        " server), a member code or a phone the cashier confirmed, or the WeChat Pay payer.",
    )

    wechat_payer_member_id = fields.Many2one(
        "wechat.member",
        string="WeChat Payer",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The member who paid this order with WeChat Pay (may differ from the customer the cashier chose).",
    )
    wechat_stats_done = fields.Boolean(
        "Counted in Member Statistics",
        readonly=True,
        copy=False,
        help="Technical: the order was added to the member purchase statistics (once per order).",
    )
    wechat_captured = fields.Boolean(
        "Member Captured",
        readonly=True,
        copy=False,
        index=True,
        help="The customer of the order was a WeChat member when it was paid (capture rate).",
    )
    wechat_capture_rate = fields.Float(
        "Capture Rate (%)",
        compute="_compute_wechat_capture_rate",
        store=True,
        copy=False,
        aggregator="avg",
        help="100 for an order with a member customer, else 0: its average is the share of captured orders.",
    )

    def action_pos_order_paid(self):
        self._wechat_link_refunds()
        bound = self._wechat_bind_payer()
        self._wechat_set_captured()
        res = super().action_pos_order_paid()
        if bound:
            # Paid and named now (the name is given with the paid state).
            bound._wechat_payer_bound()
        self._wechat_count_purchase()
        return res

    # ------------------------------------------------------------------ capture
    def _wechat_payer_transactions(self):
        """The paid WeChat Pay transactions of this order's payments, from the server's own records.

        A payment is matched to a charge attempt of the same order uuid, by
        its payment line uuid or its WeChat transaction id; nothing the POS
        sends is trusted beyond that.  Returns ``{payment: transaction}``.
        """
        self.ensure_one()
        payments = self.payment_ids.filtered(
            lambda p: p.payment_method_id.use_payment_terminal == "wechat_pay" and not p.is_change
        )
        if not payments or not self.uuid:
            return {}
        txns = (
            self.env["wechat.pay.transaction"]
            .sudo()
            .search(
                [
                    ("pos_order_uuid", "=", self.uuid),
                    ("state", "=", "done"),
                    ("payment_method_id", "in", payments.payment_method_id.ids),
                    "|",
                    ("pos_order_id", "=", False),
                    ("pos_order_id", "=", self.id),
                ]
            )
        )
        result = {}
        for payment in payments:
            txn = txns.filtered(
                lambda t, p=payment: t.payment_method_id == p.payment_method_id
                and (t.payment_uuid == p.uuid or (p.transaction_id and t.transaction_id == p.transaction_id))
            )[:1]
            if txn and txn.openid:
                result[payment] = txn
        return result

    def _wechat_bind_payer(self):
        """Make the WeChat payer a member and the order's customer (when the cashier chose none).

        Idempotent: an order with a payer already recorded is left alone.
        Returns the orders whose customer the payer became.
        """
        Member = self.env["wechat.member"]
        bound = self.browse()
        for order in self.filtered(lambda o: not o.wechat_payer_member_id):
            by_payment = order._wechat_payer_transactions()
            if not by_payment:
                continue
            for payment, txn in by_payment.items():
                payment._wechat_link_transaction(txn)
                txn.pos_order_id = order.id
            # The largest WeChat payment names the payer.
            payment = max(by_payment, key=lambda p: p.amount)
            txn = by_payment[payment]
            account = txn.account_id
            if account.company_id != order.company_id or payment.payment_method_id.wechat_account_id != account:
                _logger.warning(
                    "POS order %s: WeChat payer of account %s not bound (other company or account)",
                    order.id,
                    account.id,
                )
                continue
            customer = order.partner_id.sudo()
            # A member the cashier created by phone, without WeChat identity nor any history yet:
            # paying with WeChat makes them the WeChat member (when the payer is new).  A contact with
            # purchases, points or coupons is never adopted by a payer: the payer becomes a member of
            # their own, the order keeps the cashier's customer.
            adopt = (
                customer
                if customer.wechat_member_code
                and not customer.wechat_member_ids
                and not customer._wechat_has_history(exclude_orders=order)
                else None
            )
            member, created = Member._get_or_create(
                account, txn.openid, state="follower" if txn.is_subscribe else "payer", partner=adopt
            )
            if created:
                _logger.info("POS order %s: new WeChat member %s from the payment", order.id, member.id)
            vals = {"wechat_payer_member_id": member.id}
            if not order.partner_id:
                vals.update(partner_id=member.partner_id.id, wechat_bind_method="payer")
                bound |= order
            order.write(vals)
            member._touch()
        return bound

    def add_payment(self, data):
        # The back-office refund wizard names its WeChat Pay refund payment (pos.make.payment.check): the
        # refund is matched by it, and only when WeChat Pay refunded that amount (_wechat_link_refunds).
        payment_uuid = self.env.context.get("wechat_refund_payment_uuid")
        if payment_uuid and (data.get("amount") or 0) < 0:
            data = dict(data, uuid=payment_uuid)
        return super().add_payment(data)

    def _wechat_link_refunds(self):
        """Link each negative WeChat Pay payment to the server's record of its refund; refuse the order without.

        A refund payment is recorded only when WeChat Pay refunded (or is
        refunding) its amount for this order and payment line
        (``pos.payment.method.wechat_pay_refund``): nobody can record a
        WeChat refund that was not made.  Idempotent.
        """
        Refund = self.env["wechat.pay.refund"].sudo()
        for order in self:
            payments = order.payment_ids.filtered(
                lambda p: p.payment_method_id.use_payment_terminal == "wechat_pay" and p.amount < 0 and not p.is_change
            )
            for payment in payments:
                refunds = Refund.search(
                    [
                        ("pos_order_uuid", "=", order.uuid),
                        ("payment_uuid", "=", payment.uuid),
                        ("payment_method_id", "=", payment.payment_method_id.id),
                        ("state", "in", PAID_REFUND_STATES),
                        "|",
                        ("pos_payment_id", "=", False),
                        ("pos_payment_id", "=", payment.id),
                    ]
                )
                currency = order.currency_id
                if not order.uuid or currency.compare_amounts(sum(refunds.mapped("amount")), -payment.amount):
                    raise UserError(
                        _(
                            "The refund of %(amount)s with %(method)s was not made by WeChat Pay: refund it with "
                            "WeChat Pay from the payment screen, or with another payment method.",
                            amount=format_amount(self.env, -payment.amount, currency),
                            method=payment.payment_method_id.name,
                        )
                    )
                refunds.write({"pos_order_id": order.id, "pos_payment_id": payment.id})

    def _wechat_payer_bound(self):
        """Hook: the WeChat payer just became these orders' customer (the cashier had chosen none); called
        once they are paid.

        The POS validated them without a customer: what it computes for a
        customer (points of nominative programs: ``wechat_coupon``) is the
        server's to do here.
        """
        return True

    def _wechat_count_purchase(self):
        """Add each paid order to its customer's member statistics, once per order.

        Refunds count negatively.  Guarded by ``wechat_stats_done``, written in
        the same transaction under a row lock: a re-synced order, or this
        method called twice, never counts twice.
        """
        orders = self.filtered(lambda o: o.state in PAID_STATES and not o.wechat_stats_done)
        if not orders:
            return
        self.env.flush_all()
        # Marked and locked in one statement: a concurrent sync of the same order waits, then finds it done.
        self.env.cr.execute(
            "UPDATE pos_order SET wechat_stats_done = TRUE WHERE id = ANY(%s) AND wechat_stats_done IS NOT TRUE"
            " RETURNING id",
            [orders.ids],
        )
        todo = self.browse([row[0] for row in self.env.cr.fetchall()])
        todo.invalidate_recordset(["wechat_stats_done"])
        if not todo:
            return
        todo.filtered(
            lambda o: o.amount_total > 0 and o.wechat_payer_member_id.account_id.pos_thanks
        )._wechat_notify_thanks()
        purchases = []
        for order in todo:
            partner = order.partner_id.sudo()
            if partner and partner.wechat_is_member:
                purchases.append((partner.id, order.amount_total, order.date_order))
        if purchases:
            self.env["res.partner"].sudo()._wechat_register_purchases(purchases)

    # ------------------------------------------------------------------ thanks
    def _wechat_notify_thanks(self):
        """A "POS thanks" notice to each order's WeChat payer, through the notice router.

        A WeChat Pay payment opens no customer-service window (since 2023):
        the router sends it by template (or subscribe notice) when one is
        mapped, after the commit (never for a sale rolled back), once per
        order; the receipt, the customer display and the member page show the
        thanks in every case.
        """
        Notice = self.env["wechat.notice"].sudo()
        for order in self:
            member = order.wechat_payer_member_id
            Notice._notify("pos_thanks", member, order._wechat_thanks_values(), key=f"pos-order-{order.id}")

    def _wechat_thanks_values(self):
        self.ensure_one()
        return {
            "amount": self.amount_total,
            "store": self.config_id.name,
            "order_ref": self.pos_reference or self.name,
            "date": fields.Datetime.to_string(self.date_order),
            "order_id": self.id,
        }

    @api.model
    def _process_order(self, order, existing_order):
        # The payer and the statistics guard are the server's: never taken from the POS.
        for key in ("wechat_payer_member_id", "wechat_stats_done"):
            order.pop(key, None)
        for key in ("wechat_captured", "wechat_capture_rate"):
            order.pop(key, None)
        self._wechat_check_bind_method(order)
        self._wechat_check_spending(order)
        return super()._process_order(order, existing_order)

    @api.model
    def _wechat_check_bind_method(self, order):
        """Keep the POS's ``wechat_bind_method`` only when it holds: a dynamic code needs the server's proof."""
        method = order.pop("wechat_bind_method", False)
        token = order.pop("wechat_bind_token", False)
        partner_id = order.get("partner_id")
        if isinstance(partner_id, list | tuple):
            partner_id = partner_id[0] if partner_id else False
        config = self.env["pos.session"].browse(order.get("session_id") or 0).exists().config_id
        if method not in CONFIRMED_METHODS or not partner_id or not config:
            method = False
        elif method == "dynamic_code" and not self.env["res.partner"]._wechat_check_bind_token(
            config, partner_id, method, token
        ):
            method = False  # not verified by the server for this customer
        if method:
            order["wechat_bind_method"] = method

    @api.model
    def _wechat_check_spending(self, order):
        """Hook: refuse an order that spends the customer's points without the customer confirmed.

        ``wechat_member`` has no points; ``wechat_coupon`` checks the reward lines of ``pos_loyalty``.
        """

    # ------------------------------------------------------------------ purchases
    @api.model
    def _wechat_purchases_sql(
        self, partners=None, date_from=None, date_to=None, categories=None, net=False, company=None, refunds=False
    ):
        """SQL of the paid purchases: the one definition that segments, campaign attribution, referral
        qualification and the acquisition funnel read.

        A purchase is a POS order of a customer in a paid state with a positive total (a refund order is not a
        purchase).  Columns: ``order_id``, ``partner_id``, ``date_order``, ``amount`` (the order's total) and,
        with ``net``, ``net_amount`` (the total minus the paid refunds of its lines, whenever they were made).

        :param partners: the customers: a list of ids or an ``SQL`` subquery of ids; ``None``: every customer
        :param date_from: purchases made at or after this datetime
        :param date_to: purchases made before this datetime
        :param categories: ``product.category`` records: purchases with a product of one of them (or of a
            child category)
        :param company: a ``res.company``: its orders only
        :param refunds: the refund orders too, each at its own date with its negative total (a spend that a
            refund lowers when it is made: member levels)
        """
        conditions = [SQL("o.state IN %s", PAID_STATES), SQL("o.partner_id IS NOT NULL")]
        if not refunds:
            conditions.append(SQL("o.amount_total > 0"))
        if company:
            conditions.append(SQL("o.company_id = %s", company.id))
        if isinstance(partners, SQL):
            conditions.append(SQL("o.partner_id IN (%s)", partners))
        elif partners is not None:
            conditions.append(SQL("o.partner_id = ANY(%s)", list(partners)))
        if date_from:
            conditions.append(SQL("o.date_order >= %s", date_from))
        if date_to:
            conditions.append(SQL("o.date_order < %s", date_to))
        if categories:
            children = self.env["product.category"].sudo().search([("id", "child_of", categories.ids)])
            conditions.append(
                SQL(
                    """EXISTS (
                    SELECT 1 FROM pos_order_line l
                      JOIN product_product p ON p.id = l.product_id
                      JOIN product_template t ON t.id = p.product_tmpl_id
                     WHERE l.order_id = o.id AND t.categ_id = ANY(%s)
                )""",
                    children.ids,
                )
            )
        net_amount = (
            SQL(
                """, o.amount_total + COALESCE((
                SELECT sum(r.amount_total) FROM pos_order r
                 WHERE r.state IN %s AND r.id IN (
                       SELECT rl.order_id FROM pos_order_line rl
                         JOIN pos_order_line sl ON sl.id = rl.refunded_orderline_id
                        WHERE sl.order_id = o.id)
            ), 0) AS net_amount""",
                PAID_STATES,
            )
            if net
            else SQL()
        )
        return SQL(
            "SELECT o.id AS order_id, o.partner_id, o.date_order, o.amount_total AS amount%s FROM pos_order o WHERE %s",
            net_amount,
            SQL(" AND ").join(conditions),
        )

    # ------------------------------------------------------------------ capture rate
    @api.depends("wechat_captured")
    def _compute_wechat_capture_rate(self):
        for order in self:
            order.wechat_capture_rate = 100.0 if order.wechat_captured else 0.0

    def _wechat_set_captured(self):
        """Record whether the customer is a WeChat member at payment (once per order, server-side)."""
        todo = self.filtered(lambda o: not o.wechat_stats_done)
        # A WeChat member or a member created at the till by phone (member code, no WeChat identity yet).
        captured = todo.filtered(lambda o: o.partner_id.wechat_is_member)
        if captured:
            captured.write({"wechat_captured": True})
        others = (todo - captured).filtered("wechat_captured")
        if others:
            others.write({"wechat_captured": False})

    @api.model
    def sync_from_ui(self, orders):
        """Also send back the synced orders' member customers: the receipt shows their new statistics."""
        result = super().sync_from_ui(orders)
        partner_ids = {o["partner_id"] for o in result.get("pos.order") or [] if o.get("partner_id")}
        if partner_ids:
            partners = self.env["res.partner"].browse(partner_ids).filtered("wechat_member_code")
            config = self.env["pos.order"].browse(result["pos.order"][0]["id"]).config_id
            if partners and config:
                result["res.partner"] = partners._wechat_pos_read(config)["res.partner"]
        return result

    # ------------------------------------------------------------------ demo
    @api.model
    def _demo_orders(self, purchases):
        """Paid POS orders for the demo (``wechat.member._demo_members``), in a closed session of each store.

        ``purchases``: ``(partner_id, amount, datetime, pos.config)``.  The
        orders are paid by card and already counted in the members'
        statistics (``wechat_stats_done``: the caller registers them).
        Returns the orders.
        """
        products = self.env["product.product"].search(
            [("default_code", "in", ("LT-SHIRT", "LT-DRESS", "LT-SCARF"))], order="default_code"
        ) or self.env["product.product"].search([("available_in_pos", "=", True)], limit=1)
        orders = self.browse()
        by_store = {}
        for partner_id, amount, when, store in purchases:
            by_store.setdefault(store, []).append((partner_id, amount, when))
        for store, rows in by_store.items():
            if not store:
                continue
            store = store.with_company(store.company_id)
            card = store.payment_method_ids.filtered(lambda m: m.type == "bank")[:1] or store.payment_method_ids[:1]
            session = (
                self.env["pos.session"]
                .with_company(store.company_id)
                .with_context(onboarding_creation=True)
                .create({"config_id": store.id, "user_id": self.env.ref("base.user_admin").id})
            )
            vals_list = []
            for n, (partner_id, amount, when) in enumerate(sorted(rows, key=lambda row: row[2]), start=1):
                product = products[n % len(products)]
                vals_list.append(
                    {
                        "session_id": session.id,
                        "company_id": store.company_id.id,
                        "partner_id": partner_id,
                        "date_order": when,
                        "state": "paid",
                        "amount_total": amount,
                        "amount_tax": 0.0,
                        "amount_paid": amount,
                        "amount_return": 0.0,
                        "pos_reference": f"Order {session.id:05d}-001-{n:04d}",
                        "wechat_stats_done": True,
                        "lines": [
                            Command.create(
                                {
                                    "product_id": product.id,
                                    "full_product_name": product.name,
                                    "qty": 1,
                                    "price_unit": amount,
                                    "price_subtotal": amount,
                                    "price_subtotal_incl": amount,
                                }
                            )
                        ],
                        "payment_ids": [
                            Command.create({"payment_method_id": card.id, "amount": amount, "payment_date": when})
                        ],
                    }
                )
            session_orders = self.with_company(store.company_id).create(vals_list)
            orders |= session_orders
            session.post_closing_cash_details(0.0)
            session.update_closing_control_state_session("")
            session.action_pos_session_closing_control()
        return orders
