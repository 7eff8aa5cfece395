"""The member page inside WeChat: ``/wechat/member/<account id>``.

The visitor is identified by a silent OAuth (``snsapi_base``): WeChat
redirects back to ``/wechat/oauth/<account id>`` with a code that we exchange
for the openid, kept in the session.  A visitor who is not a member yet
becomes one (state "page visitor").  ``wechat_coupon`` and
``wechat_referral`` add their sections as ``portal`` does for ``/my``: their
values through ``_prepare_member_page_values`` and their markup by
inheriting the ``wechat_member.member_page`` template.

The "Notify me" block offers the one-time subscribe notices (订阅通知) the
account maps: WeChat's open tag ``wx-open-subscribe`` on a page signed with
the account's jsapi_ticket.  The page only shows WeChat's pop-up and a
confirmation: the opt-in itself is recorded from WeChat's signed
``subscribe_msg_popup_event`` on the callback, never from the page.
"""

import base64
import logging
import re
import secrets
import time
from datetime import date

from werkzeug.exceptions import NotFound

from odoo import _, fields, http
from odoo.http import request

from ..tools.qr_code import qr_png
from ..tools.wechat_api import WeChatError

_logger = logging.getLogger(__name__)

PHONE_RE = re.compile(r"^\+?[0-9][0-9 \-]{5,19}$")
STATE_SESSION_KEY = "wechat_oauth_states"
STATE_TTL = 600  # seconds: the OAuth round trip takes a few
STATE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MAX_PENDING_STATES = 8
LANGS = {"zh": "zh_CN", "zh_CN": "zh_CN", "en": "en_US", "en_US": "en_US"}


