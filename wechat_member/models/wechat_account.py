import contextlib
import hashlib
import json
import logging
import secrets
import time
from datetime import timedelta
from urllib.parse import urlencode

import psycopg2.errors
import requests
from wechatpayv3.utils import load_private_key, load_public_key

from odoo import _, api, fields, models, sql_db
from odoo.exceptions import UserError, ValidationError
from odoo.sql_db import TestCursor
from odoo.tools import SQL

from ..tools.wechat_api import NETWORK_ERROR, TOKEN_ERRORS, WeChatApi, WeChatError

_logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.weixin.qq.com"
DEFAULT_OAUTH_URL = "https://open.weixin.qq.com"
DEFAULT_PAY_URL = "https://api.mch.weixin.qq.com"
# WeChat Pay's access point in another city (跨城冗灾): the same API, tried once after a network error.
DEFAULT_PAY_BACKUP_URL = "https://api2.mch.weixin.qq.com"
JSSDK_URL = "https://res.wx.qq.com/open/js/jweixin-1.6.0.js"
# A stored token is used until this many seconds before its expiry.
TOKEN_MARGIN = 60
MANAGER_GROUPS = "wechat_member.group_wechat_manager"


class WeChatAccount(models.Model):
    _name = "wechat.account"
    _description = "WeChat Service Account"
    _inherit = ["mail.thread"]
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    appid = fields.Char("AppID", required=True, tracking=True, copy=False)
    appsecret = fields.Char("AppSecret", groups=MANAGER_GROUPS, copy=False, exportable=False)
    callback_token = fields.Char(
        "Callback Token",
        groups=MANAGER_GROUPS,
        copy=False,
        exportable=False,
        default=lambda self: secrets.token_hex(16),
        help="The Token entered in the WeChat admin console (服务器配置 / Token).",
    )
    encoding_aes_key = fields.Char(
        "EncodingAESKey",
        groups=MANAGER_GROUPS,
        copy=False,
        exportable=False,
        help="43 characters, from the WeChat admin console; needed for the compatible and safe modes.",
    )
    encrypt_mode = fields.Selection(
        [("plain", "Plain text (明文)"), ("compatible", "Compatible (兼容)"), ("safe", "Safe (安全)")],
        string="Message Encryption",
        default="plain",
        required=True,
    )
    certified = fields.Boolean(
        "Certified Service Account", default=True, help="Template messages need a certified service account."
    )
    # WeChat Pay (v2, scan-to-pay)
    pay_mch_id = fields.Char("WeChat Pay Merchant ID", groups=MANAGER_GROUPS, copy=False, exportable=False)
    pay_api_key = fields.Char("WeChat Pay API Key", groups=MANAGER_GROUPS, copy=False, exportable=False)
    pay_cert_pem = fields.Binary(
        "Merchant Certificate (PEM)", groups=MANAGER_GROUPS, attachment=True, copy=False, exportable=False
    )
    pay_key_pem = fields.Binary(
        "Merchant Certificate Key (PEM)", groups=MANAGER_GROUPS, attachment=True, copy=False, exportable=False
    )
    # WeChat Pay APIv3 (payment methods set to APIv3)
    pay_v3_serial_no = fields.Char(
        "Merchant Certificate Serial No.",
        groups=MANAGER_GROUPS,
        copy=False,
        exportable=False,
        help="APIv3: the serial number of the merchant API certificate (商户API证书序列号) whose key signs the "
        "requests.",
    )
    pay_v3_private_key = fields.Text(
        "Merchant Private Key (PEM)",
        groups=MANAGER_GROUPS,
        copy=False,
        exportable=False,
        help="APIv3: the private key of the merchant API certificate (apiclient_key.pem).",
    )
    pay_v3_api_key = fields.Char(
        "APIv3 Key",
        groups=MANAGER_GROUPS,
        copy=False,
        exportable=False,
        help="APIv3: the 32-character APIv3 key (APIv3密钥) that decrypts the platform certificates.",
    )
    pay_v3_verify_mode = fields.Selection(
        [("public_key", "WeChat Pay public key (微信支付公钥)"), ("certificate", "Platform certificates (平台证书)")],
        string="Answers Verified With",
        default="public_key",
        required=True,
        groups=MANAGER_GROUPS,
        help="APIv3: merchants onboarded since 2024 get a WeChat Pay public key; older ones verify WeChat Pay's "
        "answers with the platform certificates, downloaded with the APIv3 key.",
    )
    pay_v3_public_key = fields.Text("WeChat Pay Public Key (PEM)", groups=MANAGER_GROUPS, copy=False, exportable=False)
    pay_v3_public_key_id = fields.Char(
        "WeChat Pay Public Key ID",
        groups=MANAGER_GROUPS,
        copy=False,
        exportable=False,
        help="APIv3: the id of the WeChat Pay public key, PUB_KEY_ID_...",
    )
    pay_partner_mode = fields.Boolean(
        "Service Provider Mode (服务商)",
        groups=MANAGER_GROUPS,
        help="APIv3: this shop is a sub-merchant onboarded through a service provider: requests are signed with "
        "the provider's credentials and name the sub-merchant. The AppID of this account is the sub_appid, so "
        "payers are identified by their openid in this account.",
    )
    pay_sp_mchid = fields.Char(
        "Service Provider Merchant ID", groups=MANAGER_GROUPS, copy=False, exportable=False, help="sp_mchid"
    )
    pay_sp_appid = fields.Char(
        "Service Provider AppID", groups=MANAGER_GROUPS, copy=False, exportable=False, help="sp_appid"
    )
    pay_sub_mchid = fields.Char(
        "Sub-merchant ID", groups=MANAGER_GROUPS, copy=False, exportable=False, help="sub_mchid"
    )
    # Endpoints
    sandbox = fields.Boolean(
        help="Talk to the local fake WeChat platform instead of WeChat (demo and tests; nothing leaves "
        "the machine).",
        tracking=True,
    )
    sandbox_url = fields.Char("Sandbox URL", default="http://127.0.0.1:8079")
    api_base_url = fields.Char("API URL", default=DEFAULT_API_URL, required=True)
    oauth_base_url = fields.Char("OAuth URL", default=DEFAULT_OAUTH_URL, required=True)
    pay_base_url = fields.Char("WeChat Pay URL", default=DEFAULT_PAY_URL, required=True)
    pay_backup_url = fields.Char(
        "WeChat Pay Backup URL",
        default=DEFAULT_PAY_BACKUP_URL,
        help="Where a WeChat Pay request is sent again once when the WeChat Pay URL cannot be reached (network "
        "error or timeout): WeChat Pay's access point in another city. Empty: no second try. In sandbox mode, "
        "only a URL other than WeChat's is used (the sandbox never talks to WeChat).",
    )
    timeout = fields.Integer("Timeout (s)", default=10, required=True)
    # Token kept in the database, one per account (never per worker in memory).
    access_token = fields.Char(groups="base.group_system", copy=False, readonly=True, exportable=False)
    token_expires_at = fields.Datetime(groups="base.group_system", copy=False, readonly=True)
    # JS-SDK ticket (``ticket/getticket?type=jsapi``), kept and refreshed like the token: it signs member pages.
    jsapi_ticket = fields.Char("JS-SDK Ticket", groups="base.group_system", copy=False, readonly=True, exportable=False)
    jsapi_ticket_expires_at = fields.Datetime(
        "JS-SDK Ticket Expiry", groups="base.group_system", copy=False, readonly=True, exportable=False
    )
    # Behaviour
    welcome_message = fields.Text(
        translate=True,
        default=lambda self: _("Welcome! You are now a member. Reply 积分 / points to see your points."),
        help="Passive reply sent when someone follows the account.",
    )
    default_reply = fields.Text(
        translate=True,
        default=lambda self: _('Send "积分" (points), "优惠券" (coupons), "消费" (purchases) or "优惠" (offers).'),
        help="Reply to a message no rule matches. Empty: no reply.",
    )
    pos_thanks = fields.Boolean(
        "Thank WeChat Payers",
        help='After a purchase paid with WeChat Pay at the till, send the payer a "POS thanks" notice (amount, '
        "store, points) through the notice router: by template message when one is mapped (a payment opens no "
        "customer-service window since 2023). The thanks also show on the receipt, the customer display and the "
        "member page.",
    )
    pos_thanks_message = fields.Text(
        "Thank-You Message",
        translate=True,
        default=lambda self: _("Thank you for your purchase!"),
        help="First line of the message after a WeChat Pay purchase; the amount, the store and the points follow.",
    )
    preorder_pay_minutes = fields.Integer(
        "Pay Bookings Within (min)",
        default=15,
        help="A booking made in WeChat waits this long for its payment, then expires and frees its place.",
    )
    preorder_cancel_hours = fields.Integer(
        "Cancel Bookings Online Until (h)",
        default=2,
        help="Members may cancel a paid booking in WeChat (refunded in full) up to this many hours before its "
        "time; later, the store decides.",
    )
    cs_reply_delay = fields.Integer(
        "Customer-Service Follow-Up (min)",
        default=30,
        help="A member's message with no staff reply after this many minutes makes an activity for the store "
        "manager.",
    )
    webhook_url = fields.Char("Callback URL", compute="_compute_webhook_url")
    member_ids = fields.One2many("wechat.member", "account_id")
    member_count = fields.Integer(compute="_compute_member_count")
    follower_count = fields.Integer(compute="_compute_member_count")
    channel_count = fields.Integer(compute="_compute_channel_count")
    given_up_event_count = fields.Integer(
        "Failed Events",
        compute="_compute_given_up_event_count",
        groups="wechat_member.group_wechat_manager",
        help="Events whose processing still failed after the retry cron's last attempt.",
    )
    menu_button_ids = fields.One2many("wechat.menu.button", "account_id", string="Custom Menu")
    budget_per_week = fields.Integer(
        "Marketing Messages per Week",
        default=2,
        help="Contact budget: at most this many marketing messages (mass sends, offers, coupon notices) per "
        "member and week, whoever sends them. 0: no limit.",
    )
    notice_template_ids = fields.One2many("wechat.notice.template", "account_id", string="Notice Templates")
    digest_hour = fields.Integer(
        "Digest Hour",
        default=10,
        help="Hour of the day (the company's time zone) at which the daily digest of marketing notices is sent.",
    )
    digest_message = fields.Text(
        "Digest Message",
        translate=True,
        default=lambda self: _(
            "News for members today: gifts and coupons are waiting for you. Open your member " "page to see them."
        ),
        help="The daily digest's text; a click-tracked link to the member page follows.",
    )
    digest_last_date = fields.Date(
        "Last Digest", readonly=True, copy=False, help="The day of the last daily digest (one a day)."
    )
    digest_holdout_percent = fields.Integer(
        "Digest Holdout (%)", default=0, help="Share of the digest's members not sent, to measure its real uplift."
    )
    preview_openids = fields.Char("Preview OpenIDs", help="Comma-separated openids that receive campaign previews.")
    # Activity periods live on the company (shared by its accounts).
    wechat_new_days = fields.Integer(related="company_id.wechat_new_days", readonly=False)
    wechat_active_days = fields.Integer(related="company_id.wechat_active_days", readonly=False)
    wechat_lost_days = fields.Integer(related="company_id.wechat_lost_days", readonly=False)

    _sql_constraints = [
        ("appid_uniq", "UNIQUE(appid)", "This AppID is already used by another WeChat account."),
        ("timeout_positive", "CHECK(timeout > 0)", "The timeout must be positive."),
        (
            "preorder_pay_minutes_range",
            "CHECK(preorder_pay_minutes >= 5 AND preorder_pay_minutes <= 110)",
            "Bookings are paid within 5 to 110 minutes (WeChat keeps a payment open for 2 hours).",
        ),
        ("preorder_cancel_hours_positive", "CHECK(preorder_cancel_hours >= 0)", "The cancel delay cannot be negative."),
        ("digest_hour_range", "CHECK(digest_hour >= 0 AND digest_hour <= 23)", "The digest hour is 0 to 23."),
        (
            "digest_holdout_range",
            "CHECK(digest_holdout_percent >= 0 AND digest_holdout_percent <= 50)",
            "The digest holdout is between 0 and 50 %.",
        ),
    ]

    def _local_now(self, now=None):
        return self.company_id._wechat_now(now)

    def _is_digest_hour(self, now=None):
        """True during the account's digest hour, in the company's time zone."""
        self.ensure_one()
        return self._local_now(now).hour == self.digest_hour

    def _digest_today(self, now=None):
        return self.company_id._wechat_today(now)

    def _is_digest_due(self, now=None):
        """The day's digest is due: the digest hour has come (or passed: a missed hour catches up), once a day."""
        self.ensure_one()
        local = self._local_now(now)
        return local.hour >= self.digest_hour and (not self.digest_last_date or self.digest_last_date < local.date())

    def _manager_user(self):
        """Who gets this account's to-dos: a WeChat Marketing manager of its company, else the administrator."""
        self.ensure_one()
        group = self.env.ref("wechat_member.group_wechat_manager")
        users = group.sudo().users.filtered(lambda u: self.company_id in u.company_ids and not u.share)
        return users[:1] or self.env.ref("base.user_admin")

    @api.depends("sandbox")
    def _compute_webhook_url(self):
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        for account in self:
            account.webhook_url = f"{base}/wechat/callback/{account.id}" if account.id else False

    def _compute_member_count(self):
        counts = dict(
            self.env["wechat.member"]._read_group([("account_id", "in", self.ids)], ["account_id"], ["__count"])
        )
        followers = dict(
            self.env["wechat.member"]._read_group(
                [("account_id", "in", self.ids), ("state", "=", "follower")], ["account_id"], ["__count"]
            )
        )
        for account in self:
            account.member_count = counts.get(account, 0)
            account.follower_count = followers.get(account, 0)

    def _compute_channel_count(self):
        counts = dict(
            self.env["wechat.qr.channel"]._read_group([("account_id", "in", self.ids)], ["account_id"], ["__count"])
        )
        for account in self:
            account.channel_count = counts.get(account, 0)

    def _compute_given_up_event_count(self):
        counts = dict(
            self.env["wechat.event"]._read_group(
                [("account_id", "in", self.ids), ("state", "=", "given_up")], ["account_id"], ["__count"]
            )
        )
        for account in self:
            account.given_up_event_count = counts.get(account, 0)

    @api.constrains("encrypt_mode", "encoding_aes_key")
    def _check_aes_key(self):
        for account in self.sudo():
            if account.encrypt_mode != "plain" and len(account.encoding_aes_key or "") != 43:
                raise ValidationError(
                    _(
                        "The EncodingAESKey of %(account)s must have 43 characters for the %(mode)s mode.",
                        account=account.name,
                        mode=dict(account._fields["encrypt_mode"]._description_selection(self.env))[
                            account.encrypt_mode
                        ],
                    )
                )

    @api.constrains("callback_token")
    def _check_callback_token(self):
        for account in self.sudo():
            token = account.callback_token or ""
            if not token.strip() or not token.isascii() or not token.isalnum():
                raise ValidationError(
                    _(
                        "The callback token of %(account)s must be letters and digits, as set in the WeChat admin "
                        "console.",
                        account=account.name,
                    )
                )

    @api.constrains("sandbox", "sandbox_url", "api_base_url", "oauth_base_url", "pay_base_url", "pay_backup_url")
    def _check_urls(self):
        for account in self:
            urls = [account.api_base_url, account.oauth_base_url, account.pay_base_url, account.pay_backup_url]
            if account.sandbox:
                urls.append(account.sandbox_url)
            for url in urls:
                if url and not url.startswith(("http://", "https://")):
                    raise ValidationError(_("%(url)s is not an http(s) URL.", url=url))

    @api.constrains("pay_v3_private_key", "pay_v3_public_key", "pay_v3_public_key_id", "pay_v3_verify_mode")
    def _check_pay_v3_keys(self):
        for account in self.sudo():
            if account.pay_v3_private_key:
                try:
                    load_private_key(account.pay_v3_private_key)
                except Exception:  # noqa: BLE001 - wechatpayv3 raises bare Exception
                    raise ValidationError(
                        _(
                            "The merchant private key of %(account)s is not a PEM private key (apiclient_key.pem).",
                            account=account.name,
                        )
                    ) from None
            if account.pay_v3_public_key:
                try:
                    load_public_key(account.pay_v3_public_key)
                except Exception:  # noqa: BLE001 - wechatpayv3 raises bare Exception
                    raise ValidationError(
                        _("The WeChat Pay public key of %(account)s is not a PEM public key.", account=account.name)
                    ) from None
            if account.pay_v3_public_key_id and not account.pay_v3_public_key_id.startswith("PUB_KEY_ID_"):
                raise ValidationError(
                    _(
                        "The WeChat Pay public key ID of %(account)s must start with PUB_KEY_ID_.",
                        account=account.name,
                    )
                )
        self.env["pos.payment.method"].sudo().search(
            [("wechat_account_id", "in", self.ids), ("wechat_pay_api_version", "=", "v3")]
        )._check_wechat_pay_api_version()

    @api.constrains(
        "pay_partner_mode",
        "pay_sp_mchid",
        "pay_sp_appid",
        "pay_sub_mchid",
        "pay_mch_id",
        "pay_v3_serial_no",
        "pay_v3_api_key",
    )
    def _check_pay_partner(self):
        for account in self.sudo():
            if account.pay_partner_mode and not (
                account.pay_sp_mchid and account.pay_sp_appid and account.pay_sub_mchid
            ):
                raise ValidationError(
                    _(
                        "In service provider mode, %(account)s needs the service provider's merchant ID and AppID "
                        "and the sub-merchant ID.",
                        account=account.name,
                    )
                )
        self.env["pos.payment.method"].sudo().search(
            [("wechat_account_id", "in", self.ids), ("use_payment_terminal", "=", "wechat_pay")]
        )._check_wechat_pay_api_version()

    def _pay_v3_missing(self):
        """The labels of the APIv3 settings this account lacks (empty when it can use APIv3)."""
        self.ensure_one()
        account = self.sudo()
        required = ["pay_v3_serial_no", "pay_v3_private_key", "pay_v3_api_key"]
        required.append("pay_sp_mchid" if account.pay_partner_mode else "pay_mch_id")
        if account.pay_v3_verify_mode == "public_key":
            required += ["pay_v3_public_key", "pay_v3_public_key_id"]
        return [account._fields[name].get_description(self.env)["string"] for name in required if not account[name]]

    def write(self, vals):
        if {"appid", "appsecret", "sandbox", "sandbox_url", "api_base_url"} & set(vals):
            # Another platform or credentials: the stored token and JS-SDK ticket are not valid there.
            vals = dict(
                vals, access_token=False, token_expires_at=False, jsapi_ticket=False, jsapi_ticket_expires_at=False
            )
        return super().write(vals)

    # ------------------------------------------------------------------ endpoints
    def _api_base_url(self):
        self.ensure_one()
        return (self.sandbox_url if self.sandbox else self.api_base_url).rstrip("/")

    def _oauth_base_url(self):
        self.ensure_one()
        return (self.sandbox_url if self.sandbox else self.oauth_base_url).rstrip("/")

    def _pay_base_url(self):
        self.ensure_one()
        return (self.sandbox_url if self.sandbox else self.pay_base_url).rstrip("/")

    def _pay_backup_url(self):
        """Where a WeChat Pay request goes once more after a network error, or ``False``.

        In sandbox mode, only a URL set by hand (not WeChat's default): the
        sandbox never talks to WeChat.
        """
        self.ensure_one()
        url = (self.pay_backup_url or "").strip().rstrip("/")
        if self.sandbox and url == DEFAULT_PAY_BACKUP_URL:
            return False
        return url or False

    def _api(self, token=None):
        """The client of this account (see :class:`WeChatApi`); ``token``: use it, never refresh it."""
        return WeChatApi(self.sudo(), token=token)

    # ------------------------------------------------------------------ token manager
    @contextlib.contextmanager
    def _token_cursor(self, own=True):
        """A cursor of its own that commits the token (or ticket) whatever the caller does.

        A token fetched from WeChat invalidates the previous one, and tickets
        are counted: they must be saved even if the caller's transaction
        rolls back.  When this
        account is not committed yet (tests in one transaction), or when
        ``own`` is False, the caller's cursor is used instead.
        """
        if not own or isinstance(self.env.cr, TestCursor):
            yield self.env.cr, False
            return
        cr = sql_db.db_connect(self.env.cr.dbname).cursor()
        try:
            cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            # Never wait for ever on a row the caller's own transaction may hold.
            cr.execute("SET LOCAL lock_timeout = '5s'")
            cr.execute("SELECT 1 FROM wechat_account WHERE id = %s", [self.id])
            if not cr.rowcount:
                cr.rollback()
                yield self.env.cr, False
                return
            yield cr, True
            cr.commit()  # pylint: disable=invalid-commit  # its own cursor, not the request's
        finally:
            cr.close()

    def _get_access_token(self, stale=None):
        """Return a valid access token, refreshing it under a row lock.

        ``stale``: a token WeChat just rejected; a new one is fetched unless
        another worker already replaced it.  Fifty workers asking at once
        make one call to WeChat: the first takes the row lock and fetches,
        the others wait on the lock and then read the fresh token.
        """
        self.ensure_one()

        def fetch(stored):
            data = self._fetch_stable_token(force_refresh=bool(stale) and stale == stored)
            return data["access_token"], data.get("expires_in", 7200)

        return self._get_stored_credential("access_token", "token_expires_at", fetch, stale=stale)

    def _get_jsapi_ticket(self):
        """Return a valid JS-SDK ticket (``ticket/getticket?type=jsapi``), stored and refreshed like the token.

        The access token is taken first, outside the ticket's lock: the token
        manager locks the same row.  The ticket is fetched with that token
        and no retry inside the lock; a token WeChat rejects is refreshed once
        outside it and the ticket asked for again.
        """
        self.ensure_one()
        token = self._get_access_token()

        def fetch(stored):
            data = self._api(token=token).get("ticket/getticket", type="jsapi")
            if not data.get("ticket"):
                raise WeChatError(int(data.get("errcode") or -1), data.get("errmsg", ""), self.env)
            return data["ticket"], data.get("expires_in", 7200)

        try:
            return self._get_stored_credential("jsapi_ticket", "jsapi_ticket_expires_at", fetch)
        except WeChatError as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
            token = self._get_access_token(stale=token)
            return self._get_stored_credential("jsapi_ticket", "jsapi_ticket_expires_at", fetch)

    def _get_stored_credential(self, field, expiry_field, fetch, stale=None):
        """The value of ``field`` (a token or ticket kept on the account), refreshed under a row lock.

        ``fetch(stored)`` asks WeChat for a new one and returns ``(value,
        expires_in)``; it is called only by the worker holding the lock when
        the stored value is missing, about to expire, or ``stale``.  The lock
        is FOR NO KEY UPDATE: rows inserted by the caller that reference the
        account (KEY SHARE locks) do not block it.
        """
        try:
            return self._refresh_stored(field, expiry_field, fetch, stale, own=True)
        except psycopg2.errors.LockNotAvailable:
            # The caller's own transaction holds the account row (it wrote it):
            # refreshing in another transaction would wait for ever.
            _logger.info("WeChat account %s: %s refreshed in the caller's transaction", self.id, field)
            return self._refresh_stored(field, expiry_field, fetch, stale, own=False)

    def _refresh_stored(self, field, expiry_field, fetch, stale, own):
        with self._token_cursor(own=own) as (cr, separate):
            cr.execute(
                SQL(
                    "SELECT %s, %s FROM wechat_account WHERE id = %s FOR NO KEY UPDATE",
                    SQL.identifier(field),
                    SQL.identifier(expiry_field),
                    self.id,
                )
            )
            value, expires_at = cr.fetchone()
            now = fields.Datetime.now()
            if value and value != stale and expires_at and expires_at > now + timedelta(seconds=TOKEN_MARGIN):
                return value
            value, expires_in = fetch(value)
            expires_at = now + timedelta(seconds=int(expires_in))
            cr.execute(
                SQL(
                    "UPDATE wechat_account SET %s = %s, %s = %s WHERE id = %s",
                    SQL.identifier(field),
                    value,
                    SQL.identifier(expiry_field),
                    expires_at,
                    self.id,
                )
            )
            if not separate:
                self.invalidate_recordset([field, expiry_field])
            return value

    def _jsapi_config(self, url):
        """The signed ``wx.config`` of a page at ``url``: ``{appId, timestamp, nonceStr, signature}``.

        WeChat's JS-SDK signature (附录1): sha1 of
        ``jsapi_ticket=T&noncestr=N&timestamp=TS&url=URL``, keys in that
        (ASCII) order, raw values, the URL without its ``#fragment``.
        """
        self.ensure_one()
        ticket = self._get_jsapi_ticket()
        nonce = secrets.token_hex(8)
        timestamp = int(time.time())
        page_url = (url or "").split("#", 1)[0]
        plain = f"jsapi_ticket={ticket}&noncestr={nonce}&timestamp={timestamp}&url={page_url}"
        return {
            "appId": self.appid,
            "timestamp": timestamp,
            "nonceStr": nonce,
            "signature": hashlib.sha1(plain.encode()).hexdigest(),
        }

    def _jssdk_script_url(self):
        """Where the page loads the JS-SDK from: WeChat's, or the fake platform's stand-in in sandbox mode."""
        self.ensure_one()
        if self.sandbox:
            return f"{self.sandbox_url.rstrip('/')}/open/js/jweixin-1.6.0.js"
        return JSSDK_URL

    def _jssdk_page_values(self, url, member=None, js_apis=(), open_tags=()):
        """What a page at ``url`` needs to use the JS-SDK: ``config_json`` (its signed ``wx.config``, with
        ``js_apis`` and ``open_tags``), ``script_url`` and ``fake_openid`` (in sandbox mode the fake's stand-in
        is told who the visitor ``member`` is; real WeChat knows it).  None when WeChat gives no jsapi_ticket."""
        self.ensure_one()
        try:
            config = self._jsapi_config(url)
        except WeChatError as exc:
            _logger.warning("WeChat account %s: no JS-SDK ticket for a page (%s)", self.id, exc.errcode)
            return None
        config.update(jsApiList=list(js_apis), openTagList=list(open_tags))
        return {
            "config_json": json.dumps(config),
            "script_url": self._jssdk_script_url(),
            "fake_openid": member.openid if (self.sandbox and member) else False,
        }

    def _fetch_stable_token(self, force_refresh=False):
        """POST ``/cgi-bin/stable_token`` (JSON). Raises :class:`WeChatError`, writes nothing."""
        account = self.sudo()
        url = account._api_base_url() + "/cgi-bin/stable_token"
        payload = {"grant_type": "client_credential", "appid": account.appid, "secret": account.appsecret or ""}
        if force_refresh:
            payload["force_refresh"] = True
        try:
            resp = requests.post(url, json=payload, timeout=account.timeout)
            resp.raise_for_status()
            data = resp.json()
        except (requests.RequestException, ValueError) as exc:
            _logger.warning("WeChat account %s: stable_token failed: %s", account.id, type(exc).__name__)
            raise WeChatError(NETWORK_ERROR, type(exc).__name__, self.env) from exc
        if data.get("errcode") or not data.get("access_token"):
            _logger.warning("WeChat account %s: stable_token refused: %s", account.id, data.get("errcode"))
            raise WeChatError(int(data.get("errcode") or -1), data.get("errmsg", ""), self.env)
        return data

    # ------------------------------------------------------------------ callback crypto
    def _crypto(self):
        from wechatpy.crypto import WeChatCrypto

        account = self.sudo()
        return WeChatCrypto(account.callback_token, account.encoding_aes_key, account.appid)

    def _check_callback_signature(self, signature, timestamp, nonce, max_age=300):
        """Plain signature of a callback (GET verification and POST). Stale timestamps are refused."""
        self.ensure_one()
        token = (self.sudo().callback_token or "").strip()
        values = (signature, timestamp, nonce)
        if not token or not all(isinstance(v, str) and v and v.isascii() for v in values):
            return False  # no token configured, or a missing or non-ASCII value: never a valid signature
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > max_age:
            return False
        expected = hashlib.sha1("".join(sorted([token, str(timestamp), str(nonce)])).encode()).hexdigest()
        return secrets.compare_digest(expected, str(signature or ""))

    # ------------------------------------------------------------------ actions
    def action_test_connection(self):
        self.ensure_one()
        token = self._get_access_token()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": _(
                    "Connected to WeChat: access token valid until %(date)s.", date=self.sudo().token_expires_at
                ),
                "sticky": False,
            }
            if token
            else {},
        }

    def action_push_menu(self):
        """Push the custom menu (``menu/create``)."""
        for account in self:
            buttons = account.menu_button_ids.filtered(lambda b: not b.parent_id)
            if not buttons:
                raise UserError(_("The custom menu of %(account)s is empty.", account=account.name))
            account._api().menu_create([b._to_wechat() for b in buttons])
        return True

    def action_import_followers(self):
        """Make every current follower a member (``user/get``, 10 000 openids a page).

        Contacts are created 1 000 at a time and members inserted in SQL, so a
        service account with a large following is imported in one go; the
        profile details follow through the user-info cron.
        """
        self.ensure_one()
        openids = self._api().followers()
        created = self.env["wechat.member"]._bulk_create(self, openids)
        self.env.ref("wechat_member.ir_cron_wechat_fetch_user_info")._trigger()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": _("%(count)s followers, %(new)s new members.", count=len(openids), new=created),
            },
        }

    def action_view_members(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("wechat_member.wechat_member_action")
        action["domain"] = [("account_id", "=", self.id)]
        action["context"] = {"default_account_id": self.id}
        return action

    def action_view_channels(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("wechat_member.wechat_qr_channel_action")
        action["domain"] = [("account_id", "=", self.id)]
        action["context"] = {"default_account_id": self.id}
        return action

    def action_view_given_up_events(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("wechat_member.wechat_event_action_failed")
        action["domain"] = [("account_id", "=", self.id), ("state", "=", "given_up")]
        return action

    # ------------------------------------------------------------------ OAuth (member pages)
    def _member_page_url(self):
        self.ensure_one()
        return f"{self.get_base_url()}/wechat/member/{self.id}"

    def _oauth_authorize_url(self, redirect_uri, state, scope="snsapi_base"):
        self.ensure_one()
        query = urlencode(
            {"appid": self.appid, "redirect_uri": redirect_uri, "response_type": "code", "scope": scope, "state": state}
        )
        return f"{self._oauth_base_url()}/connect/oauth2/authorize?{query}#wechat_redirect"

    def _oauth_openid(self, code):
        """Exchange an OAuth ``code`` for the visitor's openid (``sns/oauth2/access_token``)."""
        account = self.sudo()
        params = {
            "appid": account.appid,
            "secret": account.appsecret or "",
            "code": code,
            "grant_type": "authorization_code",
        }
        try:
            resp = requests.get(
                account._api_base_url() + "/sns/oauth2/access_token", params=params, timeout=account.timeout
            )
            resp.raise_for_status()
            data = resp.json()
        except (requests.RequestException, ValueError) as exc:
            raise WeChatError(NETWORK_ERROR, type(exc).__name__, self.env) from exc
        if data.get("errcode") or not data.get("openid"):
            raise WeChatError(int(data.get("errcode") or -1), data.get("errmsg", ""), self.env)
        return data["openid"], data.get("unionid")
