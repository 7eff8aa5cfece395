"""WeChat Pay v2 scan-to-pay (付款码支付) client: charge, query, reverse, refund and refund query.

:class:`WeChatPayClient` is the client of one ``wechat.account``, built on
wechatpy 1.8.18's ``WeChatPay`` (``API_BASE_URL`` pointed at the account's
pay URL, so the sandbox talks to the fake platform).  wechatpy does not check
the signature of WeChat's answers and lets ``requests`` errors through: every
answer is signature-checked here and any network error or unverifiable
answer is reported as *unknown* (the caller then queries, it never charges
again).

On a network error the request is sent once more to the account's backup
domain (``api2.mch.weixin.qq.com``, WeChat's other city): a query or a reverse
on any connection error or timeout, a charge only when it never reached
WeChat (no connection made; after a read timeout WeChat may have charged, so
the caller queries instead, which may go to the backup domain).
"""

import base64
import contextlib
import logging
import os
import tempfile
from datetime import timedelta
from xml.parsers.expat import ExpatError

import pytz
import requests
import urllib3
import xmltodict
from wechatpy.exceptions import WeChatPayException
from wechatpy.pay import WeChatPay
from wechatpy.pay.utils import calculate_signature, calculate_signature_hmac

from odoo.tools import consteq
from odoo.tools.translate import LazyTranslate

from .wechat_pay_bill import TradeBillError, parse_trade_bill

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

# Outcome of a call: the business answer is known and verified ...
OK = "ok"
ERROR = "error"
# ... or not (network error, timeout, HTTP error, unsigned or badly signed answer).
UNKNOWN = "unknown"

BEIJING = pytz.timezone("Asia/Shanghai")  # WeChat Pay's times are Beijing time
JSAPI_ORDER_VALIDITY = timedelta(hours=2)  # time_start, from time_expire: a prepay_id lives 2 hours

# err_code of micropay whose outcome is unknown: query, never charge again.
QUERY_ERRORS = {"SYSTEMERROR", "BANKERROR", "ORDERPAID", "OUT_TRADE_NO_USED", "USERPAYING"}

PAY_MESSAGES = {
    "AUTH_CODE_INVALID": _lt(
        "This is not a valid WeChat payment code. Ask the customer to show the payment code "
        "again (WeChat > Me > Pay) and scan it."
    ),
    "AUTHCODEEXPIRE": _lt(
        "The payment code has expired. Ask the customer to refresh the payment code in WeChat " "and scan it again."
    ),
    "NOTENOUGH": _lt(
        "The customer's balance is not enough. Ask the customer to choose another card in WeChat "
        "and scan the new code."
    ),
    "NOTSUPORTCARD": _lt("This card is not supported. Ask the customer to choose another card in WeChat."),
    "BUYER_MISMATCH": _lt("The payer changed during the payment. Scan the code of the same customer again."),
    "ORDERCLOSED": _lt("This payment was closed. Scan a new payment code."),
    "ORDERREVERSED": _lt("This payment was cancelled. Scan a new payment code."),
    "NOAUTH": _lt("The merchant account is not allowed to use scan-to-pay. Check the WeChat Pay merchant " "settings."),
    "PARAM_ERROR": _lt("WeChat Pay refused the request (parameter error). Check the payment method settings."),
    "SIGNERROR": _lt("WeChat Pay refused the signature. Check the merchant API key of the WeChat account."),
    "APPID_MCHID_NOT_MATCH": _lt("The AppID and the merchant ID do not match. Check the WeChat account."),
    "TRADE_ERROR": _lt("WeChat Pay refused this payment for security reasons. Ask the customer to pay another " "way."),
    "PAYERROR": _lt("The payment failed. Ask the customer to pay again or another way."),
    "REVOKED": _lt("The payment was cancelled."),
    "CLOSED": _lt("The payment was closed."),
    "REFUND": _lt("The payment has been refunded."),
    "ORDERNOTEXIST": _lt("WeChat Pay does not know this payment."),
    "NETWORK": _lt("WeChat Pay could not be reached (network error or timeout)."),
    "NO_BILL": _lt("WeChat Pay has no bill for this day (no payment or refund that day)."),
    "BILL_UNREADABLE": _lt("WeChat Pay sent a bill that cannot be read."),
    "BILL_REFUSED": _lt("WeChat Pay refused to send the bill: %(message)s"),
    "GENERIC": _lt("WeChat Pay refused the payment: %(message)s"),
}


