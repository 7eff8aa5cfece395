"""WeChat Pay APIv3 (JSON, RSA-SHA256 signed both ways) for scan-to-pay at the till:
``POST /v3/pay/transactions/codepay``, query by ``out-trade-no``, ``.../reverse``
(direct and service-provider ``/v3/pay/partner/...`` forms), ``POST
/v3/refund/domestic/refunds``, ``GET /v3/refund/domestic/refunds/{out_refund_no}``
and ``GET /v3/certificates``.

Real-platform rules mimicked:
- every request carries ``Authorization: WECHATPAY2-SHA256-RSA2048 mchid=...,
  nonce_str=..., signature=..., timestamp=..., serial_no=...``, an RSA-SHA256
  signature of ``METHOD\\nURL\\ntimestamp\\nnonce\\nbody\\n`` by the merchant's
  API certificate key; a missing or bad one answers 401 ``SIGN_ERROR``
  (unsigned) and is logged as violation ``v3_request_signature``;
- every other answer is signed (``Wechatpay-Signature``, ``-Timestamp``,
  ``-Nonce``, ``-Serial``, ``-Signature-Type``) over
  ``timestamp\\nnonce\\nbody\\n``: with the WeChat Pay public key (serial
  ``PUB_KEY_ID_...``) when the request names it in ``Wechatpay-Serial``, else
  with the platform certificate (listed by ``/v3/certificates``, AES-256-GCM
  encrypted with the merchant's APIv3 key); ``fake.pay_v3_bad_signature()``
  makes the next answers carry a bad (or no) signature;
- errors are ``{"code", "message"}`` with an HTTP status: ``USERPAYING`` is a
  202, ``SYSTEM_ERROR`` / ``BANK_ERROR`` a 500 (the outcome is unknown: query,
  never charge again), ``ORDER_NOT_EXIST`` / ``RESOURCE_NOT_EXISTS`` a 404;
- service provider (服务商): ``sp_mchid`` must be a registered provider,
  ``sub_mchid`` one of its sub-merchants, ``sp_appid`` bound to the provider and
  ``sub_appid`` to the sub-merchant (violation ``v3_partner_ids`` otherwise);
  the payer is returned as ``sub_openid`` (the service account's openid) when
  ``sub_appid`` is sent, else only ``sp_openid``; the answers have no
  ``is_subscribe``;
- charges and refunds are the v2 ledger's (``PayOrder`` in
  ``fake.payments.orders``, refunds in ``fake.payments.refunds``), with the same
  scripts per auth code; a refund answers ``PROCESSING`` and is ``SUCCESS`` when
  queried.
"""

import base64
import datetime
import gzip
import hashlib
import json
import re
import secrets
import time

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID

from . import pay as pay_v2
from . import pay_bill
from .clock import BEIJING_OFFSET
from .web import Reply

