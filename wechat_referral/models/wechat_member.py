import logging
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import consteq
from odoo.tools.misc import hmac as hmac_sign

from odoo.addons.wechat_member.tools.wechat_api import WeChatError

from .res_partner import format_points

_logger = logging.getLogger(__name__)

# Personal referral QR codes are temporary (WeChat limits permanent ones to
# 100 000 per account): regenerated with the same scene when about to expire.
REFERRAL_QR_DAYS = 30
REFERRAL_QR_RENEW = timedelta(days=1)


class WeChatMember(models.Model):
    _inherit = "wechat.member"

    referral_ids = fields.One2many("wechat.referral", "referrer_member_id", string="Friends Referred")
    referral_count = fields.Integer("Friends Invited", compute="_compute_referral_stats")
    referral_rewarded_count = fields.Integer("Friends Rewarded", compute="_compute_referral_stats")
    referral_points = fields.Float("Referral Points", compute="_compute_referral_stats")
    referred_by_id = fields.Many2one(
        "wechat.member",
        string="Referred By",
        compute="_compute_referred_by",
        help="The member this member was attributed to as a friend.",
    )

    @api.depends("referral_ids.state", "referral_ids.points_net")
    def _compute_referral_stats(self):
        groups = self.env["wechat.referral"]._read_group(
            [("referrer_member_id", "in", self.ids), ("state", "!=", "rejected")],
            ["referrer_member_id", "state"],
            ["__count", "points_net:sum"],
        )
        stats = {}
        for member, state, count, points in groups:
            invited, rewarded, net = stats.get(member.id, (0, 0, 0.0))
            stats[member.id] = (invited + count, rewarded + (count if state == "rewarded" else 0), net + points)
        for member in self:
            member.referral_count, member.referral_rewarded_count, member.referral_points = stats.get(
                member.id, (0, 0, 0.0)
            )

    def _compute_referred_by(self):
        referrals = self.env["wechat.referral"].search(
            [("referee_member_id", "in", self.ids), ("state", "!=", "rejected")]
        )
        by_referee = {r.referee_member_id.id: r.referrer_member_id for r in referrals}
        for member in self:
            member.referred_by_id = by_referee.get(member.id, self.browse())

    # ------------------------------------------------------------------ referral QR and link
    def _referral_channel(self, create=True):
        """The member's personal referral QR channel (type "member"), created on demand, once."""
        self.ensure_one()
        Channel = self.env["wechat.qr.channel"].sudo().with_context(active_test=False)
        channel = Channel.search([("referrer_member_id", "=", self.id)], limit=1)
        if channel or not create:
            return channel
        self.env.cr.execute("SELECT id FROM wechat_member WHERE id = %s FOR UPDATE", [self.id])
        channel = Channel.search([("referrer_member_id", "=", self.id)], limit=1)
        if not channel:
            channel = Channel.create(
                {
                    "name": _("Referral: %(member)s", member=self.display_name),
                    "account_id": self.account_id.id,
                    "channel_type": "member",
                    "referrer_member_id": self.id,
                    "qr_type": "temporary",
                    "expire_days": REFERRAL_QR_DAYS,
                    "sequence": 100,
                }
            )
        return channel

    def _referral_qr(self):
        """The referral channel with a valid QR image (asked from WeChat when missing or about to expire)."""
        channel = self._referral_channel()
        expires = channel.qr_expires_at
        if not channel.qr_image or (expires and expires <= fields.Datetime.now() + REFERRAL_QR_RENEW):
            channel.action_generate_qr()
        return channel

    def _referral_token(self):
        self.ensure_one()
        signature = hmac_sign(self.env(su=True), "wechat-referral", f"{self.account_id.id}:{self.id}")[:20]
        return f"{self.id}-{signature}"

    def _referral_url(self):
        self.ensure_one()
        return f"{self.account_id.get_base_url()}/wechat/r/{self.account_id.id}/{self._referral_token()}"

    @api.model
    def _from_referral_token(self, account, token):
        """The referrer of a share link: only a signed token ``<member id>-<signature>`` is accepted.

        A member code or a bad signature names nobody, and both look the same
        to the visitor: share links do not tell which members or codes exist.
        """
        token = token if isinstance(token, str) else ""
        member_id, __, signature = token.partition("-")
        if not token.isascii() or not member_id.isdigit() or not signature or len(token) > 64:
            return self.browse()
        member = self.sudo().browse(int(member_id)).exists()
        expected = member._referral_token() if member else f"{member_id}-{'0' * 20}"
        if member and member.account_id == account and consteq(expected, token):
            return member
        return self.browse()

    # ------------------------------------------------------------------ member page
    def _referral_page_values(self):
        """The "Invite friends" section of the member's page, or False when the account has no referral program.

        Asks WeChat for the personal referral QR code when it is missing or
        about to expire (``_referral_qr``): the share link works without it,
        so a refusal only leaves the QR code out.  Also the member's friends
        and points, and the welcome coupon a friend gave the member.
        """
        self.ensure_one()
        member = self.sudo()
        program = self.env["wechat.referral.program"]._for_account(member.account_id)
        if not program:
            return False
        qr_src = False
        try:
            channel = member._referral_qr()
            if channel.qr_image:
                image = channel.qr_image
                qr_src = "data:image/png;base64," + (image.decode() if isinstance(image, bytes) else image)
        except (WeChatError, UserError) as exc:  # the link still works without the QR code
            _logger.info("WeChat member %s: referral QR not available (%s)", member.id, exc)
        points = member.referral_points
        welcome = (
            self.env["wechat.referral"]
            .sudo()
            .search(
                [("referee_member_id", "=", member.id), ("state", "!=", "rejected"), ("welcome_card_id", "!=", False)],
                limit=1,
            )
            .welcome_card_id
        )
        return {
            "program": program,
            "qr_src": qr_src,
            "link": member._referral_url(),
            "invited": member.referral_count,
            "rewarded": member.referral_rewarded_count,
            "points": points,
            "points_text": format_points(points),
            "intro": _(
                "Friends who follow us through your QR code or your link are yours: you earn %(points)s points "
                "when they make their first purchase.",
                points=format_points(program.points_per_referral),
            ),
            "welcome_card": welcome if welcome and welcome.points > 0 else False,
        }

    # ------------------------------------------------------------------ actions
    def action_referral_qr(self):
        self.ensure_one()
        channel = self._referral_qr()
        return {
            "type": "ir.actions.act_window",
            "res_model": "wechat.qr.channel",
            "res_id": channel.id,
            "view_mode": "form",
        }

    def action_view_referrals(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("wechat_referral.wechat_referral_action")
        action["domain"] = [("referrer_member_id", "=", self.id)]
        action["context"] = {"search_default_group_state": 1}
        return action
