from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from odoo.addons.wechat_member.const import PAID_STATES

from .loyalty_card import COUPON_PROGRAM_TYPES

# The name and the reward of an offer in the "offers" keyword reply, at most (characters).
OFFER_TEXT_MAX_CHARS = 60


def shorten(text, size):
    return text if len(text) <= size else text[: size - 1] + "…"


class WeChatCouponCampaign(models.Model):
    """Coupons of an Odoo loyalty program issued to WeChat members.

    "Issue" creates one ``loyalty.card`` per member (``limit_per_member``
    each) in batched SQL, idempotently, then notifies the members through
    the notice router (each by the channel WeChat allows them now).  A campaign can also be claimed
    from its claim page while stock lasts.
    """

    _name = "wechat.coupon.campaign"
    _description = "WeChat Coupon Campaign"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True, translate=True)
    account_id = fields.Many2one(
        "wechat.account", string="WeChat Account", required=True, check_company=True, tracking=True
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    program_id = fields.Many2one(
        "loyalty.program",
        string="Coupon Program",
        required=True,
        check_company=True,
        domain="[('program_type', 'in', ('coupons', 'promo_code'))]",
        tracking=True,
    )
    state = fields.Selection(
        [("draft", "Draft"), ("issued", "Issued")],
        default="draft",
        required=True,
        tracking=True,
        copy=False,
        index=True,
    )
    audience = fields.Selection(
        [
            ("members", "Selected Members"),
            ("followers", "All Followers"),
            ("category", "Contact Tag"),
            ("segment", "Segment"),
            ("claim", "Claim Page Only"),
        ],
        default="members",
        required=True,
    )
    member_ids = fields.Many2many("wechat.member", string="Members", domain="[('account_id', '=', account_id)]")
    category_id = fields.Many2one("res.partner.category", string="Contact Tag")
    segment_id = fields.Many2one(
        "wechat.segment",
        string="Segment",
        check_company=True,
        domain="[('account_id', '=', account_id)]",
        help='The segment\'s contacts; with its "Include Phone-only Members", also the members registered at the '
        "till by phone, who redeem the coupon with their member code.",
    )
    wechat_level_ids = fields.Many2many(
        "wechat.member.level",
        string="Member Levels",
        domain="[('company_id', '=', company_id)]",
        help="Only the members with one of these levels receive or can claim the coupons. Empty: every level.",
    )
    expiration_date = fields.Date("Valid Until")
    limit_per_member = fields.Integer("Coupons per Member", default=1, required=True)
    points = fields.Float(
        "Coupon Points",
        default=1.0,
        required=True,
        help="Points put on each coupon (a coupon reward usually costs 1 point).",
    )
    claim_enabled = fields.Boolean("Claim Page", help="Members can claim a coupon from the campaign's claim page.")
    claim_limit = fields.Integer("Claim Stock", default=0, help="How many members can claim; 0: no limit.")
    claim_count = fields.Integer("Claims", readonly=True, copy=False, default=0)
    issue_date = fields.Datetime("Issued On", readonly=True, copy=False)
    notice_text = fields.Text(
        "Notice",
        translate=True,
        help="Customer-service text sent to members with an open 48 h window. Empty: a default text. "
        "{program}, {date} and {url} are replaced.",
    )
    card_ids = fields.One2many("loyalty.card", "wechat_campaign_id", string="Coupons", readonly=True)
    # Results (stored, refreshed with _read_group on issue, claim, redemption and daily).
    issued_count = fields.Integer("Issued", readonly=True, copy=False, aggregator="sum")
    claimed_count = fields.Integer("Claimed", readonly=True, copy=False, aggregator="sum")
    redeemed_count = fields.Integer("Redeemed", readonly=True, copy=False, aggregator="sum")
    revenue = fields.Float(
        "Revenue",
        digits="Account",
        readonly=True,
        copy=False,
        aggregator="sum",
        help="Total of the paid POS orders that redeemed a coupon of the campaign.",
    )
    redemption_rate = fields.Float("Redemption Rate (%)", readonly=True, copy=False, aggregator="avg")
    notified_count = fields.Integer("Notified", readonly=True, copy=False)
    not_notified_count = fields.Integer(
        "Not Notified",
        readonly=True,
        copy=False,
        help="Outside the 48 h window, over the weekly budget or unfollowed: " "they see the coupon in their wallet.",
    )

    # Reach before issuing (not stored: the quotas and opt-ins change by the minute).
    reach_summary = fields.Char(
        "Reach",
        compute="_compute_reach",
        help='Before issuing: how many members of the audience each channel of the "Coupon issued" notice '
        "reaches now (the first one WeChat allows for each, in the kind's order), and how many none reaches "
        "(they find the coupon in their wallet).",
    )
    reach_count = fields.Integer("Reachable Members", compute="_compute_reach")
    unreachable_count = fields.Integer("Unreachable Members", compute="_compute_reach")

    _sql_constraints = [
        ("limit_per_member_positive", "CHECK(limit_per_member > 0)", "Give at least one coupon per member."),
        ("claim_limit_positive", "CHECK(claim_limit >= 0)", "The claim stock cannot be negative."),
    ]

    @api.constrains("program_id")
    def _check_program_type(self):
        for campaign in self:
            if campaign.program_id.program_type not in COUPON_PROGRAM_TYPES:
                raise ValidationError(_("Choose a coupon or discount code program."))

    @api.constrains("points")
    def _check_points(self):
        for campaign in self:
            if campaign.points <= 0:
                raise ValidationError(_("A coupon needs a positive number of points."))

    @api.depends("state", "account_id", "audience", "member_ids", "category_id", "segment_id")
    def _compute_reach(self):
        Notice = self.env["wechat.notice"].sudo()
        Member = self.env["wechat.member"].sudo()
        for campaign in self:
            counts = None
            if (
                campaign.state == "draft"
                and campaign.account_id
                and campaign.audience != "claim"
                and (campaign.audience != "category" or campaign.category_id)
                and (campaign.audience != "segment" or campaign.segment_id)
            ):
                members = Member.browse(campaign._audience_member_ids())
                counts = Notice._reachability("coupon_issued", members)
            shown = counts or {}
            campaign.reach_count = sum(count for channel, count in shown.items() if channel != "none")
            campaign.unreachable_count = shown.get("none", 0)
            campaign.reach_summary = counts is not None and Notice._reachability_text(
                "coupon_issued", None, counts=counts
            )

    # ------------------------------------------------------------------ audience
    def _audience_domain(self):
        """The ``wechat.member`` domain of the audience; ``None`` for the claim page only."""
        domain = self._audience_domain_all_levels()
        if domain is not None and self.wechat_level_ids:
            domain = domain + [("partner_id.wechat_level_member_ids.level_id", "in", self.wechat_level_ids.ids)]
        return domain

    def _level_partner_ids(self, partner_ids):
        """``partner_ids`` (sorted) with one of the campaign's levels, all of them without a level limit."""
        self.ensure_one()
        if not self.wechat_level_ids or not partner_ids:
            return partner_ids
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT DISTINCT partner_id FROM wechat_member_level_member"
            " WHERE partner_id = ANY(%s) AND level_id = ANY(%s)"
            " ORDER BY 1",
            [list(partner_ids), self.wechat_level_ids.ids],
        )
        return [row[0] for row in self.env.cr.fetchall()]

    def _audience_domain_all_levels(self):
        self.ensure_one()
        domain = [("account_id", "=", self.account_id.id)]
        if self.audience == "members":
            return domain + [("id", "in", self.member_ids.ids)]
        if self.audience == "followers":
            return domain + [("state", "=", "follower")]
        if self.audience == "category":
            if not self.category_id:
                raise UserError(_("Choose the contact tag of the audience."))
            return domain + [("partner_id.category_id", "in", self.category_id.ids)]
        if self.audience == "segment":
            if not self.segment_id:
                raise UserError(_("Choose the segment of the audience."))
            return domain + [("id", "in", self.segment_id.sudo()._member_ids())]
        return None

    def _audience_partner_ids(self):
        """Sorted contacts of the audience, read in SQL: an audience can hold 100 000s of members."""
        self.ensure_one()
        domain = self._audience_domain()
        if domain is None:
            return []
        if self.audience == "segment":
            return self._level_partner_ids(self.segment_id.sudo()._partner_ids())
        self.env["wechat.member"]._create_missing_contacts(domain)
        query = self.env["wechat.member"].sudo()._search(domain)
        self.env.cr.execute(
            SQL(
                "SELECT DISTINCT audience.partner_id FROM %s AS audience ORDER BY 1",
                query.subselect(SQL.identifier(query.table, "partner_id")),
            )
        )
        return [row[0] for row in self.env.cr.fetchall()]

    def _audience_member_ids(self):
        """The member each contact of the audience would be notified on (as ``_notify_cards`` picks it)."""
        self.ensure_one()
        return self._holder_member_ids(self.account_id, self._audience_partner_ids())

    @api.model
    def _holder_member_ids(self, account, partner_ids):
        """One member per contact on ``account``, the follower first, as ``_notify_cards`` picks them (SQL)."""
        if not partner_ids:
            return []
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT DISTINCT ON (m.partner_id) m.id FROM wechat_member m
             WHERE m.account_id = %s AND m.partner_id = ANY(%s)
             ORDER BY m.partner_id, (m.state = 'follower') DESC, m.id
            """,
            [account.id, list(partner_ids)],
        )
        return [row[0] for row in self.env.cr.fetchall()]

    # ------------------------------------------------------------------ issue
    def _card_description(self):
        return _("WeChat campaign %(name)s", name=self.name)

    def action_issue(self):
        """Issue the coupons to the audience (again: only to members who have none yet)."""
        results = []
        for campaign in self:
            if campaign.expiration_date and campaign.expiration_date < campaign.company_id._wechat_today():
                raise UserError(_("The campaign %(name)s has expired.", name=campaign.name))
            if campaign.program_id.company_id and campaign.program_id.company_id != campaign.company_id:
                raise UserError(_("The program and the WeChat account belong to different companies."))
            self.env.flush_all()
            # One issue of a campaign at a time.
            self.env.cr.execute("SELECT id FROM wechat_coupon_campaign WHERE id = %s FOR UPDATE", [campaign.id])
            cards = campaign._issue_to(campaign._audience_partner_ids(), "issue")
            vals = {"state": "issued"}
            if not campaign.issue_date:
                vals["issue_date"] = fields.Datetime.now()
            campaign.write(vals)
            notified, not_notified = campaign._send_notices(cards)
            campaign._update_statistics()
            campaign.message_post(
                body=_(
                    "%(count)s coupons issued; %(notified)s members notified, %(not_notified)s not notified.",
                    count=len(cards),
                    notified=notified,
                    not_notified=not_notified,
                )
            )
            results.append((len(cards), notified, not_notified))
        issued = sum(r[0] for r in results)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": _(
                    "%(count)s coupons issued; %(notified)s members notified in WeChat, %(not_notified)s will see "
                    "them in their wallet.",
                    count=issued,
                    notified=sum(r[1] for r in results),
                    not_notified=sum(r[2] for r in results),
                ),
                "sticky": False,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_reset_draft(self):
        self.filtered(lambda c: not c.card_ids).write({"state": "draft"})

    # ------------------------------------------------------------------ notices
    def _notice_text(self, partner):
        self.ensure_one()
        campaign = self.with_context(lang=partner.lang or self.env.lang)
        url = campaign.account_id._wechat_coupon_claim_url(campaign)
        date = fields.Date.to_string(campaign.expiration_date) if campaign.expiration_date else "-"
        if campaign.notice_text:
            return (
                campaign.notice_text.replace("{program}", campaign.program_id.name)
                .replace("{date}", date)
                .replace("{url}", url)
            )
        return _(
            "A coupon for you: %(program)s, valid until %(date)s. Open your wallet: %(url)s",
            program=campaign.program_id.with_context(lang=partner.lang or self.env.lang).name,
            date=date,
            url=url,
        )

    def _send_notices(self, cards):
        """Tell the holders of the new ``cards`` in WeChat; returns ``(notified, not notified)``.

        One "coupon issued" notice per card, through the notice router:
        whatever channel WeChat allows each member now (template message,
        subscribe notice, customer service within its quota); a member none
        reaches is counted as not notified: the coupon waits in the wallet.
        """
        self.ensure_one()
        notices = self._notify_cards(self.account_id, "coupon_issued", cards)
        notified = len(notices.filtered(lambda n: n.state != "none"))
        not_notified = len(set(cards.sudo().partner_id.ids)) - notified
        self.write(
            {
                "notified_count": self.notified_count + notified,
                "not_notified_count": self.not_notified_count + not_notified,
            }
        )
        return notified, not_notified

    @api.model
    def _notify_cards(self, account, kind, cards, extra=None):
        """Route a ``kind`` notice about each card to its holder's member on ``account``; returns the notices.

        One notice per contact (their first card), read in SQL: an issue
        can reach 100 000s of contacts.  Texts and template values are made
        from the card when the notice is sent, in the member's language.
        """
        if not cards:
            return self.env["wechat.notice"]
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT DISTINCT ON (m.partner_id) m.id, c.id
              FROM loyalty_card c JOIN wechat_member m ON m.partner_id = c.partner_id AND m.account_id = %s
             WHERE c.id = ANY(%s)
             ORDER BY m.partner_id, (m.state = 'follower') DESC, m.id, c.id
            """,
            [account.id, cards.ids],
        )
        pairs = self.env.cr.fetchall()
        members = self.env["wechat.member"].sudo().browse([m for m, __ in pairs])
        return (
            self.env["wechat.notice"]
            .sudo()
            ._notify(
                kind,
                members,
                {m: dict(extra or {}, card_id=c) for m, c in pairs},
                key={m: f"card-{c}" for m, c in pairs},
                account=account,
            )
        )

    # ------------------------------------------------------------------ claim
    def _issue_to(self, partner_ids, origin, claim_date=None):
        """The campaign's coupons (``limit_per_member`` each) for ``partner_ids``, in bulk; returns the new cards.

        Contacts who already have them are skipped (``_wechat_bulk_create``).
        """
        self.ensure_one()
        seqs = range(1, self.limit_per_member + 1)
        return self.env["loyalty.card"]._wechat_bulk_create(
            self.program_id,
            [(partner_id, seq) for partner_id in partner_ids for seq in seqs],
            points=self.points,
            expiration_date=self.expiration_date,
            description=self._card_description(),
            origin=origin,
            campaign=self,
            claim_date=claim_date,
        )

    def _claim_blockers(self, member):
        """What keeps ``member`` from claiming now: ``{reason: message}``, in the order ``_claim`` checks them.

        Reasons: ``unavailable`` (not issued, no claim page, another
        account), ``ended`` (expired, or program archived), ``claimed`` (the
        member has claimed already), ``sold_out`` (no stock left; ``_claim``
        takes the stock atomically).  The claim page offers the claim when
        neither ``unavailable`` nor ``claimed`` is there.
        """
        self.ensure_one()
        campaign = self.sudo()
        today = campaign.company_id._wechat_today()
        blockers = {}
        if campaign.state != "issued" or not campaign.claim_enabled or member.account_id != campaign.account_id:
            blockers["unavailable"] = _("This offer is not available.")
        if (campaign.expiration_date and campaign.expiration_date < today) or not campaign.program_id.active:
            blockers["ended"] = _("This offer has ended.")
        if (
            self.env["loyalty.card"]
            .sudo()
            .search_count(
                [("wechat_campaign_id", "=", campaign.id), ("wechat_recipient_id", "=", member.partner_id.id)], limit=1
            )
        ):
            blockers["claimed"] = _("You have already claimed this coupon. It is in your wallet.")
        if campaign.wechat_level_ids and not campaign._level_partner_ids([member.partner_id.id]):
            blockers.setdefault("unavailable", "")
            blockers["unavailable"] = blockers["unavailable"] or _(
                "This offer is for the members of these levels: %(levels)s.",
                levels=", ".join(campaign.wechat_level_ids.mapped("name")),
            )
        if campaign.claim_limit and campaign.claim_count >= campaign.claim_limit:
            blockers["sold_out"] = _("Sorry, all the coupons of this offer have been claimed.")
        return blockers

    @api.model
    def _claimable_offers(self, member, limit=5):
        """The campaigns ``member`` can claim now from their claim page, soonest ending first, at most ``limit``
        (with sudo: for the member's self-service answers).

        Issued with a claim page, on the member's account (so of its company), within the campaign's and the
        program's dates, with stock left and not claimed by the member yet (``_claim_blockers``).
        """
        today = member.account_id.company_id._wechat_today()
        campaigns = self.sudo().search(
            [
                ("account_id", "=", member.account_id.id),
                ("state", "=", "issued"),
                ("claim_enabled", "=", True),
                ("program_id.active", "=", True),
                "|",
                ("expiration_date", "=", False),
                ("expiration_date", ">=", today),
                "|",
                ("program_id.date_from", "=", False),
                ("program_id.date_from", "<=", today),
                "|",
                ("program_id.date_to", "=", False),
                ("program_id.date_to", ">=", today),
            ],
            order="expiration_date ASC NULLS LAST, id DESC",
        )
        offers = campaigns.browse()
        for campaign in campaigns:
            if len(offers) >= limit:
                break
            if not campaign._claim_blockers(member):
                offers |= campaign
        return offers

    def _offer_text(self):
        """One offer of the "offers" keyword reply: name, what it gives, until when, and the claim link."""
        self.ensure_one()
        program = self.program_id
        gives = ", ".join(description for description in program.reward_ids.mapped("description") if description)
        name, gives = shorten(self.name, OFFER_TEXT_MAX_CHARS), shorten(gives or program.name, OFFER_TEXT_MAX_CHARS)
        ends = [date for date in (self.expiration_date, program.date_to) if date]
        url = self.account_id._wechat_coupon_claim_url(self)
        if ends:
            return _(
                "%(name)s: %(gives)s, until %(date)s. Claim: %(url)s",
                name=name,
                gives=gives,
                date=fields.Date.to_string(min(ends)),
                url=url,
            )
        return _("%(name)s: %(gives)s. Claim: %(url)s", name=name, gives=gives, url=url)

    def _member_cards(self, member):
        """The coupons of this campaign that ``member`` holds now (issued, claimed or received from a friend)."""
        self.ensure_one()
        return (
            self.env["loyalty.card"]
            .sudo()
            .search([("wechat_campaign_id", "=", self.id), ("partner_id", "=", member.partner_id.id)])
        )

    def _claim(self, member):
        """Give ``member`` the campaign's coupons once, while the stock lasts. Returns the cards.

        Concurrency: the stock is one atomic ``UPDATE … WHERE claim_count <
        claim_limit``, and the (campaign, member, number) unique index refuses
        a second claim of the same member.
        """
        self.ensure_one()
        campaign = self.sudo()
        blockers = campaign._claim_blockers(member)
        blockers.pop("sold_out", None)  # the stock is checked atomically below
        if blockers:
            raise UserError(next(iter(blockers.values())))
        partner = member.partner_id
        self.env.flush_all()
        self.env.cr.execute(
            """
            UPDATE wechat_coupon_campaign SET claim_count = claim_count + 1
             WHERE id = %s AND (claim_limit = 0 OR claim_count < claim_limit)
            RETURNING claim_count
            """,
            [campaign.id],
        )
        if not self.env.cr.fetchone():
            raise UserError(_("Sorry, all the coupons of this offer have been claimed."))
        campaign.invalidate_recordset(["claim_count"])
        cards = campaign._issue_to([partner.id], "claim", claim_date=fields.Datetime.now())
        if not cards:  # claimed meanwhile by the same member
            raise UserError(_("You have already claimed this coupon. It is in your wallet."))
        campaign._update_statistics()
        return cards

    # ------------------------------------------------------------------ results
    def _update_statistics(self):
        """Issued → claimed → redeemed → revenue, with ``_read_group``."""
        if not self:
            return
        self.env.flush_all()
        Card = self.env["loyalty.card"].sudo().with_context(active_test=False)
        domain = [("wechat_campaign_id", "in", self.ids)]
        issued = dict(Card._read_group(domain, ["wechat_campaign_id"], ["__count"]))
        claimed = dict(
            Card._read_group(domain + [("wechat_claim_date", "!=", False)], ["wechat_campaign_id"], ["__count"])
        )
        redeemed = {
            campaign: (count, order_ids)
            for campaign, count, order_ids in Card._read_group(
                domain + [("wechat_redeem_order_id", "!=", False)],
                ["wechat_campaign_id"],
                ["__count", "wechat_redeem_order_id:array_agg"],
            )
        }
        Order = self.env["pos.order"].sudo()
        for campaign in self.sudo():
            count, order_ids = redeemed.get(campaign, (0, []))
            revenue = 0.0
            if order_ids:
                [(revenue,)] = Order._read_group(
                    [("id", "in", list(set(order_ids))), ("state", "in", PAID_STATES)], [], ["amount_total:sum"]
                )
            issued_count = issued.get(campaign, 0)
            campaign.write(
                {
                    "issued_count": issued_count,
                    "claimed_count": claimed.get(campaign, 0),
                    "redeemed_count": count,
                    "revenue": revenue or 0.0,
                    "redemption_rate": 100.0 * count / issued_count if issued_count else 0.0,
                }
            )

    @api.model
    def _cron_update_statistics(self):
        self.search([("state", "=", "issued")])._update_statistics()

    def action_refresh_statistics(self):
        self._update_statistics()
        return True

    def action_view_cards(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("loyalty.loyalty_card_action")
        action["domain"] = [("wechat_campaign_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    # ------------------------------------------------------------------ from members (Action menu)
    @api.model
    def _check_members(self, members):
        if not members:
            raise UserError(_("Select members first."))
        if len(members.account_id) > 1:
            raise UserError(_("Choose members of one WeChat account at a time."))

    @api.model
    def action_create_from_members(self, members):
        """Action menu of members: a draft campaign for them, opened in its form."""
        self._check_members(members)
        account = members.account_id
        program = self.env["loyalty.program"].search(
            [("program_type", "in", COUPON_PROGRAM_TYPES), ("company_id", "in", [False, account.company_id.id])],
            limit=1,
        )
        if not program:
            raise UserError(_("Create a coupon program first (Campaigns > Coupon Programs)."))
        campaign = self.create(
            {
                "name": _("Coupons for %(count)s members", count=len(members)),
                "account_id": account.id,
                "program_id": program.id,
                "audience": "members",
                "member_ids": [(6, 0, members.ids)],
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": campaign.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }

    # ------------------------------------------------------------------ demo
    def _demo_wallets(self):
        """Demo (``demo/wechat_coupon_demo.xml``): coupons in the demo members' wallets.

        Issued to eight members (no WeChat notice), claimed from the claim
        page by three others, and the coupon of a member who bought since
        used in that member's last order.
        """
        for campaign in self.filtered(lambda c: c.state == "draft"):
            members = self.env["wechat.member"].search(
                [("account_id", "=", campaign.account_id.id), ("openid", "=like", "oDEMO%")], order="openid"
            )
            campaign.write({"member_ids": [Command.set(members[:8].ids)], "state": "issued"})
            campaign.issue_date = fields.Datetime.now()
            cards = campaign._issue_to(members[:8].partner_id.ids, "issue")
            for member in members[8:11]:
                campaign._claim(member)
            Order = self.env["pos.order"]
            for card in cards:
                order = Order.search(
                    [("partner_id", "=", card.partner_id.id), ("state", "in", PAID_STATES)],
                    order="date_order desc",
                    limit=1,
                )
                if order:
                    card.write({"points": 0, "wechat_redeem_order_id": order.id})
                    break
            campaign._update_statistics()
        return True