# err_code of a refund request (secapi/pay/refund) whose outcome is unknown: query the same out_refund_no.
REFUND_QUERY_ERRORS = {"SYSTEMERROR", "BIZERR_NEED_RETRY", "FREQUENCY_LIMITED"}

REFUND_MESSAGES = {
    "PROCESSING": _lt("WeChat Pay is processing the refund: it usually reaches the customer within minutes."),
    "SUCCESS": _lt("Refunded to the customer's WeChat."),
    "CHANGE": _lt(
        "WeChat Pay could not pay the refund back to the customer's account (closed or frozen card). "
        "Handle it on the WeChat Pay merchant platform (refund to the merchant balance or by transfer)."
    ),
    "REFUNDCLOSE": _lt("WeChat Pay closed the refund: nothing was refunded. Refund the customer another way."),
    "NOTENOUGH": _lt(
        "The merchant's WeChat Pay balance is not enough for this refund. Top up the merchant account on the "
        "WeChat Pay merchant platform, then refund again."
    ),
    "TRADE_OVERDUE": _lt(
        "This payment is older than WeChat Pay's refund limit (one year): refund the customer another way."
    ),
    "INVALID_REQUEST": _lt(
        "WeChat Pay refused the refund: more than what is left to refund, or another amount for the same refund."
    ),
    "TRADE_STATE_ERROR": _lt("WeChat Pay cannot refund this payment in its current state."),
    "ORDERNOTEXIST": _lt("WeChat Pay does not know the payment to refund."),
    "REFUNDNOTEXIST": _lt("WeChat Pay does not know this refund."),
    "USER_ACCOUNT_ABNORMAL": _lt(
        "The customer's WeChat account is closed or frozen: refund on the WeChat Pay merchant platform."
    ),
    "SIGNERROR": PAY_MESSAGES["SIGNERROR"],
    "NETWORK": _lt("WeChat Pay could not be reached (network error or timeout): the refund will be checked again."),
    "GENERIC": _lt("WeChat Pay refused the refund: %(message)s"),
}


def refund_message(env, code, detail=""):
    """The cashier's words for a WeChat Pay refund ``err_code`` / ``refund_status``."""
    lang = env.lang or "en_US"
    known = REFUND_MESSAGES.get(code)
    if known:
        return known._translate(lang)
    return REFUND_MESSAGES["GENERIC"]._translate(lang) % {"message": detail or code or "?"}


def pay_message(env, code, detail=""):
    """The cashier's words for a WeChat Pay ``err_code`` / ``trade_state``."""
    lang = env.lang or "en_US"
    if code == "BILL_REFUSED":
        return PAY_MESSAGES[code]._translate(lang) % {"message": detail or "?"}
    known = PAY_MESSAGES.get(code)
    if known:
        return known._translate(lang)
    return PAY_MESSAGES["GENERIC"]._translate(lang) % {"message": detail or code or "?"}


class WeChatPayResult:
    """What one WeChat Pay call answered.

    ``status``: ``ok`` (verified business success), ``error`` (verified
    business error, ``code`` = err_code) or ``unknown`` (no verified answer).
    ``data``: the verified answer fields.
    """

    __slots__ = ("status", "code", "message", "data")

    def __init__(self, status, code=None, message="", data=None):
        self.status = status
        self.code = code
        self.message = message or ""
        self.data = data or {}

    def __repr__(self):
        return f"WeChatPayResult({self.status}, {self.code})"


