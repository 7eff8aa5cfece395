"""WeChat Pay APIv3 scan-to-pay (付款码支付) client.

:class:`WeChatPayV3Client` is the client of one ``wechat.account`` in APIv3,
built on the ``wechatpayv3`` package (``WeChatPay`` of type ``CODEPAY``, its
``pay``, ``query``, ``codepay_reverse``, ``refund`` and ``query_refund``): it has
the methods and answers of the v2
:class:`~odoo.addons.wechat_member.tools.wechat_pay_api.WeChatPayClient`
(v3 JSON mapped to the v2 keys and ``err_code`` names), so the payment models
do not know which API a payment method uses.

``wechatpayv3`` talks to ``https://api.mch.weixin.qq.com`` and, in platform
certificate mode, downloads ``/v3/certificates`` while it is built; here its
``Core`` is built for the account's WeChat Pay URL (the sandbox talks to the
fake platform) before any request, and requests go through a ``requests``
session of our own (the account's timeout, no proxy from the environment).
Every answer is signature-checked (the WeChat Pay public key and its id, or
the platform certificates); an unverifiable answer, a network error or an
HTTP error without a verified body is *unknown* (the caller queries, it never
charges or refunds again with a new number).
"""

import datetime
import gzip
import hashlib
import json
import logging
import threading
import time

import requests
from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3 import __version__ as wechatpayv3_version
from wechatpayv3.core import Core
from wechatpayv3.type import RequestType
from wechatpayv3.utils import build_authorization

from odoo.tools import consteq
from odoo.tools.translate import LazyTranslate

from .wechat_pay_api import (
    ERROR,
    OK,
    REFUND_QUERY_ERRORS,
    UNKNOWN,
    WeChatPayResult,
    pay_message,
    refund_message,
)
from .wechat_pay_bill import TradeBillError, parse_trade_bill

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

# v3 error codes -> the v2 ``err_code`` names the payment models know.
V3_CODES = {
    "SYSTEM_ERROR": "SYSTEMERROR",
    "BANK_ERROR": "BANKERROR",
    "NOT_ENOUGH": "NOTENOUGH",
    "AUTH_CODE_ERROR": "AUTH_CODE_INVALID",
    "AUTHCODE_EXPIRE": "AUTHCODEEXPIRE",
    "AUTH_CODE_EXPIRE": "AUTHCODEEXPIRE",
    "ORDER_NOT_EXIST": "ORDERNOTEXIST",
    "ORDER_PAID": "ORDERPAID",
    "ORDER_CLOSED": "ORDERCLOSED",
    "ORDER_REVERSED": "ORDERREVERSED",
    "SIGN_ERROR": "SIGNERROR",
    "NO_AUTH": "NOAUTH",
    "NOT_SUPPORT_CARD": "NOTSUPORTCARD",
}
# v3 refund status -> the v2 ``refund_status`` names.
REFUND_STATUS = {"ABNORMAL": "CHANGE", "CLOSED": "REFUNDCLOSE"}
BEIJING = datetime.timezone(datetime.timedelta(hours=8))
# Platform certificates downloaded per (WeChat Pay URL, mchid), kept this many seconds.
CERTIFICATE_CACHE_SECONDS = 12 * 3600
_certificate_cache = {}
_certificate_lock = threading.Lock()

V3_MESSAGES = {
    "CONFIG": _lt(
        "The WeChat Pay APIv3 settings of the WeChat account are incomplete or invalid (%(message)s). "
        "Ask a manager to check the merchant key, certificate serial number and WeChat Pay public key."
    ),
    "SIGNATURE": _lt(
        "WeChat Pay's answer could not be verified (bad or missing signature): it was ignored and the payment "
        "is checked again."
    ),
}


def v3_message(env, code, detail=""):
    """The cashier's words for a v3-only outcome (``CONFIG``, ``SIGNATURE``), else the v2 ones."""
    known = V3_MESSAGES.get(code)
    if known:
        return known._translate(env.lang or "en_US") % {"message": detail or code}
    return pay_message(env, code, detail)