SIGN_TYPE = "WECHATPAY2-SHA256-RSA2048"
_AUTH_ITEM_RE = re.compile(r'(\w+)="([^"]*)"')
V3_ERR = {
    "USERPAYING": (202, "需要用户输入支付密码"),
    "SYSTEM_ERROR": (500, "系统超时"),
    "BANK_ERROR": (500, "银行系统异常"),
    "NOT_ENOUGH": (403, "余额不足"),
    "AUTH_CODE_INVALID": (400, "付款码无效，请重新扫码"),
    "AUTHCODE_EXPIRE": (403, "二维码已过期，请用户在微信上刷新后再试"),
    "ORDER_PAID": (403, "订单已支付"),
    "OUT_TRADE_NO_USED": (403, "商户订单号重复"),
    "ORDER_REVERSED": (400, "订单已撤销"),
    "ORDER_CLOSED": (400, "订单已关闭"),
    "ORDER_NOT_EXIST": (404, "订单不存在"),
    "RESOURCE_NOT_EXISTS": (404, "退款单不存在"),
    "PARAM_ERROR": (400, "参数错误"),
    "INVALID_REQUEST": (400, "无效请求"),
    "APPID_MCHID_NOT_MATCH": (400, "AppID和mch_id不匹配"),
    "REVERSE_EXPIRE": (400, "订单无法撤销"),
    "TRADE_STATE_ERROR": (400, "订单状态错误"),
    "SIGN_ERROR": (401, "签名错误"),
    "NO_AUTH": (403, "商户无权限"),
}
# v2 outcomes / err_code -> the v3 code the fake answers.
# The fake's refund states (v2 names, pay.refund) as APIv3 says them.
V3_REFUND_STATUS = {"PROCESSING": "PROCESSING", "SUCCESS": "SUCCESS", "CHANGE": "ABNORMAL", "REFUNDCLOSE": "CLOSED"}
V2_TO_V3 = {
    "ORDERPAID": "ORDER_PAID",
    "ORDERREVERSED": "ORDER_REVERSED",
    "ORDERCLOSED": "ORDER_CLOSED",
    "SYSTEMERROR": "SYSTEM_ERROR",
    "BANKERROR": "BANK_ERROR",
    "NOTENOUGH": "NOT_ENOUGH",
    "AUTHCODEEXPIRE": "AUTHCODE_EXPIRE",
    "SYSTEMERROR_UNCHARGED": "SYSTEM_ERROR",
}


def _rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _private_pem(key):
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _public_pem(key):
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _sign(key, message):
    return base64.b64encode(key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


class V3Merchant:
    """A merchant's APIv3 credentials as WeChat knows them (its API certificate's public key and serial)."""

    def __init__(self, mchid):
        self.mchid = mchid
        self.key = _rsa_key()
        self.private_key_pem = _private_pem(self.key)
        self.serial_no = secrets.token_hex(20).upper()
        self.apiv3_key = secrets.token_hex(16)
        self.appids = set()
        self.partner = False
        self.sub_merchants = {}  # sub_mchid -> set of sub_appids


class PayV3State:
    """The fake's v3 side: WeChat Pay's own keys (made once, at the first v3 use) and the merchants' keys."""

    def __init__(self):
        self.merchants = {}
        self.bad_signatures = 0
        self.unsigned = False
        # token -> (mchid, bill file bytes) of /v3/bill/tradebill, downloaded once
        self.bill_files = {}
        self._keys = None

    def keys(self):
        if self._keys is None:
            pub_key = _rsa_key()
            cert_key = _rsa_key()
            now = datetime.datetime.now(datetime.timezone.utc)
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tenpay.com Root CA (fake)")])
            cert = (
                x509.CertificateBuilder()
                .subject_name(name)
                .issuer_name(name)
                .public_key(cert_key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=5 * 365))
                .sign(cert_key, hashes.SHA256())
            )
            self._keys = {
                "public_key": pub_key,
                "public_key_id": f"PUB_KEY_ID_{secrets.token_hex(16).upper()}",
                "cert_key": cert_key,
                "cert": cert,
                "cert_serial": format(cert.serial_number, "X"),
            }
        return self._keys