def _not_sent(exc):
    """True when the request of the ``requests`` error ``exc`` never reached the server (no connection made)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


class WeChatPayClient:
    """WeChat Pay v2 client of one ``wechat.account`` (use ``account._pay_client()``-like helpers)."""

    def __init__(self, account):
        account.ensure_one()
        self.account = account.sudo()
        self.env = account.env

    # ------------------------------------------------------------------ plumbing
    def _pay(self, mch_cert=None, mch_key=None, base_url=None):
        account = self.account
        pay = WeChatPay(
            account.appid,
            api_key=account.pay_api_key or "",
            mch_id=account.pay_mch_id or "",
            mch_cert=mch_cert,
            mch_key=mch_key,
            timeout=account.timeout,
            sandbox=False,
        )
        # wechatpy joins ``API_BASE_URL + endpoint`` (endpoint without a leading slash).
        pay.API_BASE_URL = (base_url or account._pay_base_url()) + "/"
        pay._http.trust_env = False
        return pay

    @contextlib.contextmanager
    def _cert_files(self):
        """The merchant certificate and key as temporary files (wechatpy wants paths), or ``(None, None)``."""
        account = self.account
        if not (account.pay_cert_pem and account.pay_key_pem):
            yield None, None
            return
        paths = []
        try:
            for pem in (account.pay_cert_pem, account.pay_key_pem):
                fd, path = tempfile.mkstemp(prefix="wechat_pay_", suffix=".pem")
                paths.append(path)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(base64.b64decode(pem))
            yield paths[0], paths[1]
        finally:
            for path in paths:
                with contextlib.suppress(OSError):
                    os.unlink(path)

    def _verified(self, pay, data):
        """``data`` as a plain dict if its signature is the merchant's (MD5, or HMAC-SHA256 when it says so),
        else ``None``."""
        if not isinstance(data, dict) or not isinstance(data.get("sign"), str) or not pay.api_key:
            return None
        data = {k: v for k, v in data.items() if isinstance(v, str)}
        # wechatpy's check_signature compares with ``==``: compare in constant time here.
        unsigned = {k: v for k, v in data.items() if k != "sign"}
        sign = calculate_signature_hmac if data.get("sign_type") == "HMAC-SHA256" else calculate_signature
        if not consteq(data["sign"], sign(unsigned, pay.api_key)):
            return None
        return data

    def _call(self, method, *args, with_cert=False, repeatable=True, **kwargs):
        """Call ``method(pay)``; return a :class:`WeChatPayResult`, never raise on WeChat or network errors.

        On a network error, the same request goes once to the backup domain:
        for any connection error or timeout when ``repeatable`` (query,
        reverse), else only when the request never reached WeChat.
        """
        account = self.account
        base_urls = [account._pay_base_url()]
        backup = account._pay_backup_url()
        if backup and backup != base_urls[0]:
            base_urls.append(backup)
        cert_files = self._cert_files() if with_cert else contextlib.nullcontext((None, None))
        with cert_files as (cert, key):
            for index, base_url in enumerate(base_urls):
                pay = self._pay(cert, key, base_url)
                try:
                    data = method(pay)(*args, **kwargs)
                except WeChatPayException as exc:
                    return self._error_result(pay, exc)
                except requests.RequestException as exc:
                    network = isinstance(exc, requests.ConnectionError | requests.Timeout)
                    if index + 1 < len(base_urls) and network and (repeatable or _not_sent(exc)):
                        _logger.warning(
                            "WeChat Pay account %s: %s on %s, sending the request again to the backup domain %s",
                            account.id,
                            type(exc).__name__,
                            base_url,
                            base_urls[index + 1],
                        )
                        continue
                    _logger.warning("WeChat Pay account %s: %s on %s", account.id, type(exc).__name__, base_url)
                    return WeChatPayResult(UNKNOWN, "NETWORK", pay_message(self.env, "NETWORK"))
                break
        verified = self._verified(pay, data)
        if verified is None:
            _logger.warning("WeChat Pay account %s: answer without a valid signature", account.id)
            return WeChatPayResult(UNKNOWN, "SIGNATURE", pay_message(self.env, "NETWORK"))
        return WeChatPayResult(OK, data=verified)

    def _error_result(self, pay, exc):
        if exc.return_code is None:  # HTTP error: the request may or may not have been processed
            _logger.warning("WeChat Pay account %s: HTTP error", self.account.id)
            return WeChatPayResult(UNKNOWN, "NETWORK", pay_message(self.env, "NETWORK"))
        if exc.return_code != "SUCCESS":
            # Communication failure (bad signature, appid/mch_id ...): unsigned, not a business answer.
            _logger.warning(
                "WeChat Pay account %s: return_code %s: %s", self.account.id, exc.return_code, exc.return_msg
            )
            code = "SIGNERROR" if "sign" in (exc.return_msg or "").lower() else "RETURN_FAIL"
            message = pay_message(self.env, code, exc.return_msg)
            return WeChatPayResult(UNKNOWN, code, message)
        data = None
        response = getattr(exc, "response", None)
        if response is not None:
            try:
                data = xmltodict.parse(response.text).get("xml")
            except (ExpatError, ValueError, AttributeError):  # not XML: not verified
                data = None
        if self._verified(pay, data) is None:
            _logger.warning("WeChat Pay account %s: error %s without a valid signature", self.account.id, exc.errcode)
            return WeChatPayResult(UNKNOWN, exc.errcode or "SIGNATURE", pay_message(self.env, "NETWORK"))
        return WeChatPayResult(ERROR, exc.errcode, pay_message(self.env, exc.errcode, exc.errmsg), dict(data))

    # ------------------------------------------------------------------ API
    def micropay(
        self, out_trade_no, total_fee, auth_code, body, client_ip, fee_type="CNY", attach=None, device_info=None
    ):
        return self._call(
            lambda pay: pay.micropay.create,
            body=body,
            total_fee=total_fee,
            auth_code=auth_code,
            client_ip=client_ip,
            out_trade_no=out_trade_no,
            attach=attach,
            fee_type=fee_type,
            device_info=device_info,
            repeatable=False,
        )

    def query(self, out_trade_no):
        return self._call(lambda pay: pay.micropay.query, out_trade_no=out_trade_no)

    def reverse(self, out_trade_no):
        return self._call(lambda pay: pay.order.reverse, out_trade_no=out_trade_no, with_cert=True)

    def refund(self, out_trade_no, out_refund_no, total_fee, refund_fee, reason=None):
        """Ask for a refund (``secapi/pay/refund``, merchant certificate).

        An accepted refund is asynchronous: ``data["refund_status"]`` is
        ``PROCESSING`` until :meth:`refund_query` says otherwise.  The same
        ``out_refund_no`` again never refunds twice.
        """
        res = self._call(
            lambda pay: pay.refund.apply,
            total_fee=total_fee,
            refund_fee=refund_fee,
            out_refund_no=out_refund_no,
            out_trade_no=out_trade_no,
            refund_desc=reason,
            with_cert=True,
        )
        if res.status == OK:
            res.data = dict(
                res.data,
                refund_status="PROCESSING",
                refund_fee=_fen(res.data.get("refund_fee")),
                refund_id=res.data.get("refund_id"),
            )
        elif res.status == ERROR:
            if res.code in REFUND_QUERY_ERRORS:
                res.status = UNKNOWN
                res.message = refund_message(self.env, "NETWORK")
            else:
                res.message = refund_message(self.env, res.code, res.data.get("err_code_des"))
        return res

    def refund_query(self, out_refund_no):
        """Where refund ``out_refund_no`` stands (``pay/refundquery``): ``data["refund_status"]`` in
        SUCCESS / PROCESSING / CHANGE / REFUNDCLOSE, ``refund_id``, ``refund_fee`` (fen), ``success_time``."""
        res = self._call(lambda pay: pay.refund.query, out_refund_no=out_refund_no)
        if res.status == ERROR:
            res.message = refund_message(self.env, res.code, res.data.get("err_code_des"))
            return res
        if res.status != OK:
            return res
        data = res.data
        try:
            count = int(data.get("refund_count") or 0)
        except ValueError:
            count = 0
        for n in range(count):
            if data.get(f"out_refund_no_{n}") == out_refund_no:
                res.data = dict(
                    data,
                    refund_status=data.get(f"refund_status_{n}"),
                    refund_id=data.get(f"refund_id_{n}"),
                    refund_fee=_fen(data.get(f"refund_fee_{n}")),
                    success_time=data.get(f"refund_success_time_{n}"),
                )
                return res
        # A signed answer without this refund: as if WeChat did not know it.
        return WeChatPayResult(ERROR, "REFUNDNOTEXIST", refund_message(self.env, "REFUNDNOTEXIST"), data)

    # ------------------------------------------------------------------ JSAPI (公众号支付): paying in WeChat's browser
    def jsapi_order(self, out_trade_no, total_fee, body, openid, notify_url, client_ip, time_expire, attach=None):
        """Place the order a member pays on a page in WeChat (``pay/unifiedorder``, ``trade_type`` JSAPI):
        ``data["prepay_id"]`` (valid 2 hours).

        ``time_expire`` (an aware datetime) is when WeChat stops taking the payment; ``time_start`` is sent as
        well, from the same ``out_trade_no``: WeChat compares every parameter of an order placed again, and
        wechatpy would otherwise fill both with the current time (another order: "201 商户订单号重复").
        ``notify_url`` must carry no query string (WeChat drops it).
        """
        expire = time_expire.astimezone(BEIJING)
        start = expire - JSAPI_ORDER_VALIDITY
        return self._call(
            lambda pay: pay.order.create,
            trade_type="JSAPI",
            body=body,
            total_fee=total_fee,
            notify_url=notify_url,
            client_ip=client_ip,
            user_id=openid,
            out_trade_no=out_trade_no,
            attach=attach,
            time_start=start,
            time_expire=expire,
            repeatable=False,
        )

    def jsapi_params(self, prepay_id):
        """What the page passes to ``wx.chooseWXPay`` for ``prepay_id``: ``timestamp``, ``nonceStr``,
        ``package``, ``signType``, ``paySign`` (signed with the merchant key; never the key itself)."""
        return self._pay().jsapi.get_jsapi_params(prepay_id, jssdk=True)

    def close_order(self, out_trade_no):
        """Close an unpaid order (``pay/closeorder``): it can no longer be paid.  ERROR ``ORDERPAID`` when the
        member paid meanwhile (then the payment is there to use or refund)."""
        return self._call(lambda pay: pay.order.close, out_trade_no=out_trade_no)

    def query_order(self, out_trade_no):
        """Where order ``out_trade_no`` stands (``pay/orderquery``): ``data["trade_state"]``."""
        return self._call(lambda pay: pay.order.query, out_trade_no=out_trade_no)

    def verify_notification(self, body):
        """The fields of WeChat's payment notification ``body`` (支付结果通知, XML bytes) when it is signed by
        the merchant key (MD5, or HMAC-SHA256 when it says so) and names this account and merchant; else None.
        The caller still checks the amount against its own order, and treats a notification again as a
        duplicate (WeChat sends one until it is answered, and sometimes more)."""
        try:
            data = xmltodict.parse(body, disable_entities=True).get("xml")
        except (ExpatError, ValueError, AttributeError, TypeError):
            return None
        data = self._verified(self._pay(), data)
        account = self.account
        if not data or data.get("appid") != account.appid or data.get("mch_id") != account.pay_mch_id:
            return None
        return data

    def download_bill(self, bill_date):
        """The trade bill (``ALL``) of ``bill_date`` (a ``date``, Beijing day): ``data["rows"]``.

        The bill is plain text, not signed (v2 signs no bill).  ERROR ``NO_BILL``
        when WeChat has none for that day ("No Bill Exist"), ERROR with
        WeChat's ``return_msg`` as message for any other refusal (a bill of
        today, a day older than three months ...).
        """
        pay = self._pay()
        try:
            text = pay.tools.download_bill(bill_date.strftime("%Y%m%d"), bill_type="ALL")
        except WeChatPayException as exc:
            if exc.return_code is None:
                _logger.warning("WeChat Pay account %s: HTTP error on downloadbill", self.account.id)
                return WeChatPayResult(UNKNOWN, "NETWORK", pay_message(self.env, "NETWORK"))
            detail = exc.return_msg or exc.errmsg or ""
            if "no bill exist" in detail.lower():
                return WeChatPayResult(ERROR, "NO_BILL", pay_message(self.env, "NO_BILL"))
            _logger.warning("WeChat Pay account %s: downloadbill refused: %s", self.account.id, detail)
            return WeChatPayResult(ERROR, "BILL_REFUSED", pay_message(self.env, "BILL_REFUSED", detail))
        except requests.RequestException as exc:
            _logger.warning("WeChat Pay account %s: %s", self.account.id, type(exc).__name__)
            return WeChatPayResult(UNKNOWN, "NETWORK", pay_message(self.env, "NETWORK"))
        try:
            rows = parse_trade_bill(text if isinstance(text, str) else "")
        except TradeBillError as exc:
            _logger.warning("WeChat Pay account %s: unreadable bill: %s", self.account.id, exc)
            return WeChatPayResult(ERROR, "BILL_UNREADABLE", pay_message(self.env, "BILL_UNREADABLE"))
        return WeChatPayResult(OK, data={"rows": rows})


def _fen(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