class _Answer:
    """What one v3 request answered: HTTP status, body and whether its signature is WeChat Pay's."""

    __slots__ = ("status", "text", "verified")

    def __init__(self, status, text, verified):
        self.status = status
        self.text = text
        self.verified = verified

    def json(self):
        try:
            data = json.loads(self.text) if self.text else {}
        except ValueError:
            return None
        return data if isinstance(data, dict) else None


class _Core(Core):
    """``wechatpayv3``'s ``Core`` on the account's WeChat Pay URL, with our own session.

    ``Core.__init__`` hardcodes the real WeChat Pay host and, without a public
    key, downloads the platform certificates at once: the download is deferred
    until the gateway is set.
    """

    def __init__(self, gateway, timeout, **kwargs):
        self._deferred = True
        self._session = requests.Session()
        self._session.trust_env = False  # no proxy or netrc from the environment
        super().__init__(timeout=timeout, **kwargs)
        self._gate_way = gateway.rstrip("/")
        self._deferred = False
        if not self._public_key:
            self._init_certificates()

    def _init_certificates(self):
        if self._deferred:
            return
        key = (self._gate_way, self._mchid)
        with _certificate_lock:
            cached = _certificate_cache.get(key)
        if cached and cached[0] > time.monotonic():
            self._certificates[:] = cached[1]
            return
        self._update_certificates()
        if not self._certificates:
            raise ValueError("no WeChat Pay platform certificate could be downloaded")

    def _update_certificates(self):
        super()._update_certificates()
        if not self._certificates:
            return
        with _certificate_lock:
            _certificate_cache[(self._gate_way, self._mchid)] = (
                time.monotonic() + CERTIFICATE_CACHE_SECONDS,
                list(self._certificates),
            )

    def _verify_signature(self, headers, body):
        serial = headers.get("Wechatpay-Serial") or ""
        if not headers.get("Wechatpay-Signature") or not serial:
            return False
        if self._public_key_id and serial != self._public_key_id:
            # Public-key mode: only WeChat Pay's public key signs (never download certificates for a stranger).
            return False
        try:
            return super()._verify_signature(headers, body)
        except Exception:  # noqa: BLE001 - wechatpayv3 raises bare Exception on unknown algorithms and bad serials
            return False

    def request(
        self,
        path,
        method=RequestType.GET,
        data=None,
        skip_verify=False,
        sign_data=None,
        files=None,
        cipher_data=False,
        headers=None,
    ):
        """Send one signed request; return an :class:`_Answer` (``requests`` errors are let through)."""
        if files or cipher_data:
            raise NotImplementedError("file uploads and encrypted fields are not used by scan-to-pay")
        body = json.dumps(data) if data else ""
        headers = dict(headers or {})
        headers.update(
            {
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": f"wechatpayv3/{wechatpayv3_version} odoo-wechat_member",
                "Authorization": build_authorization(
                    path, method.value, self._mchid, self._cert_serial_no, self._private_key, data=body or None
                ),
            }
        )
        if self._public_key_id:
            headers["Wechatpay-Serial"] = self._public_key_id
        response = self._session.request(
            method.value,
            self._gate_way + path,
            data=body.encode() if body else None,
            headers=headers,
            timeout=self._timeout,
        )
        if skip_verify:  # the certificate list: each certificate is checked by its AES-GCM decryption
            return response.status_code, response.text
        return _Answer(response.status_code, response.text, self._verify_signature(response.headers, response.text))

    def download(self, url):
        """``(status, bytes)`` of a bill file at ``url`` (its ``download_url``), a signed GET on this host only.

        The file is not signed: its SHA1 is in the signed answer that gave the URL.
        """
        if not url.startswith(self._gate_way + "/"):
            return 0, b""  # never send our signature to another host
        path = url[len(self._gate_way) :]
        headers = {
            "Accept": "*/*",
            "User-Agent": f"wechatpayv3/{wechatpayv3_version} odoo-wechat_member",
            "Authorization": build_authorization(path, "GET", self._mchid, self._cert_serial_no, self._private_key),
        }
        response = self._session.get(self._gate_way + path, headers=headers, timeout=self._timeout)
        return response.status_code, response.content