# -- signatures ---------------------------------------------------------------
def _check_request(fake, req):
    """The merchant of a correctly signed request, else ``(None, 401 reply)``."""
    header = req.headers.get("Authorization") or ""
    scheme, _, rest = header.partition(" ")
    items = dict(_AUTH_ITEM_RE.findall(rest))
    merchant = fake.payments_v3.merchants.get(items.get("mchid") or "")
    detail = None
    if scheme != SIGN_TYPE or not all(items.get(k) for k in ("mchid", "nonce_str", "signature", "timestamp")):
        detail = "missing or malformed Authorization header"
    elif merchant is None:
        detail = f"unknown mchid {items['mchid']}"
    elif items.get("serial_no", "").upper() != merchant.serial_no:
        detail = f"serial_no {items.get('serial_no')} is not the merchant's API certificate"
    else:
        target = getattr(req, "target", None) or req.path
        body = req.body.decode("utf-8") if req.body else ""
        message = f"{req.method}\n{target}\n{items['timestamp']}\n{items['nonce_str']}\n{body}\n"
        try:
            merchant.key.public_key().verify(
                base64.b64decode(items["signature"]), message.encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except (InvalidSignature, ValueError):
            detail = "bad request signature"
    if detail:
        fake.violation("v3_request_signature", f"{req.method} {req.path}: {detail}")
        code, msg = "SIGN_ERROR", V3_ERR["SIGN_ERROR"][1]
        body = json.dumps({"code": code, "message": msg}, ensure_ascii=False)
        return None, Reply(body, 401, "application/json; charset=utf-8", errcode=code)
    req.v3_merchant = merchant
    return merchant, None


def _answer(fake, req, status, data, errcode=0):
    """A JSON answer signed as WeChat Pay signs it (or badly, when the switch is on)."""
    state = fake.payments_v3
    keys = state.keys()
    body = json.dumps(data, ensure_ascii=False) if data is not None else ""
    if (req.headers.get("Wechatpay-Serial") or "") == keys["public_key_id"]:
        key, serial = keys["public_key"], keys["public_key_id"]
    else:
        key, serial = keys["cert_key"], keys["cert_serial"]
    timestamp = str(int(time.time()))
    nonce = secrets.token_hex(16)
    message = f"{timestamp}\n{nonce}\n{body}\n"
    headers = {"Request-ID": secrets.token_hex(12)}
    if state.bad_signatures > 0:
        state.bad_signatures -= 1
        if state.unsigned:
            return Reply(body, status, "application/json; charset=utf-8", headers=headers, errcode=errcode)
        message += "tampered"
    headers.update(
        {
            "Wechatpay-Signature": _sign(key, message),
            "Wechatpay-Timestamp": timestamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Serial": serial,
            "Wechatpay-Signature-Type": SIGN_TYPE,
        }
    )
    return Reply(body, status, "application/json; charset=utf-8", headers=headers, errcode=errcode)


def _err(fake, req, code, message=None):
    status, default = V3_ERR.get(code, (400, code))
    return _answer(fake, req, status, {"code": code, "message": message or default}, errcode=code)


def injected_reply(fake, req, errcode, errmsg=None):
    """Fault injection on a v3 path: a str errcode is a signed business error."""
    if isinstance(errcode, str):
        return _err(fake, req, errcode, errmsg)
    return _answer(fake, req, 500, {"code": "SYSTEM_ERROR", "message": errmsg or f"injected failure {errcode}"})


# -- merchants and ids ---------------------------------------------------------
def _json(req):
    try:
        data = json.loads(req.body.decode("utf-8")) if req.body else {}
    except (UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _signed_json(fake, req):
    """``(merchant, body, None)`` of a correctly signed request with a JSON object body, else ``(.., .., reply)``."""
    merchant, error = _check_request(fake, req)
    if error:
        return None, None, error
    data = _json(req)
    if data is None:
        return merchant, None, _err(fake, req, "PARAM_ERROR", "body is not a JSON object")
    return merchant, data, None


def _direct_account(fake, req, merchant, appid):
    """The fake account of a direct merchant's appid, else ``(None, error)``."""
    acc = fake.accounts.get(appid or "")
    if acc is None or not (appid in merchant.appids or acc.mch_id == merchant.mchid):
        return None, _err(fake, req, "APPID_MCHID_NOT_MATCH")
    return acc, None


def _partner_ids(fake, req, merchant, sp_mchid, sub_mchid, sp_appid=None, sub_appid=None, need_appid=False):
    """Check the service-provider ids of a partner call; returns ``(sub-merchant account or None, error)``."""
    problem = None
    if not merchant.partner or sp_mchid != merchant.mchid:
        problem = f"sp_mchid {sp_mchid} is not the signing service provider {merchant.mchid}"
    elif sub_mchid not in merchant.sub_merchants:
        problem = f"sub_mchid {sub_mchid} is not a sub-merchant of {merchant.mchid}"
    elif need_appid and sp_appid not in merchant.appids:
        problem = f"sp_appid {sp_appid} is not bound to service provider {merchant.mchid}"
    elif sub_appid and sub_appid not in merchant.sub_merchants[sub_mchid]:
        problem = f"sub_appid {sub_appid} is not bound to sub-merchant {sub_mchid}"
    if problem:
        fake.violation("v3_partner_ids", problem, sub_appid or sp_appid)
        return None, _err(fake, req, "APPID_MCHID_NOT_MATCH" if "appid" in problem else "PARAM_ERROR", problem)
    acc = fake.accounts.get(sub_appid) if sub_appid else None
    return acc, None


def _rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(t + BEIJING_OFFSET))


def _transaction(order, full=True):
    """An order as v3 shows it (``payer.openid`` direct, ``payer.sub_openid`` partner)."""
    partner = getattr(order, "sp_mchid", None)
    if partner:
        data = {
            "sp_appid": order.sp_appid,
            "sp_mchid": order.sp_mchid,
            "sub_mchid": order.mch_id,
        }
        if order.sub_appid:
            data["sub_appid"] = order.sub_appid
    else:
        data = {"appid": order.appid, "mchid": order.mch_id}
    data.update(
        {
            "out_trade_no": order.out_trade_no,
            "trade_type": order.trade_type,
            "trade_state": order.state,
            "trade_state_desc": pay_v2.TRADE_STATE_DESC[order.state],
        }
    )
    if not full:
        return data
    payer = {}
    if partner:
        payer["sp_openid"] = "osp" + hashlib.sha1(f"{order.sp_appid}:{order.openid}".encode()).hexdigest()[:25]
        if order.sub_appid:
            payer["sub_openid"] = order.openid
    else:
        payer["openid"] = order.openid
    data.update(
        {
            "transaction_id": order.transaction_id,
            "bank_type": "OTHERS",
            "payer": payer,
            "amount": {
                "total": order.total_fee,
                "currency": "CNY",
                "payer_total": order.total_fee,
                "payer_currency": "CNY",
            },
        }
    )
    if order.attach:
        data["attach"] = order.attach
    if order.time_end:
        data["success_time"] = _rfc3339(order.paid_at)
    return data


# -- endpoints -------------------------------------------------------------------
def _codepay_ids(fake, req, merchant, data, partner):
    """``(fake account of the payer's appid or None, mch_id owning the order, appid, error)``."""
    if partner:
        acc, error = _partner_ids(
            fake,
            req,
            merchant,
            data.get("sp_mchid"),
            data.get("sub_mchid"),
            data.get("sp_appid"),
            data.get("sub_appid"),
            need_appid=True,
        )
        return acc, data.get("sub_mchid"), data.get("sub_appid") or data.get("sp_appid"), error
    if data.get("mchid") != merchant.mchid:
        return None, None, None, _err(fake, req, "PARAM_ERROR", "mchid is not the signing merchant")
    acc, error = _direct_account(fake, req, merchant, data.get("appid"))
    return acc, merchant.mchid, data.get("appid"), error


def _codepay_param_error(fake, req, data):
    amount = data.get("amount") or {}
    payer = data.get("payer") or {}
    for field, value in (
        ("description", data.get("description")),
        ("out_trade_no", data.get("out_trade_no")),
        ("amount.total", amount.get("total")),
        ("payer.auth_code", payer.get("auth_code")),
        ("scene_info", data.get("scene_info")),
    ):
        if not value:
            return _err(fake, req, "PARAM_ERROR", f"missing {field}")
    if not isinstance(amount["total"], int) or amount["total"] <= 0:
        return _err(fake, req, "PARAM_ERROR", "invalid amount.total")
    if not pay_v2.AUTH_CODE_RE.match(payer["auth_code"]):
        return _err(fake, req, "AUTH_CODE_INVALID")
    return None


def _codepay(fake, req, partner):
    merchant, data, error = _signed_json(fake, req)
    if error:
        return error
    acc, mch_id, appid, error = _codepay_ids(fake, req, merchant, data, partner)
    error = error or _codepay_param_error(fake, req, data)
    if error:
        return error
    amount, payer = data["amount"], data["payer"]
    code = payer["auth_code"]
    pay = fake.payments
    v2_data = {
        "out_trade_no": data["out_trade_no"],
        "auth_code": code,
        "total_fee": amount["total"],
        "body": data["description"],
        "attach": data.get("attach"),
        "device_info": (data.get("scene_info") or {}).get("device_id"),
    }
    order = pay.orders.get((mch_id, data["out_trade_no"]))
    if order is not None:
        return _repeat(fake, req, order, v2_data)
    if code in pay.used_codes:
        return _err(fake, req, "AUTHCODE_EXPIRE")
    pay.used_codes.add(code)
    script = pay.scripts.pop(code, None) or pay_v2.PayScript()
    if script.outcome == "AUTHCODEEXPIRE":
        return _err(fake, req, "AUTHCODE_EXPIRE")
    if acc is not None:
        openid = pay_v2._payer(fake, acc, code, script)
    else:  # a partner charge without sub_appid: only the provider's own openid exists
        openid = script.openid or "o" + secrets.token_hex(13)
    txn = "4200002%03d%s%010d" % (len(appid or "") % 1000, time.strftime("%Y%m%d"), fake.next_id("txn"))
    order = pay_v2.PayOrder(appid, mch_id, v2_data, txn, openid, fake.now())
    order.api = "v3"
    order.paid_at = None
    if partner:
        order.sp_mchid, order.sp_appid, order.sub_appid = merchant.mchid, data.get("sp_appid"), data.get("sub_appid")
    order.is_subscribe = "Y" if acc is not None and acc.is_follower(openid) else "N"
    order.recall_left = script.recall
    order.reverse_userpaying_left = script.reverse_userpaying
    pay.orders[(mch_id, order.out_trade_no)] = order
    pay.by_txn[txn] = order
    outcome = script.outcome
    if outcome == "SUCCESS":
        _mark_paid(fake, order)
        return _answer(fake, req, 200, _transaction(order))
    if outcome in ("USERPAYING", "USERPAYING_FOREVER"):
        order.state = "USERPAYING"
        order.userpaying_left = script.userpaying_queries if outcome == "USERPAYING" else None
        return _err(fake, req, "USERPAYING")
    if outcome in ("SYSTEMERROR", "BANKERROR"):  # charged behind the merchant's back
        _mark_paid(fake, order)
        order.err_code = outcome
        return _err(fake, req, V2_TO_V3[outcome])
    order.state = "PAYERROR"
    order.err_code = "SYSTEMERROR" if outcome == "SYSTEMERROR_UNCHARGED" else outcome
    return _err(fake, req, V2_TO_V3.get(order.err_code, order.err_code))


def _mark_paid(fake, order):
    pay_v2._mark_paid(fake, None, order)
    order.paid_at = fake.now()


def _repeat(fake, req, order, data):
    code = pay_v2.repeat_code(fake, order, data, order.appid, api="codepay")
    return _err(fake, req, V2_TO_V3.get(code, code))


def codepay(fake, req):
    return _codepay(fake, req, partner=False)


def partner_codepay(fake, req):
    return _codepay(fake, req, partner=True)


def _find_order(fake, req, out_trade_no, partner, ids):
    """``(order, error)`` for a query / reverse of ``out_trade_no``, after the merchant checks."""
    merchant = req.v3_merchant
    if partner:
        _acc, error = _partner_ids(
            fake,
            req,
            merchant,
            ids.get("sp_mchid"),
            ids.get("sub_mchid"),
            ids.get("sp_appid"),
            ids.get("sub_appid"),
            need_appid="sp_appid" in ids,
        )
        if error:
            return None, error
        mch_id = ids.get("sub_mchid")
    else:
        if ids.get("mchid") != merchant.mchid:
            return None, _err(fake, req, "PARAM_ERROR", "mchid is not the signing merchant")
        mch_id = merchant.mchid
    order = fake.payments.orders.get((mch_id, out_trade_no))
    if order is None:
        return None, _err(fake, req, "ORDER_NOT_EXIST")
    return order, None


def _query(fake, req, out_trade_no, partner):
    _merchant, error = _check_request(fake, req)
    if error:
        return error
    order, error = _find_order(fake, req, out_trade_no, partner, req.query)
    if error:
        return error
    if order.state == "USERPAYING" and order.userpaying_left is not None:
        if order.userpaying_left > 0:
            order.userpaying_left -= 1
        else:
            _mark_paid(fake, order)
    paid = order.state in ("SUCCESS", "REFUND") or (order.state == "REVOKED" and order.time_end)
    return _answer(fake, req, 200, _transaction(order, full=bool(paid)))


def _reverse(fake, req, out_trade_no, partner):
    _merchant, data, error = _signed_json(fake, req)
    if error:
        return error
    order, error = _find_order(fake, req, out_trade_no, partner, data)
    if error:
        return error
    if not partner and data.get("appid") != order.appid:
        return _err(fake, req, "APPID_MCHID_NOT_MATCH")
    now = fake.now()
    if now - order.created < pay_v2.REVERSE_MIN_AGE:
        fake.violation(
            "reverse_too_early",
            "reverse of %s %.0f s after the order (wait >= %d s)"
            % (order.out_trade_no, now - order.created, pay_v2.REVERSE_MIN_AGE),
            order.appid,
        )
    if order.state == "REFUND" or now - order.created > pay_v2.REVERSE_MAX_AGE:
        return _err(fake, req, "REVERSE_EXPIRE")
    if order.state == "USERPAYING" and order.reverse_userpaying_left > 0:
        order.reverse_userpaying_left -= 1
        return _err(fake, req, "USERPAYING", "用户正在支付中，不能撤销")
    if order.recall_left > 0:  # v3 has no recall flag: the reverse is not done yet, call again
        order.recall_left -= 1
        return _err(fake, req, "SYSTEM_ERROR")
    if order.state == "SUCCESS":
        pay_v2._record_refund(fake, order, order.total_fee, "reverse", None)
    order.state = "REVOKED"
    ids = ("sp_mchid", "sub_mchid", "sp_appid", "sub_appid") if partner else ("appid", "mchid")
    answer = {k: data[k] for k in ids if data.get(k)}
    answer["out_trade_no"] = order.out_trade_no
    return _answer(fake, req, 200, answer)


def _refund_view(order, refund):
    return {
        "refund_id": refund["refund_id"],
        "out_refund_no": refund["out_refund_no"],
        "transaction_id": order.transaction_id,
        "out_trade_no": order.out_trade_no,
        "channel": "ORIGINAL",
        "user_received_account": "支付用户零钱",
        "create_time": _rfc3339(refund["t"]),
        **({"success_time": _rfc3339(refund["success_t"])} if refund.get("success_t") else {}),
        "status": V3_REFUND_STATUS[refund["refund_status"]],
        "funds_account": "AVAILABLE",
        "amount": {
            "total": order.total_fee,
            "refund": refund["refund_fee"],
            "payer_total": order.total_fee,
            "payer_refund": refund["refund_fee"],
            "settlement_refund": refund["refund_fee"],
            "settlement_total": order.total_fee,
            "discount_refund": 0,
            "currency": "CNY",
        },
    }


def _refund_owner(fake, req, data):
    """The merchant id owning the refunded orders (``sub_mchid`` for a service provider), else an error."""
    merchant = req.v3_merchant
    if merchant.partner:
        sub_mchid = data.get("sub_mchid")
        _acc, error = _partner_ids(fake, req, merchant, merchant.mchid, sub_mchid)
        return sub_mchid, error
    return merchant.mchid, None


def refund(fake, req):
    _merchant, data, error = _signed_json(fake, req)
    if error:
        return error
    mch_id, error = _refund_owner(fake, req, data)
    if error:
        return error
    pay = fake.payments
    if data.get("transaction_id"):
        order = pay.by_txn.get(data["transaction_id"])
    else:
        order = pay.orders.get((mch_id, data.get("out_trade_no") or ""))
    if order is None or order.mch_id != mch_id:
        return _err(fake, req, "RESOURCE_NOT_EXISTS", "订单不存在")
    amount = data.get("amount") or {}
    out_refund_no = data.get("out_refund_no")
    fee = amount.get("refund")
    if not out_refund_no or not isinstance(fee, int) or fee <= 0 or amount.get("total") != order.total_fee:
        return _err(fake, req, "PARAM_ERROR")
    done = pay.refunds_by_no.get((mch_id, out_refund_no))
    if done is None:
        # The v2 refund rules (pay.refund): state, one-year limit, over-refund, scripts (fake.refund_script).
        if order.state not in ("SUCCESS", "REFUND"):
            return _err(fake, req, "TRADE_STATE_ERROR")
        if fake.now() - order.created > pay_v2.REFUND_MAX_AGE:
            return _err(fake, req, "INVALID_REQUEST", "订单已超过退款期限")
        if order.refunded + fee > order.total_fee:
            fake.violation(
                "over_refund",
                f"refund of {fee} fen for {order.out_trade_no}: {order.refunded} of {order.total_fee} already refunded",
                order.appid,
            )
            return _err(fake, req, "INVALID_REQUEST", "申请退款金额超过订单可退金额")
        script = pay_v2._refund_script(pay, order)
        if script.outcome == "NOTENOUGH":
            return _err(fake, req, "NOT_ENOUGH", "基本账户余额不足")
        done = pay_v2._record_refund(fake, order, fee, data.get("reason") or "refund", out_refund_no)
        done["outcome"] = "SUCCESS" if script.outcome == "SYSTEMERROR" else script.outcome
        done["processing_left"] = script.processing_queries
        pay.refunds_by_no[(mch_id, out_refund_no)] = done
        order.state = "REFUND"
        if script.outcome == "SYSTEMERROR":  # accepted behind the merchant's back: query with the same number
            return _err(fake, req, "SYSTEM_ERROR")
    elif done["refund_fee"] != fee or done["out_trade_no"] != order.out_trade_no:
        return _err(fake, req, "INVALID_REQUEST", "退款单号已用于另一笔退款")
    return _answer(fake, req, 200, _refund_view(order, done))


def refund_query(fake, req, out_refund_no):
    _merchant, error = _check_request(fake, req)
    if error:
        return error
    mch_id, error = _refund_owner(fake, req, req.query)
    if error:
        return error
    done = fake.payments.refunds_by_no.get((mch_id, out_refund_no))
    if done is None:
        return _err(fake, req, "RESOURCE_NOT_EXISTS")
    order = fake.payments.orders[(mch_id, done["out_trade_no"])]
    pay_v2._advance_refund(fake, order, done)
    if done["refund_status"] == "SUCCESS" and not done.get("success_t"):
        done["success_t"] = fake.now()
    return _answer(fake, req, 200, _refund_view(order, done))


def certificates(fake, req):
    merchant, error = _check_request(fake, req)
    if error:
        return error
    keys = fake.payments_v3.keys()
    cert_pem = keys["cert"].public_bytes(serialization.Encoding.PEM)
    nonce = secrets.token_hex(6)
    ciphertext = AESGCM(merchant.apiv3_key.encode()).encrypt(nonce.encode(), cert_pem, b"certificate")
    cert = keys["cert"]
    item = {
        "serial_no": keys["cert_serial"],
        "effective_time": cert.not_valid_before_utc.isoformat(),
        "expire_time": cert.not_valid_after_utc.isoformat(),
        "encrypt_certificate": {
            "algorithm": "AEAD_AES_256_GCM",
            "nonce": nonce,
            "associated_data": "certificate",
            "ciphertext": base64.b64encode(ciphertext).decode(),
        },
    }
    return _answer(fake, req, 200, {"data": [item]})


def tradebill(fake, req):
    """``GET /v3/bill/tradebill``: the day's bill (the v2 bill's CSV, pay_bill.trade_bill_csv) to download.

    Answers ``download_url`` (valid once, as WeChat's 30 s token), ``hash_type`` SHA1 and ``hash_value`` of
    the file; ``NO_STATEMENT_EXIST`` for a day without trades (or not published yet), ``INVALID_REQUEST``
    for a bill of today, a future day or one older than three months.
    """
    merchant, error = _check_request(fake, req)
    if error:
        return error
    query = req.query
    if (query.get("bill_type") or "ALL") != "ALL":
        return _err(fake, req, "PARAM_ERROR", "bill_type")
    mch_id = merchant.mchid
    if merchant.partner:
        if not query.get("sub_mchid"):
            return _err(fake, req, "PARAM_ERROR", "sub_mchid")
        mch_id, error = _refund_owner(fake, req, query)
        if error:
            return error
    day = (query.get("bill_date") or "").replace("-", "")
    refused = pay_bill.bill_date_error(fake, day)
    if refused and refused[0] == "No Bill Exist":
        return _err(fake, req, "NO_STATEMENT_EXIST", "账单不存在")
    if refused:
        return _err(fake, req, "INVALID_REQUEST", refused[0])
    text = pay_bill.trade_bill_csv(fake, mch_id, day)
    if text is None:
        return _err(fake, req, "NO_STATEMENT_EXIST", "账单不存在")
    data = text.encode("utf-8")
    if (query.get("tar_type") or "") == "GZIP":
        data = gzip.compress(data)
    token = secrets.token_urlsafe(16)
    fake.payments_v3.bill_files[token] = (mch_id, data)
    return _answer(
        fake,
        req,
        200,
        {
            "hash_type": "SHA1",
            "hash_value": hashlib.sha1(data).hexdigest(),
            "download_url": f"{fake.url}/v3/billdownload/file?token={token}",
        },
    )


def billdownload(fake, req):
    """``GET /v3/billdownload/file?token=``: the bill file (signed request; the file itself is not signed)."""
    merchant, error = _check_request(fake, req)
    if error:
        return error
    found = fake.payments_v3.bill_files.pop(req.query.get("token") or "", None)
    if found is None:
        return _err(fake, req, "INVALID_REQUEST", "token")
    mch_id, data = found
    if mch_id != merchant.mchid and not merchant.partner:
        return _err(fake, req, "NO_AUTH")
    return Reply(data, 200, "application/octet-stream")


ROUTES = [
    ("POST", "/v3/pay/transactions/codepay", codepay),
    ("POST", "/v3/pay/partner/transactions/codepay", partner_codepay),
    ("POST", "/v3/refund/domestic/refunds", refund),
    ("GET", "/v3/certificates", certificates),
    ("GET", "/v3/bill/tradebill", tradebill),
    ("GET", "/v3/billdownload/file", billdownload),
]
# Paths with a parameter: (method, regex, handler(fake, req, *groups)).
PATTERN_ROUTES = [
    ("GET", re.compile(r"^/v3/pay/transactions/out-trade-no/([^/]+)$"), lambda f, r, no: _query(f, r, no, False)),
    (
        "GET",
        re.compile(r"^/v3/pay/partner/transactions/out-trade-no/([^/]+)$"),
        lambda f, r, no: _query(f, r, no, True),
    ),
    (
        "POST",
        re.compile(r"^/v3/pay/transactions/out-trade-no/([^/]+)/reverse$"),
        lambda f, r, no: _reverse(f, r, no, False),
    ),
    (
        "POST",
        re.compile(r"^/v3/pay/partner/transactions/out-trade-no/([^/]+)/reverse$"),
        lambda f, r, no: _reverse(f, r, no, True),
    ),
    ("GET", re.compile(r"^/v3/refund/domestic/refunds/([^/]+)$"), refund_query),
]


def match(path):
    """``(methods, args)`` of the parameterised route matching ``path``, else ``(None, None)``."""
    methods, args = {}, None
    for method, regex, fn in PATTERN_ROUTES:
        found = regex.match(path)
        if found:
            methods[method] = fn
            args = found.groups()
    return (methods, args) if methods else (None, None)
