"""Referral share links and the "invite friends" section of the member page.

``/wechat/r/<account id>/<token>``: the token is the referrer's signed
member token, never a bare member code (an unknown code and a bad
signature get the same page).  A visitor without a WeChat session goes
through a silent OAuth that comes back to ``/wechat/referral/oauth/<account
id>``: the visitor becomes a member ("page visitor") attributed to the
referrer when this visit created the member.
"""

from odoo import _, http
from odoo.http import request

from odoo.addons.wechat_member.controllers.member_page import WeChatMemberPage


class WeChatReferralPage(WeChatMemberPage):
    # ------------------------------------------------------------------ member page
    def _prepare_member_page_values(self, member):
        """Adds ``referral``, the "Invite friends" section (``wechat_referral.member_page_referral``)."""
        values = super()._prepare_member_page_values(member)
        values["referral"] = member._referral_page_values()
        return values

    # ------------------------------------------------------------------ share link
    @http.route("/wechat/r/<int:account_id>/<string:token>", type="http", auth="public", methods=["GET"], sitemap=False)
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

    @http.route("/wechat/referral/oauth/<int:account_id>", type="http", auth="public", methods=["GET"], sitemap=False)
    def referral_oauth_return(self, account_id, code=None, state=None, **kw):
        account = self._account(account_id)
        self._set_lang()
        if self._oauth_throttled():
            return self._render_throttled()
        path = self._check_state(account, state)
        prefix = f"/wechat/r/{account.id}/"
        if not path or not code or not path.startswith(prefix):
            return self._render_error(_("This link is invalid or has expired. Please open it again from WeChat."))
        referrer = request.env["wechat.member"].sudo()._from_referral_token(account, path[len(prefix) :])
        member, created, error = self._oauth_login(account, code)
        if error:
            return error
        if referrer and member != referrer:
            request.env["wechat.referral"].sudo()._attribute(referrer, member, new_member=created, source="link")
        return request.redirect(f"/wechat/member/{account.id}")
