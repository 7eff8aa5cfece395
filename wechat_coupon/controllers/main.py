"""The coupon wallet, claim and gift pages inside WeChat.

Same OAuth as the member page (``snsapi_base``, openid kept in the
session): the controller inherits :class:`WeChatMemberPage` and reuses its
helpers.  Business rules live in the models (``loyalty.card``,
``wechat.coupon.campaign``); the pages parse, call and render.
"""

import base64

from werkzeug.exceptions import NotFound

from odoo import fields, http
from odoo.exceptions import UserError
from odoo.http import request

from odoo.addons.wechat_member.controllers.member_page import WeChatMemberPage
from odoo.addons.wechat_member.tools.qr_code import qr_png


class WeChatCouponPage(WeChatMemberPage):
    # ------------------------------------------------------------------ member page section
    def _prepare_member_page_values(self, member):
        """Adds ``coupons``, the "My coupons" section (``wechat_coupon.member_page_coupons``)."""
        values = super()._prepare_member_page_values(member)
        valid = member.partner_id._wechat_valid_wallet_cards(member.account_id)
        values["coupons"] = {"count": len(valid), "url": f"/wechat/coupons/{member.account_id.id}", "cards": valid[:3]}
        values["stamp_cards"] = self._stamp_cards_values(member)
        values["points_expiry"] = self._points_expiry_values(member)
        values["member_level"] = self._member_level_values(member)
        return values

    def _stamp_cards_values(self, member):
        """The "My stamp cards" section (``wechat_coupon.member_page_stamps``): the member's stamp cards at the
        account's company, and the running stamp programs they have no card of yet."""
        partner = member.partner_id.with_context(lang=request.env.lang)
        return partner._wechat_stamp_cards(member.account_id.company_id)

    def _points_expiry_values(self, member):
        """The "Points expiring" section (``wechat_coupon.member_page_points_expiry``): per points card whose
        points expire, the next 3 expiry dates with their points (first in, first out)."""
        partner = member.partner_id.with_context(lang=request.env.lang)
        company = member.account_id.company_id
        sections = []
        for card in partner._wechat_points_cards():
            if card.company_id and card.company_id != company:
                continue
            lines = card._wechat_points_expiry_texts(3)
            if lines:
                sections.append({"program": card.program_id.with_context(lang=request.env.lang).name, "lines": lines})
        return sections

    def _member_level_values(self, member):
        """``member_level``: the member's level at the account's company and the progress to the next one."""
        row = (
            request.env["wechat.member.level.member"]
            .sudo()
            .search([("partner_id", "=", member.partner_id.id), ("company_id", "=", member.account_id.company_id.id)])
        )
        return row.with_context(lang=request.env.lang)._member_page_values() if row.level_id else False

    # ------------------------------------------------------------------ helpers
    def _coupon_member(self, account, path, lang=None):
        """``(member, redirect)``: the visitor, or the OAuth redirect to come back to ``path``."""
        self._set_lang(lang)
        member = self._current_member(account)
        if not member:
            return None, self._login_redirect(account, path)
        return member, None

    def _card_values(self, card, account, today, with_qr=True):
        status = card._wechat_status(today)
        values = {
            "card": card,
            "code": card.code,
            "program": card.program_id.with_context(lang=request.env.lang).name,
            "status": status,
            "expiration_date": fields.Date.to_string(card.expiration_date) if card.expiration_date else False,
            "qr": False,
            "forward_url": False,
        }
        if status == "valid":
            if with_qr:
                values["qr"] = "data:image/png;base64," + base64.b64encode(qr_png(card.code, box_size=6)).decode()
            values["forward_url"] = f"/wechat/coupons/{account.id}/gift/{card.id}/{card._wechat_forward_token()}"
        return values

    # ------------------------------------------------------------------ wallet
    @http.route("/wechat/coupons/<int:account_id>", type="http", auth="public", methods=["GET"], sitemap=False)
    def coupon_wallet(self, account_id, lang=None, received=None, **kw):
        account = self._account(account_id)
        member, redirect = self._coupon_member(account, f"/wechat/coupons/{account.id}", lang)
        if redirect:
            return redirect
        partner = member.partner_id.with_context(lang=request.env.lang)
        cards = partner._wechat_wallet_cards(account)
        cards._wechat_mark_seen()
        today = account.company_id._wechat_today()
        values = {
            "account": account,
            "member": member,
            "partner": partner,
            "cards": [self._card_values(card, account, today) for card in cards],
            "points_text": partner._wechat_points_text(),
            "received": bool(received),
            "lang": request.env.lang,
        }
        return request.render("wechat_coupon.coupon_wallet", values)

    # ------------------------------------------------------------------ claim page
    def _campaign(self, account, campaign_id):
        campaign = request.env["wechat.coupon.campaign"].sudo().browse(campaign_id).exists()
        if not campaign or campaign.account_id != account or campaign.state != "issued":
            raise NotFound()
        return campaign

    def _render_claim(self, account, member, campaign, message=None, claimed=False, status=200):
        mine = campaign._member_cards(member)
        today = account.company_id._wechat_today()
        blockers = campaign._claim_blockers(member)
        values = {
            "account": account,
            "member": member,
            "campaign": campaign.with_context(lang=request.env.lang),
            "program": campaign.program_id.with_context(lang=request.env.lang).name,
            "cards": [self._card_values(card, account, today) for card in mine],
            "can_claim": "unavailable" not in blockers and "claimed" not in blockers,
            "sold_out": "sold_out" in blockers,
            "message": message,
            "claimed": claimed,
            "lang": request.env.lang,
        }
        return request.render("wechat_coupon.coupon_claim", values, status=status)

    @http.route(
        "/wechat/coupons/<int:account_id>/claim/<int:campaign_id>",
        type="http",
        auth="public",
        methods=["GET"],
        sitemap=False,
    )
    def coupon_claim_page(self, account_id, campaign_id, lang=None, **kw):
        account = self._account(account_id)
        campaign = self._campaign(account, campaign_id)
        member, redirect = self._coupon_member(account, f"/wechat/coupons/{account.id}/claim/{campaign.id}", lang)
        if redirect:
            return redirect
        campaign._member_cards(member)._wechat_mark_seen()  # opened from the notice: the issued coupon is claimed
        return self._render_claim(account, member, campaign)

    @http.route(
        "/wechat/coupons/<int:account_id>/claim/<int:campaign_id>",
        type="http",
        auth="public",
        methods=["POST"],
        sitemap=False,
    )
    def coupon_claim(self, account_id, campaign_id, **post):
        account = self._account(account_id)
        campaign = self._campaign(account, campaign_id)
        member, redirect = self._coupon_member(account, f"/wechat/coupons/{account.id}/claim/{campaign.id}")
        if redirect:
            return redirect
        try:
            with request.env.cr.savepoint():
                campaign._claim(member)
        except UserError as exc:
            return self._render_claim(account, member, campaign, message=exc.args[0], status=409)
        return self._render_claim(account, member, campaign, claimed=True)

    # ------------------------------------------------------------------ forward to a friend
    def _gift_card(self, account, card_id):
        card = request.env["loyalty.card"].sudo().browse(card_id).exists()
        if not card or (card.company_id and card.company_id != account.company_id):
            raise NotFound()
        return card

    @http.route(
        "/wechat/coupons/<int:account_id>/gift/<int:card_id>/<string:token>",
        type="http",
        auth="public",
        methods=["GET"],
        sitemap=False,
    )
    def coupon_gift_page(self, account_id, card_id, token, lang=None, **kw):
        account = self._account(account_id)
        card = self._gift_card(account, card_id)
        member, redirect = self._coupon_member(account, f"/wechat/coupons/{account.id}/gift/{card.id}/{token}", lang)
        if redirect:
            return redirect
        try:
            card._wechat_check_forward_token(token)
        except UserError as exc:
            return self._render_error(exc.args[0], status=403)
        today = account.company_id._wechat_today()
        values = {
            "account": account,
            "member": member,
            "token": token,
            "mine": card.partner_id == member.partner_id,
            "giver": card.partner_id.name,
            "coupon": self._card_values(card, account, today, with_qr=False),
            "lang": request.env.lang,
        }
        return request.render("wechat_coupon.coupon_gift", values)

    @http.route(
        "/wechat/coupons/<int:account_id>/gift/<int:card_id>/<string:token>",
        type="http",
        auth="public",
        methods=["POST"],
        sitemap=False,
    )
    def coupon_gift_accept(self, account_id, card_id, token, **post):
        account = self._account(account_id)
        card = self._gift_card(account, card_id)
        member, redirect = self._coupon_member(account, f"/wechat/coupons/{account.id}/gift/{card.id}/{token}")
        if redirect:
            return redirect
        try:
            with request.env.cr.savepoint():
                card._wechat_accept_forward(member, token)
        except UserError as exc:
            return self._render_error(exc.args[0], status=403)
        return request.redirect(f"/wechat/coupons/{account.id}?received=1")

    def _render_error(self, message, status=400):
        return request.render(
            "wechat_member.member_page_error", {"message": message, "lang": request.env.lang}, status=status
        )
