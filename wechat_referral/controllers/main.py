"""Referral share links and the "invite friends" section of the member page.

``/wechat/r/<account id>/<token>``: the token is the referrer's signed
member token, never a bare member code (an unknown code and a bad
signature get the same page).  A visitor without a WeChat session goes
through a silent OAuth that comes back to ``/wechat/referral/oauth/<account
id>``: the visitor becomes a member ("page visitor") attributed to the
referrer when this visit created the member.
"""

import logging

from odoo import _, http
from odoo.exceptions import UserError
from odoo.http import request

from odoo.addons.wechat_member.controllers.member_page import WeChatMemberPage
from odoo.addons.wechat_member.tools.wechat_api import WeChatError

from ..models.res_partner import format_points

_logger = logging.getLogger(__name__)


class WeChatReferralPage(WeChatMemberPage):
    # ------------------------------------------------------------------ member page
    def _member_page_sections(self, member):
        sections = super()._member_page_sections(member)
        member = member.sudo()
        program = request.env["wechat.referral.program"]._for_account(member.account_id)
        if not program:
            return sections
        qr_src = False
        try:
            channel = member._referral_qr()
            if channel.qr_image:
                image = channel.qr_image
                qr_src = "data:image/png;base64," + (image.decode() if isinstance(image, bytes) else image)
        except (WeChatError, UserError) as exc:  # the link still works without the QR code
            _logger.info("WeChat member %s: referral QR not available (%s)", member.id, exc)
        stats = member.sudo()
        invited, rewarded, points = stats.referral_count, stats.referral_rewarded_count, stats.referral_points
        welcome = (
            request.env["wechat.referral"]
            .sudo()
            .search(
                [("referee_member_id", "=", member.id), ("state", "!=", "rejected"), ("welcome_card_id", "!=", False)],
                limit=1,
            )
            .welcome_card_id
        )
        values = {
            "program": program,
            "qr_src": qr_src,
            "link": member._referral_url(),
            "invited": invited,
            "rewarded": rewarded,
            "points": points,
            "points_text": format_points(points),
            "intro": _(
                "Friends who follow us through your QR code or your link are yours: you earn %(points)s points "
                "when they make their first purchase.",
                points=format_points(program.points_per_referral),
            ),
            "welcome_card": welcome if welcome and welcome.points > 0 else False,
        }
        sections.append((50, "wechat_referral.member_page_referral", values))
        return sections

    # ------------------------------------------------------------------ share link
    @http.route("/wechat/r/<int:account_id>/<string:token>", type="http", auth="public", methods=["GET"],
                sitemap=False)
    def referral_link(self, account_id, token, **kw):
        account = self._account(account_id)
        self._set_lang(kw.get("lang"))
        referrer = request.env["wechat.member"].sudo()._from_referral_token(account, token)
        if not referrer:
            return self._render_error(_("This invitation link is invalid."), status=404)
        member = self._current_member(account)
        if member:  # already known in this browser: an existing member, never a new friend
            if member != referrer:
                request.env["wechat.referral"].sudo()._attribute(referrer, member, new_member=False, source="link")
            return request.redirect(f"/wechat/member/{account.id}")
        redirect_uri = f"{account.get_base_url()}/wechat/referral/oauth/{account.id}"
        state = self._sign_state(account, f"/wechat/r/{account.id}/{token}")
        return request.redirect(account._oauth_authorize_url(redirect_uri, state), local=False)

    @http.route("/wechat/referral/oauth/<int:account_id>", type="http", auth="public", methods=["GET"],
                sitemap=False)
    def referral_oauth_return(self, account_id, code=None, state=None, **kw):
        account = self._account(account_id)
        self._set_lang()
        if self._oauth_throttled():
            return self._render_throttled()
        path = self._check_state(account, state)
        prefix = f"/wechat/r/{account.id}/"
        if not path or not code or not path.startswith(prefix):
            return self._render_error(_("This link is invalid or has expired. Please open it again from WeChat."))
        referrer = request.env["wechat.member"].sudo()._from_referral_token(account, path[len(prefix):])
        member, created, error = self._oauth_login(account, code)
        if error:
            return error
        if referrer and member != referrer:
            request.env["wechat.referral"].sudo()._attribute(referrer, member, new_member=created, source="link")
        return request.redirect(f"/wechat/member/{account.id}")