class _WeChatPay(WeChatPay):
    """``wechatpayv3.WeChatPay`` on a :class:`_Core` built by us (``WeChatPay.__init__`` builds its own)."""

    def __init__(self, core, appid, partner_mode):  # pylint: disable=super-init-not-called
        self._type = WeChatPayType.CODEPAY
        self._mchid = core._mchid
        self._appid = appid
        self._notify_url = None
        self._core = core
        self._partner_mode = partner_mode


def v2_time(value):
    """A v3 RFC 3339 time (``2018-06-08T10:34:56+08:00``) as v2's Beijing ``yyyyMMddHHmmss``."""
    if not value:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BEIJING)
    return moment.astimezone(BEIJING).strftime("%Y%m%d%H%M%S")


class WeChatPayV3Client:
    """WeChat Pay APIv3 client of one ``wechat.account`` (direct merchant or service-provider sub-merchant)."""

    def __init__(self, account):
        account.ensure_one()
        self.account = account.sudo()
        self.env = account.env
        self.partner = self.account.pay_partner_mode

    # ------------------------------------------------------------------ plumbing
    def _wechatpay(self):
        account = self.account
        mchid = account.pay_sp_mchid if self.partner else account.pay_mch_id
        if not (mchid and account.pay_v3_serial_no and account.pay_v3_private_key):
            raise ValueError("merchant ID, certificate serial number or private key missing")
        public_key = public_key_id = None
        if account.pay_v3_verify_mode == "public_key":
            public_key, public_key_id = account.pay_v3_public_key or None, account.pay_v3_public_key_id or None
        core = _Core(
            account._pay_base_url(),
            account.timeout,
            mchid=mchid,
            cert_serial_no=account.pay_v3_serial_no,
            private_key=account.pay_v3_private_key,
            apiv3_key=account.pay_v3_api_key or "",
            public_key=public_key,
            public_key_id=public_key_id,
        )
        appid = account.pay_sp_appid if self.partner else account.appid
        return _WeChatPay(core, appid, self.partner)

    def _ids(self, **kwargs):
        """The service-provider ids of a partner call (the account's appid is the ``sub_appid``)."""
        if not self.partner:
            return {}
        ids = {"sub_mchid": self.account.pay_sub_mchid}
        if kwargs.get("sub_appid"):
            ids["sub_appid"] = self.account.appid
        return ids

    def _send(self, call):
        """Run ``call(wechatpay)``; return ``(answer, None)`` or ``(None, unknown/config result)``."""
        account = self.account
        try:
            wechatpay = self._wechatpay()
        except requests.RequestException as exc:  # the certificate download
            _logger.warning("WeChat Pay v3 account %s: certificates: %s", account.id, type(exc).__name__)
            return None, WeChatPayResult(UNKNOWN, "NETWORK", pay_message(self.env, "NETWORK"))
        except Exception as exc:  # noqa: BLE001 - wechatpayv3 raises bare Exception on bad keys
            _logger.warning("WeChat Pay v3 account %s: cannot build the client: %s", account.id, exc)
            return None, WeChatPayResult(ERROR, "CONFIG", v3_message(self.env, "CONFIG", str(exc)))
        try:
            return call(wechatpay), None
        except requests.RequestException as exc:
            _logger.warning("WeChat Pay v3 account %s: %s", account.id, type(exc).__name__)
            return None, WeChatPayResult(UNKNOWN, "NETWORK", pay_message(self.env, "NETWORK"))

    def _result(self, call, success):
        """The :class:`WeChatPayResult` of ``call``; ``success(data)`` maps a verified 2xx body (or returns one)."""
        answer, failed = self._send(call)
        if failed:
            return failed
        data = answer.json()
        if data is None:  # an HTTP error page (proxy, gateway ...): the request may or may not have been processed
            _logger.warning("WeChat Pay v3 account %s: HTTP %s answer is not JSON", self.account.id, answer.status)
            return WeChatPayResult(UNKNOWN, "NETWORK", pay_message(self.env, "NETWORK"))
        if not answer.verified:
            # Unsigned or badly signed (401 SIGN_ERROR included: WeChat refused our signature and signs nothing).
            _logger.warning(
                "WeChat Pay v3 account %s: HTTP %s answer without a valid signature", self.account.id, answer.status
            )
            if answer.status == 401 and data.get("code") == "SIGN_ERROR":
                return WeChatPayResult(UNKNOWN, "SIGNERROR", pay_message(self.env, "SIGNERROR"))
            return WeChatPayResult(UNKNOWN, "SIGNATURE", v3_message(self.env, "SIGNATURE"))
        if 200 <= answer.status < 300 and not (answer.status == 202 and data.get("code")):
            return success(data)
        code = data.get("code") or f"HTTP_{answer.status}"
        return self._error(code, data.get("message") or "", data)

    def _error(self, code, message, data=None):
        code = V3_CODES.get(code, code)
        return WeChatPayResult(ERROR, code, pay_message(self.env, code, message), dict(data or {}, err_code=code))

    def _order_data(self, data):
        """A v3 transaction as the v2 ``orderquery`` keys (``openid``: ``sub_openid`` in partner mode)."""
        payer = data.get("payer") or {}
        amount = data.get("amount") or {}
        out = {
            "trade_state": data.get("trade_state"),
            "trade_state_desc": data.get("trade_state_desc"),
            "out_trade_no": data.get("out_trade_no"),
            "transaction_id": data.get("transaction_id"),
            "openid": payer.get("sub_openid") if self.partner else payer.get("openid"),
            "total_fee": amount.get("total"),
            "time_end": v2_time(data.get("success_time")),
            "attach": data.get("attach"),
            "bank_type": data.get("bank_type"),
        }
        # APIv3 answers carry no ``is_subscribe``: it stays unknown (absent).
        return {k: v for k, v in out.items() if v not in (None, "")}

    def _refund_data(self, data):
        amount = data.get("amount") or {}
        status = data.get("status")
        out = {
            "refund_status": REFUND_STATUS.get(status, status),
            "refund_id": data.get("refund_id"),
            "out_refund_no": data.get("out_refund_no"),
            "transaction_id": data.get("transaction_id"),
            "out_trade_no": data.get("out_trade_no"),
            "refund_fee": amount.get("refund"),
            "total_fee": amount.get("total"),
            "success_time": data.get("success_time"),
        }
        return {k: v for k, v in out.items() if v not in (None, "")}

    # ------------------------------------------------------------------ API
    def micropay(
        self, out_trade_no, total_fee, auth_code, body, client_ip, fee_type="CNY", attach=None, device_info=None
    ):
        scene_info = {"device_ip": client_ip}
        if device_info:
            scene_info["device_id"] = device_info
            scene_info["store_info"] = {"out_id": device_info}

        def charged(data):
            order = self._order_data(data)
            state = order.get("trade_state")
            if state in (None, "SUCCESS"):
                return WeChatPayResult(OK, data=dict(order, trade_state="SUCCESS"))
            # A codepay answer that is not paid (USERPAYING, PAYERROR ...): as v2's err_code.
            return self._error(state, data.get("trade_state_desc") or "", order)

        return self._result(
            lambda pay: pay.pay(
                description=body,
                out_trade_no=out_trade_no,
                amount={"total": int(total_fee), "currency": fee_type},
                payer={"auth_code": auth_code},
                attach=attach,
                scene_info=scene_info,
                pay_type=WeChatPayType.CODEPAY,
                **self._ids(sub_appid=True),
            ),
            charged,
        )

    def query(self, out_trade_no):
        return self._result(
            lambda pay: pay.query(out_trade_no=out_trade_no, **self._ids()),
            lambda data: WeChatPayResult(OK, data=self._order_data(data)),
        )

    def reverse(self, out_trade_no):
        # v3 has no ``recall``: a done reverse is final (a SYSTEM_ERROR answer is retried by the caller).
        return self._result(
            lambda pay: pay.codepay_reverse(out_trade_no, **self._ids(sub_appid=True)),
            lambda data: WeChatPayResult(OK, data={"recall": "N", "out_trade_no": data.get("out_trade_no")}),
        )

    def refund(self, out_trade_no, out_refund_no, total_fee, refund_fee, reason=None):
        def refunded(data):
            return WeChatPayResult(OK, data=self._refund_data(data))

        res = self._result(
            lambda pay: pay.refund(
                out_refund_no=out_refund_no,
                amount={"refund": int(refund_fee), "total": int(total_fee), "currency": "CNY"},
                out_trade_no=out_trade_no,
                reason=reason,
                **self._ids(),
            ),
            refunded,
        )
        if res.status == ERROR and res.code == "RESOURCE_NOT_EXISTS":
            res = self._error("ORDERNOTEXIST", res.data.get("message") or "")
        return self._refund_error(res)

    def refund_query(self, out_refund_no):
        res = self._result(
            lambda pay: pay.query_refund(out_refund_no, **self._ids()),
            lambda data: WeChatPayResult(OK, data=self._refund_data(data)),
        )
        if res.status == ERROR and res.code == "RESOURCE_NOT_EXISTS":
            res = self._error("REFUNDNOTEXIST", res.data.get("message") or "")
        return self._refund_error(res)

    def download_bill(self, bill_date):
        """The trade bill (``ALL``) of ``bill_date`` (a ``date``, Beijing day): ``data["rows"]``.

        ``/v3/bill/tradebill`` gives a download URL and the file's SHA1 (signed);
        the file (gzip) is then downloaded and checked against it.  Errors as
        the v2 client's: ``NO_BILL``, ``BILL_REFUSED``, ``BILL_UNREADABLE``.
        """
        sub = {"sub_mchid": self.account.pay_sub_mchid} if self.partner else {}
        res = self._result(
            lambda pay: pay.trade_bill(bill_date.isoformat(), tar_type="GZIP", **sub),
            lambda data: WeChatPayResult(OK, data=data),
        )
        if res.status == ERROR:
            if res.code == "NO_STATEMENT_EXIST":
                return WeChatPayResult(ERROR, "NO_BILL", pay_message(self.env, "NO_BILL"))
            detail = res.data.get("message") or res.code
            _logger.warning("WeChat Pay v3 account %s: tradebill refused: %s", self.account.id, detail)
            return WeChatPayResult(ERROR, "BILL_REFUSED", pay_message(self.env, "BILL_REFUSED", detail))
        if res.status != OK:
            return res
        answer, failed = self._send(lambda pay: pay._core.download(res.data.get("download_url") or ""))
        if failed:
            return failed
        status, content = answer
        expected = (res.data.get("hash_value") or "").lower()
        if status != 200 or not consteq(hashlib.sha1(content).hexdigest(), expected):
            _logger.warning("WeChat Pay v3 account %s: bill file refused (HTTP %s or SHA1)", self.account.id, status)
            return WeChatPayResult(ERROR, "BILL_UNREADABLE", pay_message(self.env, "BILL_UNREADABLE"))
        try:
            text = gzip.decompress(content).decode("utf-8") if content[:2] == b"\x1f\x8b" else content.decode("utf-8")
            rows = parse_trade_bill(text)
        except (OSError, UnicodeDecodeError, TradeBillError) as exc:
            _logger.warning("WeChat Pay v3 account %s: unreadable bill: %s", self.account.id, exc)
            return WeChatPayResult(ERROR, "BILL_UNREADABLE", pay_message(self.env, "BILL_UNREADABLE"))
        return WeChatPayResult(OK, data={"rows": rows})

    def _refund_error(self, res):
        """A refund error as the v2 client gives it: retryable ones unknown (query with the same number),
        the others with the refund's words for the cashier (NOTENOUGH is the merchant's balance here)."""
        if res.status != ERROR:
            return res
        if res.code in REFUND_QUERY_ERRORS:
            res.status = UNKNOWN
            res.message = refund_message(self.env, "NETWORK")
        else:
            res.message = refund_message(self.env, res.code, res.data.get("message") or "")
        return res