class WeChatMemberPage(http.Controller):
    # ------------------------------------------------------------------ helpers
    def _account(self, account_id):
        account = request.env["wechat.account"].sudo().browse(account_id).exists()
        if not account or not account.active:
            raise NotFound()
        return account

    def _set_lang(self, lang=None):
        code = LANGS.get(lang or "") or request.session.get("wechat_lang")
        installed = dict(request.env["res.lang"].sudo().get_installed())
        if not code:
            code = "zh_CN" if "zh_CN" in installed else "en_US"
        if code not in installed:
            code = "en_US" if "en_US" in installed else next(iter(installed))
        request.session["wechat_lang"] = code
        request.update_context(lang=code)
        return code

    @staticmethod
    def _session_key(account):
        return f"wechat_openid_{account.id}"

    def _sign_state(self, account, path):
        """A random, single-use OAuth ``state`` kept in this browser's session with the return ``path``.

        The code WeChat sends back only signs in the browser that started the
        login (no login CSRF: a code opened in another browser finds no such
        state in its session), once, within ``STATE_TTL`` seconds.
        """
        nonce = secrets.token_urlsafe(18)
        now = int(time.time())
        states = {
            k: v
            for k, v in (request.session.get(STATE_SESSION_KEY) or {}).items()
            if isinstance(v, list | tuple) and len(v) == 3 and v[2] > now
        }
        if len(states) >= MAX_PENDING_STATES:  # keep the newest ones
            states = dict(sorted(states.items(), key=lambda kv: kv[1][2])[-(MAX_PENDING_STATES - 1) :])
        states[nonce] = [account.id, path, now + STATE_TTL]
        request.session[STATE_SESSION_KEY] = states
        return nonce

    def _check_state(self, account, state):
        """The return path of ``state`` if this session issued it for ``account`` and it is fresh; used up."""
        if not isinstance(state, str) or not state.isascii() or not STATE_RE.match(state):
            return None
        states = dict(request.session.get(STATE_SESSION_KEY) or {})
        entry = states.pop(state, None)
        if entry is None:
            return None
        request.session[STATE_SESSION_KEY] = states
        account_id, path, expires = entry
        if account_id != account.id or expires < time.time() or not str(path).startswith("/wechat/"):
            return None
        return path

    @staticmethod
    def _in_wechat():
        """Whether the page is open in WeChat's own browser."""
        return "MicroMessenger" in (request.httprequest.headers.get("User-Agent") or "")

    def _client_ip(self):
        return request.httprequest.remote_addr or ""

    def _oauth_throttled(self):
        return request.env["wechat.oauth.failure"].sudo()._throttled(self._client_ip())

    def _render_throttled(self):
        return self._render_error(
            _("Too many attempts from your network. Please wait a few minutes and open the page again."), status=429
        )

    def _current_member(self, account):
        openid = request.session.get(self._session_key(account))
        if not openid:
            return request.env["wechat.member"]
        return (
            request.env["wechat.member"]
            .sudo()
            .search([("account_id", "=", account.id), ("openid", "=", openid)], limit=1)
        )

    def _login_redirect(self, account, path):
        redirect_uri = f"{account.get_base_url()}/wechat/oauth/{account.id}"
        return request.redirect(
            account._oauth_authorize_url(redirect_uri, self._sign_state(account, path)), local=False
        )

    def _jssdk_values(self, account, member, js_apis):
        """``wx.config`` of this page with ``js_apis``, or {} outside WeChat (sandbox aside) or without a ticket."""
        if not (self._in_wechat() or account.sandbox):
            return {}
        return account._jssdk_page_values(request.httprequest.url, member, js_apis=js_apis) or {}

    def _render_error(self, message, status=400):
        return request.render("wechat_member.member_page_error", {"message": message}, status=status)

    # ------------------------------------------------------------------ routes
    @http.route("/wechat/oauth/<int:account_id>", type="http", auth="public", methods=["GET"], sitemap=False)
    def oauth_return(self, account_id, code=None, state=None, **kw):
        account = self._account(account_id)
        self._set_lang()
        if self._oauth_throttled():
            return self._render_throttled()
        path = self._check_state(account, state)
        if not path or not code:
            return self._render_error(_("This link is invalid or has expired. Please open it again from WeChat."))
        member, __, error = self._oauth_login(account, code)
        return error or request.redirect(path)

    def _oauth_login(self, account, code):
        """Exchange the OAuth ``code``; the visitor becomes a member (if new) and is remembered.

        Returns ``(member, created, None)``, or ``(None, False, error page)``.
        """
        if self._oauth_throttled():
            return None, False, self._render_throttled()
        try:
            if not isinstance(code, str) or not code.isascii() or len(code) > 128:
                raise WeChatError(40029, "invalid code", request.env)
            openid, unionid = account._oauth_openid(code)
        except WeChatError as exc:
            _logger.info("WeChat account %s: OAuth code refused (%s)", account.id, exc.errcode)
            request.env["wechat.oauth.failure"].sudo()._record(self._client_ip())
            error = self._render_error(_("WeChat could not confirm who you are. Please open the page again."))
            return None, False, error
        member, created = request.env["wechat.member"].sudo()._from_oauth(account, openid, unionid)
        request.session[self._session_key(account)] = openid
        return member, created, None

    @http.route("/wechat/member/<int:account_id>", type="http", auth="public", methods=["GET"], sitemap=False)
    def member_page(self, account_id, lang=None, saved=None, **kw):
        account = self._account(account_id)
        self._set_lang(lang)
        member = self._current_member(account)
        if not member:
            return self._login_redirect(account, f"/wechat/member/{account.id}")
        return self._render_member_page(member, saved=bool(saved))

    def _dynamic_code_values(self, member):
        """The member's dynamic code now: it changes every minute, the till accepts it for 2 minutes."""
        code = member._dynamic_code()
        return {
            "code": code,
            "display": " ".join((code[:2], code[2:6], code[6:10], code[10:14], code[14:])),
            "qr": "data:image/png;base64," + base64.b64encode(qr_png(code)).decode(),
            "expires_in": member._dynamic_code_expires_in(),
        }

    @http.route("/wechat/member/<int:account_id>/code", type="http", auth="public", methods=["GET"], sitemap=False)
    def member_dynamic_code(self, account_id, **kw):
        """The current dynamic code of the signed-in member only (the page refreshes it every 60 s)."""
        account = self._account(account_id)
        member = self._current_member(account)
        if not member:
            return request.make_json_response({"error": "login"}, status=403)
        return request.make_json_response(self._dynamic_code_values(member), headers=[("Cache-Control", "no-store")])

    def _prepare_member_page_values(self, member):
        """The values of ``member``'s page (template ``wechat_member.member_page``).

        Other modules add the values of their sections here (``super()`` then
        ``update``) and the sections themselves by inheriting the template,
        as ``portal`` does for ``/my`` (``_prepare_home_portal_values``).
        """
        partner = member.partner_id.with_context(lang=request.env.lang)
        dynamic = self._dynamic_code_values(member)
        return {
            "account": member.account_id,
            "member": member,
            "partner": partner,
            "member_code": partner.wechat_member_code or "",
            "dynamic": dynamic,
            "member_qr": dynamic["qr"],
            "points_text": partner._wechat_points_text(),
            "purchases_text": partner._wechat_purchases_text(),
            "thanks_text": member.with_context(lang=request.env.lang)._wechat_recent_thanks(),
            "notify": self._notify_me_values(member),
            "cs_replies": member.with_context(lang=request.env.lang)._cs_recent_replies(),
            "has_stores": bool(request.env["pos.config"]._wechat_stores(member.account_id)),
            "has_bookings": bool(
                request.env["product.template"]
                .sudo()
                .search_count(
                    [("wechat_orderable", "=", True), ("company_id", "in", (False, member.account_id.company_id.id))],
                    limit=1,
                )
            ),
            "lang": request.env.lang,
        }

    def _render_member_page(self, member, errors=None, saved=False, form=None):
        values = self._prepare_member_page_values(member)
        partner = values["partner"]
        values.update(
            errors=errors or {},
            saved=saved,
            form=form
            or {
                "phone": partner.phone or "",
                "birthday": fields.Date.to_string(partner.wechat_birthday) if partner.wechat_birthday else "",
                "gender": partner.wechat_gender or "",
                "city": partner.city or "",
                "consent": partner.wechat_consent,
            },
        )
        return request.render("wechat_member.member_page", values)

    def _notify_me_values(self, member):
        """The "Notify me" block (see ``wechat.notice.template._member_page_notify_values``), or None."""
        in_wechat = self._in_wechat()
        return request.env["wechat.notice.template"]._member_page_notify_values(
            member, request.httprequest.url, in_wechat
        )

    @http.route("/wechat/member/<int:account_id>/profile", type="http", auth="public", methods=["POST"], sitemap=False)
    def member_profile(self, account_id, **post):
        account = self._account(account_id)
        self._set_lang()
        member = self._current_member(account)
        if not member:
            return self._login_redirect(account, f"/wechat/member/{account.id}")
        vals, errors = self._validate_profile(post)
        if errors:
            form = {k: post.get(k, "") for k in ("phone", "birthday", "gender", "city")}
            form["consent"] = bool(post.get("consent"))
            return self._render_member_page(member, errors=errors, form=form)
        member.partner_id.sudo().write(vals)
        return request.redirect(f"/wechat/member/{account.id}?saved=1")

    def _validate_profile(self, post):
        errors, vals = {}, {}
        if not post.get("consent"):
            errors["consent"] = _("Please agree so that we can keep your details.")
        phone = (post.get("phone") or "").strip()
        if phone and not PHONE_RE.match(phone):
            errors["phone"] = _("Please enter a valid phone number.")
        birthday = (post.get("birthday") or "").strip()
        if birthday:
            try:
                parsed = date.fromisoformat(birthday)
            except ValueError:
                parsed = None
            if not parsed or parsed > fields.Date.today() or parsed.year < 1900:
                errors["birthday"] = _("Please enter a valid birthday.")
            else:
                vals["wechat_birthday"] = parsed
        gender = post.get("gender") or False
        if gender and gender not in ("male", "female", "other"):
            errors["gender"] = _("Please choose a gender from the list.")
        city = (post.get("city") or "").strip()
        if len(city) > 64:
            errors["city"] = _("The city name is too long.")
        if not errors:
            vals.update(phone=phone or False, wechat_gender=gender, city=city or False, wechat_consent=True)
            vals["wechat_consent_date"] = fields.Datetime.now()
        return vals, errors
