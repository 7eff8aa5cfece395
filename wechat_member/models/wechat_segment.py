from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL
from odoo.tools.safe_eval import safe_eval


class WeChatSegment(models.Model):
    """Who to reach: member filters plus purchases over a window, evaluated in SQL.

    The member part is an Odoo domain on ``wechat.member`` (gender, city,
    channel, store, tags, activity, RFM, ...) edited with the domain editor;
    the purchase part (orders in the last N days, each above an amount,
    total, product categories bought) is joined in SQL on ``pos.order``.
    No Python loop over members: counting a million members is one query.
    """

    _name = "wechat.segment"
    _description = "WeChat Member Segment"
    _order = "name"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    account_id = fields.Many2one("wechat.account", required=True, ondelete="cascade", check_company=True)
    company_id = fields.Many2one(related="account_id.company_id", store=True)
    domain = fields.Char("Member Filter", default="[]", required=True)
    followers_only = fields.Boolean(default=True, help="Only members who follow the account can be reached.")
    age_min = fields.Integer("Age From")
    age_max = fields.Integer("Age To")
    window_days = fields.Integer("Purchase Window (days)", default=30)
    min_orders = fields.Integer("Purchases At Least", help="Number of paid orders in the window.")
    min_order_amount = fields.Float("Each Purchase At Least", digits="Account")
    min_total_amount = fields.Float("Total At Least", digits="Account")
    product_categ_ids = fields.Many2many(
        "product.category",
        string="Bought Categories",
        help="Bought a product of one of these categories within the window.",
    )
    extra_member_ids = fields.Many2many(
        "wechat.member", string="Added Members", help="Members added by hand ('Add to segment'), whatever the filters."
    )
    member_count = fields.Integer("Members", compute="_compute_member_count")
    include_phone_members = fields.Boolean(
        "Include Phone-only Members",
        help="Also count the members registered at the till by phone (a member code, no WeChat yet) who meet the "
        "age and purchase filters, when the segment has no member filter. They cannot receive WeChat messages; "
        "a coupon campaign on the segment issues them coupons, redeemed at the till with their member code.",
    )
    partner_count = fields.Integer(
        "Contacts",
        compute="_compute_partner_count",
        help="The contacts of the segment: its members' and the phone-only members'.",
    )

    @api.constrains("domain")
    def _check_domain(self):
        for segment in self:
            try:
                domain = safe_eval(segment.domain or "[]")
                self.env["wechat.member"]._search(domain)
            except Exception as exc:
                raise ValidationError(
                    _("The member filter of %(segment)s is invalid: %(error)s", segment=segment.name, error=exc)
                ) from exc

    @api.constrains("age_min", "age_max", "window_days", "min_orders")
    def _check_numbers(self):
        for segment in self:
            if segment.age_min < 0 or segment.age_max < 0 or segment.min_orders < 0 or segment.window_days < 0:
                raise ValidationError(_("Ages, days and counts cannot be negative."))
            if segment.age_max and segment.age_min > segment.age_max:
                raise ValidationError(_("The minimum age is above the maximum age."))
            if segment._has_purchase_filter() and not segment.window_days:
                raise ValidationError(_("Purchase filters need a purchase window."))

    def _has_purchase_filter(self):
        self.ensure_one()
        return bool(self.min_orders or self.min_order_amount or self.min_total_amount or self.product_categ_ids)

    def _birthday_bounds(self):
        """``(latest, earliest)``: a birthday at or before ``latest`` is old enough for the minimum age, one
        after ``earliest`` young enough for the maximum age; ``None`` where the segment has no such bound."""
        self.ensure_one()
        today = self.company_id._wechat_today()
        return (
            today - relativedelta(years=self.age_min) if self.age_min else None,
            today - relativedelta(years=self.age_max + 1) if self.age_max else None,
        )

    def _member_domain(self):
        self.ensure_one()
        domain = list(safe_eval(self.domain or "[]")) + [("account_id", "=", self.account_id.id)]
        if self.followers_only:
            domain.append(("state", "=", "follower"))
        latest, earliest = self._birthday_bounds()
        if latest:
            domain.append(("birthday", "<=", latest))
        if earliest:
            domain.append(("birthday", ">", earliest))
        return domain

    def _member_sql(self, among=None):
        """SQL selecting the ids of the segment's members.

        ``among``: only these ``wechat.member`` records are considered (an
        automatic tag rule checking a buyer); the purchases are then read for
        their contacts only, not aggregated over every customer.
        """
        self.ensure_one()
        domain = self._member_domain()
        if among is not None:
            domain.append(("id", "in", among.ids))
        query = self.env["wechat.member"]._search(domain)
        members = query.select(SQL.identifier("wechat_member", "id"))
        if self._has_purchase_filter():
            purchases = self._purchase_condition(
                SQL("m.partner_id"), among.partner_id.ids if among is not None else None
            )
            members = SQL("SELECT m.id FROM wechat_member m WHERE m.id IN (%s) AND %s", members, purchases)
        extra = self.extra_member_ids if among is None else self.extra_member_ids & among
        if extra:
            members = SQL("(%s) UNION (SELECT unnest(%s::int[]))", members, extra.ids)
        return members

    def _purchase_condition(self, partner_column, among_partner_ids=None):
        """SQL condition: the contact in ``partner_column`` meets the purchase filters within the window
        (the paid purchases of ``pos.order._wechat_purchases_sql``)."""
        self.ensure_one()
        Order = self.env["pos.order"]
        since = fields.Datetime.now() - relativedelta(days=self.window_days)
        purchases = Order._wechat_purchases_sql(partners=among_partner_ids, date_from=since)
        condition = SQL(
            """%s IN (
                SELECT s.partner_id FROM (%s) s
                 WHERE s.amount >= %s
                 GROUP BY s.partner_id
                HAVING count(*) >= %s AND sum(s.amount) >= %s
            )""",
            partner_column,
            purchases,
            self.min_order_amount or 0,
            max(self.min_orders, 1),
            self.min_total_amount or 0,
        )
        if self.product_categ_ids:
            bought = Order._wechat_purchases_sql(
                partners=among_partner_ids, date_from=since, categories=self.product_categ_ids
            )
            condition = SQL("%s AND %s IN (SELECT b.partner_id FROM (%s) b)", condition, partner_column, bought)
        return condition

    def _partner_sql(self):
        """SQL selecting the contacts of the segment: its members' contacts and, with "Include Phone-only
        Members" and no member filter, the company's members without WeChat (a member code from the till)
        who meet the age and purchase filters."""
        self.ensure_one()
        partners = SQL("SELECT m.partner_id FROM wechat_member m WHERE m.id IN (%s)", self._member_sql())
        if not self._includes_phone_members():
            return partners
        conditions = [
            SQL("p.active"),
            SQL("p.wechat_member_code IS NOT NULL"),
            SQL("(p.company_id = %s OR p.company_id IS NULL)", self.company_id.id),
            SQL("NOT EXISTS (SELECT 1 FROM wechat_member w WHERE w.partner_id = p.id)"),
        ]
        latest, earliest = self._birthday_bounds()
        if latest:
            conditions.append(SQL("p.wechat_birthday <= %s", latest))
        if earliest:
            conditions.append(SQL("p.wechat_birthday > %s", earliest))
        if self._has_purchase_filter():
            conditions.append(self._purchase_condition(SQL("p.id")))
        return SQL("(%s) UNION (SELECT p.id FROM res_partner p WHERE %s)", partners, SQL(" AND ").join(conditions))

    def _includes_phone_members(self):
        self.ensure_one()
        return self.include_phone_members and not safe_eval(self.domain or "[]")

    def _partner_ids(self):
        self.ensure_one()
        self.env["wechat.member"]._create_missing_contacts([("account_id", "=", self.account_id.id)])
        self.env.flush_all()
        self.env.cr.execute(SQL("SELECT DISTINCT s.partner_id FROM (%s) s(partner_id) ORDER BY 1", self._partner_sql()))
        return [row[0] for row in self.env.cr.fetchall()]

    @api.depends(
        "domain",
        "followers_only",
        "age_min",
        "age_max",
        "window_days",
        "min_orders",
        "min_order_amount",
        "min_total_amount",
        "product_categ_ids",
        "extra_member_ids",
        "account_id",
        "include_phone_members",
    )
    def _compute_partner_count(self):
        self.env.flush_all()
        for segment in self:
            if not segment.id or not segment.account_id:
                segment.partner_count = 0
                continue
            self.env.cr.execute(
                SQL("SELECT count(DISTINCT s.partner_id) FROM (%s) s(partner_id)", segment._partner_sql())
            )
            segment.partner_count = self.env.cr.fetchone()[0]

    def action_view_partners(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Contacts of %(segment)s", segment=self.name),
            "res_model": "res.partner",
            "view_mode": "list,form",
            "domain": [("id", "in", self._partner_ids())],
            "context": {"create": False},
        }

    def _member_ids(self):
        self.ensure_one()
        self.env.flush_all()
        self.env.cr.execute(self._member_sql())
        return [row[0] for row in self.env.cr.fetchall()]

    @api.depends(
        "domain",
        "followers_only",
        "age_min",
        "age_max",
        "window_days",
        "min_orders",
        "min_order_amount",
        "min_total_amount",
        "product_categ_ids",
        "extra_member_ids",
        "account_id",
    )
    def _compute_member_count(self):
        self.env.flush_all()
        for segment in self:
            if not segment.id or not segment.account_id:
                segment.member_count = 0
                continue
            self.env.cr.execute(SQL("SELECT count(*) FROM (%s) s", segment._member_sql()))
            segment.member_count = self.env.cr.fetchone()[0]

    def action_view_members(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("wechat_member.wechat_member_action")
        action.update(domain=[("id", "in", self._member_ids())], context={}, name=self.name)
        return action

    def action_create_campaign(self):
        self.ensure_one()
        campaign = self.env["wechat.campaign"].create(
            {"name": self.name, "account_id": self.account_id.id, "audience": "segment", "segment_id": self.id}
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "wechat.campaign",
            "res_id": campaign.id,
            "view_mode": "form",
        }
