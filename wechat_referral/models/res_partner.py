from odoo import _, models


def format_points(points):
    return f"{points:,.0f}" if float(points).is_integer() else f"{points:,.2f}"


class ResPartner(models.Model):
    _inherit = "res.partner"

    def _wechat_referral_member(self):
        """The member the self-service answer is for (set by the reply rule), else the contact's latest."""
        self.ensure_one()
        member_id = self.env.context.get("wechat_referral_member_id")
        member = self.env["wechat.member"].sudo().browse(member_id).exists() if member_id else None
        return member or self.sudo().wechat_member_ids[:1]

    def _wechat_points_cards(self):
        """Adds the member's cards of the referral points programs (already there with ``wechat_coupon``,
        which returns the cards of every loyalty program)."""
        cards = super()._wechat_points_cards()
        programs = (
            self.env["wechat.referral.program"].sudo().with_context(active_test=False).search([]).points_program_id
        )
        referral_cards = (
            self.env["loyalty.card"]
            .sudo()
            .search(
                [
                    ("partner_id", "=", self.id),
                    ("program_id", "in", programs.ids),
                    ("program_id.active", "=", True),
                    "|",
                    ("expiration_date", "=", False),
                    ("expiration_date", ">=", self.env.company._wechat_today()),
                ]
            )
        )
        return cards | referral_cards if cards else referral_cards

    def _wechat_invite_text(self):
        """What "邀请" / "invite" answers: the share link, friends invited and points earned."""
        self.ensure_one()
        member = self._wechat_referral_member()
        if not member:
            return _("Follow us to get your invitation link.")
        program = self.env["wechat.referral.program"]._for_account(member.account_id)
        if not program:
            return _("Inviting friends is not open right now. Stay tuned!")
        stats = member.sudo()
        invited, rewarded, points = stats.referral_count, stats.referral_rewarded_count, stats.referral_points
        lines = [
            _(
                "Invite friends with your link: %(url)s (your invitation QR code is on your member page: "
                "%(page)s). You earn %(points)s points when a friend makes a first purchase.",
                url=member._referral_url(),
                page=member.account_id._member_page_url(),
                points=format_points(program.points_per_referral),
            ),
            _(
                "Friends invited: %(invited)s, of whom %(rewarded)s bought. Points earned: %(points)s.",
                invited=invited,
                rewarded=rewarded,
                points=format_points(points),
            ),
        ]
        if program.welcome_program_id:
            lines.append(
                _(
                    "Your friends get a welcome offer on their first purchase: %(perk)s.",
                    perk=program.welcome_program_id.name,
                )
            )
        return "\n".join(lines)

    def _wechat_referral_welcome_text(self):
        """Told to a friend attributed to a referrer: the welcome coupon, valid on a purchase only."""
        self.ensure_one()
        member = self._wechat_referral_member()
        referral = (
            self.env["wechat.referral"]
            .sudo()
            .search(
                [("referee_member_id", "=", member.id), ("state", "!=", "rejected"), ("welcome_card_id", "!=", False)],
                limit=1,
            )
        )
        if not referral:
            return ""
        return _(
            "A welcome offer from %(friend)s: %(perk)s on your first purchase, code %(code)s "
            "(also on your member page).",
            friend=referral.referrer_partner_id.name,
            perk=referral.welcome_card_id.program_id.name,
            code=referral.welcome_card_id.code,
        )
