from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class WeChatReferralProgram(models.Model):
    """The referral rules of one WeChat account: what the referrer earns and when.

    The referrer is paid in loyalty points (a ``loyalty`` program, spendable
    at the till through ``pos_loyalty``) only after the friend's first paid
    purchase; the friend gets a welcome coupon usable on that purchase.
    """

    _name = "wechat.referral.program"
    _description = "WeChat Referral Program"
    _order = "account_id, sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    account_id = fields.Many2one("wechat.account", required=True, ondelete="cascade", index=True, check_company=True)
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    points_program_id = fields.Many2one(
        "loyalty.program",
        string="Points Program",
        required=True,
        ondelete="restrict",
        check_company=True,
        domain="[('program_type', '=', 'loyalty')]",
        help="The loyalty points program on which the referrer's points are credited.",
    )
    points_per_referral = fields.Float(
        "Points per Friend",
        default=100.0,
        required=True,
        help="Points credited to the referrer when a friend's first purchase qualifies.",
    )
    tier_threshold = fields.Integer(
        "Bonus From Friend #",
        default=0,
        help="From this rewarded friend on (e.g. the 5th), the referrer earns the bonus points instead. "
        "0 disables the bonus tier.",
    )
    tier_points = fields.Float("Bonus Points per Friend", default=0.0)
    min_purchase_amount = fields.Float(
        "Minimum First Purchase", default=0.0, help="The friend's purchase must reach this amount (taxes included)."
    )
    qualification_days = fields.Integer(
        "Qualification Window (days)",
        default=30,
        required=True,
        help="The friend's purchase must take place within this many days of the follow; a refund within the "
        "same window claws the points back.",
    )
    weekly_cap = fields.Integer(
        "Weekly Cap per Referrer",
        default=10,
        help="At most this many friends attributed to one referrer in 7 days; further ones are rejected. "
        "0 means no cap.",
    )
    manual_review = fields.Boolean(
        help="Qualified referrals wait in a review queue; points are credited when a manager approves."
    )
    welcome_program_id = fields.Many2one(
        "loyalty.program",
        string="Welcome Perk",
        ondelete="restrict",
        check_company=True,
        domain="[('program_type', 'in', ('coupons', 'next_order_coupons'))]",
        help="A coupon program: the friend gets one coupon when attributed, usable on a purchase only "
        "(never a reward for following).",
    )
    referral_ids = fields.One2many("wechat.referral", "program_id", string="Referral Records")
    referral_count = fields.Integer("Referrals", compute="_compute_stats")
    rewarded_count = fields.Integer("Rewarded", compute="_compute_stats")
    points_awarded = fields.Float("Net Points", compute="_compute_stats")

    @api.constrains(
        "points_per_referral",
        "tier_points",
        "tier_threshold",
        "qualification_days",
        "weekly_cap",
        "min_purchase_amount",
    )
    def _check_values(self):
        for program in self:
            if program.points_per_referral <= 0:
                raise ValidationError(_("The points per friend must be positive."))
            if program.tier_threshold < 0 or (program.tier_threshold and program.tier_points <= 0):
                raise ValidationError(_("The bonus tier needs a friend number and positive bonus points."))
            if program.qualification_days <= 0:
                raise ValidationError(_("The qualification window must be at least one day."))
            if program.weekly_cap < 0 or program.min_purchase_amount < 0:
                raise ValidationError(_("The weekly cap and the minimum purchase cannot be negative."))

    @api.constrains("active", "account_id")
    def _check_one_active_per_account(self):
        for program in self.filtered("active"):
            if self.search_count([("account_id", "=", program.account_id.id), ("active", "=", True)]) > 1:
                raise ValidationError(
                    _(
                        "The account %(account)s already has an active referral program.",
                        account=program.account_id.display_name,
                    )
                )

    @api.constrains("points_program_id", "welcome_program_id")
    def _check_loyalty_programs(self):
        for program in self:
            if program.points_program_id.program_type != "loyalty":
                raise ValidationError(_("The referral points must go to a loyalty points program."))
            if program.welcome_program_id and program.welcome_program_id.program_type not in (
                "coupons",
                "next_order_coupons",
            ):
                raise ValidationError(_("The welcome perk must be a coupon program."))

    def _compute_stats(self):
        groups = self.env["wechat.referral"]._read_group(
            [("program_id", "in", self.ids)], ["program_id", "state"], ["__count", "points_net:sum"]
        )
        stats = {}
        for program, state, count, points in groups:
            total, rewarded, net = stats.get(program.id, (0, 0, 0.0))
            stats[program.id] = (
                total + count,
                rewarded + (count if state == "rewarded" else 0),
                net + (points or 0.0),
            )
        for program in self:
            program.referral_count, program.rewarded_count, program.points_awarded = stats.get(program.id, (0, 0, 0.0))

    @api.model
    def _for_account(self, account):
        """The active referral program of ``account`` (empty when referrals are off)."""
        return self.sudo().search([("account_id", "=", account.id), ("active", "=", True)], limit=1)

    def _points_for(self, rank):
        """Points for the ``rank``-th rewarded friend of a referrer (1-based)."""
        self.ensure_one()
        if self.tier_threshold and rank >= self.tier_threshold:
            return self.tier_points
        return self.points_per_referral

    def action_view_referrals(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("wechat_referral.wechat_referral_action")
        action["domain"] = [("program_id", "=", self.id)]
        action["context"] = {"default_program_id": self.id}
        return action
