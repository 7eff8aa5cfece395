"""WeChat Pay v2 JSAPI (公众号支付) and NATIVE orders: ``POST /pay/unifiedorder``,
``POST /pay/closeorder``, the member's payment inside WeChat (``wx.chooseWXPay`` through
the JS-SDK stand-in, see api_jssdk.py, or ``fake.pay_jsapi`` without a browser) and the
payment result notification (支付结果通知) POSTed to the order's ``notify_url``.
Orders live in the v2 ledger of pay.py, so ``/pay/orderquery``, ``/secapi/pay/refund``,
``/pay/refundquery`` and the bills serve them too.

Real-platform rules mimicked (v2 统一下单, 关闭订单, JSAPI调起支付 and 支付结果通知 pages):
- signed XML like every v2 call (bad signature: ``return_code FAIL`` ``sign error``);
  ``sign_type`` MD5 (default) or HMAC-SHA256, and the answer is signed the same way;
- required ``body``, ``out_trade_no`` (at most 32 of digits, letters and ``_-|*``),
  ``total_fee`` (integer fen >= 1), ``spbill_create_ip``, ``notify_url``, ``trade_type``:
  a missing one answers ``LACK_PARAMS`` (缺少参数), a malformed one ``PARAM_ERROR``;
- ``trade_type=JSAPI`` needs ``openid``, a user of that appid (else ``PARAM_ERROR``
  ``JSAPI支付必须传openid`` / ``appid和openid不匹配``; v2 has also been reported answering
  ``return_code FAIL`` ``appid and openid not match``: a product should handle both);
  ``NATIVE`` needs ``product_id`` and answers a ``code_url``
  (``weixin://wxpay/bizpayurl?pr=…``); other trade types
  (APP, MWEB, …) are not served (``PARAM_ERROR``);
- ``time_expire`` (``yyyyMMddHHmmss``, Beijing time) must be at least 1 minute after the
  call (the v2 page: 建议最短失效时间间隔大于1分钟; the fake refuses shorter with
  ``PARAM_ERROR``);
- the answer carries ``prepay_id`` (``wx`` + Beijing time + 20 hex), valid 2 hours
  (``code_url`` too): then the merchant must call ``unifiedorder`` again;
- the same ``out_trade_no`` again (re-entry) with the same parameters -- all but
  ``nonce_str``, ``sign``, ``sign_type`` and ``spbill_create_ip``, so ``time_start`` and
  ``time_expire`` count (wechatpy's ``order.create`` fills both with the current time
  unless given) -- answers the same ``prepay_id`` while it is valid, a new one after
  the 2 hours (the old one is dead); other parameters, or a number used by a micropay:
  ``INVALID_REQUEST`` ``201 商户订单号重复``; a paid order: ``ORDERPAID``; a closed one:
  ``ORDERCLOSED``;
- ``notify_url`` must carry no query string (通知url必须为直接可访问的url，不能携带参数):
  violation ``pay_notify_url_query`` (the order is placed, the URL used as given);
- ``orderquery`` of an unpaid order answers ``NOTPAY`` with ``out_trade_no`` and
  ``attach`` only; paid: ``SUCCESS`` with ``trade_type``, ``openid``, ``is_subscribe``,
  ``bank_type``, ``total_fee``, ``cash_fee``, ``transaction_id``, ``time_end``;
- an order whose ``time_expire`` has passed cannot be paid (该订单已过期，请重新下单) but
  stays ``NOTPAY`` in ``orderquery`` (WeChat Pay staff on the developer community: it
  shows 未支付, and 已关闭 only after ``closeorder``): the merchant closes it;
- ``closeorder``: an unpaid order becomes ``CLOSED`` and cannot be paid any more; a paid
  one answers ``ORDERPAID``, a closed one ``ORDERCLOSED``; an unknown ``out_trade_no``
  answers ``SUCCESS`` (WeChat does not check it, developer community); the docs say not
  to close within 5 minutes of the order (violation ``closeorder_too_early``; the order
  is closed all the same);
- ``wx.chooseWXPay({timestamp, nonceStr, package: "prepay_id=…", signType, paySign})``
  works only after a good ``wx.config`` naming it in ``jsApiList`` (violation
  ``jssdk_api_not_declared``); ``paySign`` is the v2 signature of ``appId`` (the page's,
  which must be the order's), ``timeStamp`` (capital S: the JS-SDK takes it as
  ``timestamp``), ``nonceStr``, ``package``, ``signType`` (the unifiedorder's sign type)
  with the merchant key (else violation ``bad_pay_sign``, ``chooseWXPay:fail
  支付验证签名失败``); a ``prepay_id`` unknown, of another appid or not JSAPI fails with
  the docs' ``调用支付JSAPI缺少参数：total_fee``; an expired ``prepay_id`` or ``time_expire``
  with ``该订单已过期，请重新下单``; when the merchant's 支付授权目录 are set
  (``fake.set_pay_auth_dirs``) the page's directory (its URL up to the last ``/`` of the
  path) must be one of them exactly -- a sub-directory does not pay -- or a registered
  domain root (``https://host/``: 现在已经支持配置根目录) (violation
  ``pay_dir_not_registered``, ``当前页面的URL未注册``); the payer is the session's user and
  must be the order's ``openid``; a paid or closed order fails.  The user's choice
  (``window.FAKEWECHAT_PAY_CHOICE``: ``cancel`` or ``fail``) answers
  ``chooseWXPay:cancel`` / ``chooseWXPay:fail`` and pays nothing; otherwise
  ``chooseWXPay:ok``: the order is paid (``is_subscribe`` Y when the payer follows the
  appid's account; a payment opens no customer-service grant) and notified;
- the notification: XML POST to ``notify_url`` (no query parameters, no WeChat callback
  signature) with ``return_code``, ``appid``, ``mch_id``, ``device_info``, ``nonce_str``,
  ``sign`` (merchant key, the order's sign type; ``sign_type`` sent when HMAC-SHA256),
  ``result_code``, ``openid``, ``is_subscribe``, ``trade_type``, ``bank_type``,
  ``total_fee``, ``cash_fee``, ``fee_type``, ``transaction_id``, ``out_trade_no``,
  ``attach``, ``time_end``.  The merchant must answer ``<xml><return_code>SUCCESS
  </return_code><return_msg>OK</return_msg></xml>``; anything else (not 200, no answer
  within ``fake.pay_notify_timeout`` s, a body without ``return_code`` SUCCESS -- plain
  ``success`` too) is a failure and the notification is sent again after 15s/15s/30s/3m/
  10m/20m/30m/30m/30m/60m/3h/3h/3h/6h/6h (总计 24h4m: the first delivery and 15 retries;
  ``fake.pay_notify_delays``, real seconds: scale them in tests), then never again.
  Every attempt is recorded in ``fake.pay_notifications``.  The same notification may
  arrive more than once, and a forged one may arrive: the merchant verifies the
  signature and the amount (特别提醒 of the page); tests inject both with
  ``fake.pay_notify(out_trade_no, mode)`` (``duplicate``, ``bad_sign``, ``bad_amount``).

Texts: ``201 商户订单号重复``, ``缺少参数``, ``商户订单已支付``, ``订单已关闭``, ``appid和openid不匹配``,
``调用支付JSAPI缺少参数：total_fee``, ``该订单已过期，请重新下单``, ``支付验证签名失败`` and
``当前页面的URL未注册`` are WeChat's (docs and developer reports); the other ``err_code_des`` and
``chooseWXPay:fail`` details (malformed fields, a paid or closed order, another payer) are the
fake's: a product matches ``err_code`` / the ``errMsg`` prefix, never those texts.
"""

import calendar
import re
import string
import time
from urllib.parse import urlsplit

import requests
from wechatpy.pay.utils import dict_to_xml

from .clock import BEIJING_OFFSET, beijing_compact
from .crypto import pay_sign
from .pay import PayOrder, _err, _mark_paid, _parse, _reply
from .xmlutil import parse_xml

PREPAY_TTL = 2 * 3600
TIME_EXPIRE_MIN = 60
CLOSE_MIN_AGE = 5 * 60
# 支付结果通知: the waits before each retry (seconds); 1 + 15 deliveries over 24h4m.
PAY_NOTIFY_DELAYS = (15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600)
TRADE_TYPES = ("JSAPI", "NATIVE")
SIGN_TYPES = ("MD5", "HMAC-SHA256")
REQUIRED = ("body", "out_trade_no", "total_fee", "spbill_create_ip", "notify_url", "trade_type")
OUT_TRADE_NO_RE = re.compile(r"^[0-9A-Za-z_\-|*]{1,32}$")
TIME_RE = re.compile(r"^\d{14}$")
# Parameters that may change when the same out_trade_no is placed again.
REENTRY_FREE = ("appid", "mch_id", "nonce_str", "sign", "sign_type", "spbill_create_ip")
NOTIFY_MODES = ("notify", "duplicate", "bad_sign", "bad_amount")
NOTIFY_ACK = "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>"
PAY_CHOICES = ("ok", "cancel", "fail")

FAIL_NO_PREPAY = "调用支付JSAPI缺少参数：total_fee"
FAIL_EXPIRED = "该订单已过期，请重新下单"
FAIL_BAD_SIGN = "支付验证签名失败"
FAIL_DIR = "当前页面的URL未注册"
FAIL_PAID = "该订单已支付"
FAIL_CLOSED = "该订单已关闭"
FAIL_PAYER = "当前微信用户不是下单用户"

_ALNUM = string.ascii_letters + string.digits


def _nonce(fake, k=32):
    return "".join(fake.rng.choices(_ALNUM, k=k))


def parse_time_expire(value):
    """``yyyyMMddHHmmss`` in Beijing time -> epoch seconds; None when malformed."""
    if not TIME_RE.match(value or ""):
        return None
    try:
        return calendar.timegm(time.strptime(value, "%Y%m%d%H%M%S")) - BEIJING_OFFSET
    except ValueError:
        return None


def _new_prepay(fake, order, now):
    order.prepay_id = f"wx{beijing_compact(now)}{fake.rng.getrandbits(80):020x}"
    order.prepay_expires = now + PREPAY_TTL
    fake.payments.prepays[order.prepay_id] = order
    if order.trade_type == "NATIVE":
        order.code_url = "weixin://wxpay/bizpayurl?pr=" + _nonce(fake, 7)


def _prepay_reply(fake, acc, order, sign_type):
    fields = {
        "result_code": "SUCCESS",
        "device_info": order.device_info,
        "trade_type": order.trade_type,
        "prepay_id": order.prepay_id,
        "code_url": order.code_url,
    }
    return _reply(fake, acc, fields, sign_type=sign_type)


def _param_error(data):
    """``(err_code, err_code_des)`` of a unifiedorder whose fields are missing or malformed, else None."""
    for field in REQUIRED:
        if not data.get(field):
            return "LACK_PARAMS", f"缺少参数{field}"
    if not OUT_TRADE_NO_RE.match(data["out_trade_no"]):
        return "PARAM_ERROR", "out_trade_no参数格式错误"
    if not data["total_fee"].isdigit() or int(data["total_fee"]) < 1:
        return "PARAM_ERROR", "total_fee参数格式错误"
    if data.get("fee_type", "CNY") != "CNY":
        return "PARAM_ERROR", "fee_type参数错误"
    if data["trade_type"] not in TRADE_TYPES:
        return "PARAM_ERROR", "trade_type参数错误"
    parts = urlsplit(data["notify_url"])
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "PARAM_ERROR", "notify_url参数格式错误"
    if data["trade_type"] == "NATIVE" and not data.get("product_id"):
        return "PARAM_ERROR", "NATIVE支付必须传product_id"
    if data.get("time_expire") and parse_time_expire(data["time_expire"]) is None:
        return "PARAM_ERROR", "time_expire参数格式错误"
    return None


# -- endpoints ---------------------------------------------------------------------------------
def unifiedorder(fake, req):
    acc, data = _parse(fake, req)
    if acc is None:
        return data
    sign_type = data.get("sign_type") or "MD5"
    if sign_type not in SIGN_TYPES:
        return _err(fake, acc, "PARAM_ERROR", "sign_type参数错误")
    problem = _param_error(data)
    if problem:
        return _err(fake, acc, *problem, sign_type=sign_type)
    if data["trade_type"] == "JSAPI":
        if not data.get("openid"):
            return _err(fake, acc, "PARAM_ERROR", "JSAPI支付必须传openid", sign_type)
        if acc.user(data["openid"]) is None:
            return _err(fake, acc, "PARAM_ERROR", "appid和openid不匹配", sign_type)
    now = fake.now()
    pay = fake.payments
    params = {k: v for k, v in data.items() if k not in REENTRY_FREE and v}
    order = pay.orders.get((acc.mch_id, data["out_trade_no"]))
    if order is not None:
        if order.state in ("SUCCESS", "REFUND"):
            return _err(fake, acc, "ORDERPAID", "商户订单已支付", sign_type)
        if order.state in ("CLOSED", "REVOKED"):
            return _err(fake, acc, "ORDERCLOSED", "订单已关闭", sign_type)
        if not order.unified or order.appid != acc.appid or order.params != params:
            return _err(fake, acc, "INVALID_REQUEST", "201 商户订单号重复", sign_type)
        order.sign_type = sign_type
        if now >= order.prepay_expires:
            _new_prepay(fake, order, now)
        return _prepay_reply(fake, acc, order, sign_type)
    expire = parse_time_expire(data["time_expire"]) if data.get("time_expire") else None
    if expire is not None and expire < now + TIME_EXPIRE_MIN:
        return _err(fake, acc, "PARAM_ERROR", "time_expire时间过短，最短失效时间间隔需大于1分钟", sign_type)
    if urlsplit(data["notify_url"]).query:
        fake.violation(
            "pay_notify_url_query",
            f"unifiedorder {data['out_trade_no']}: notify_url {data['notify_url']} carries a query string",
            acc.appid,
        )
    order = PayOrder(
        acc.appid, acc.mch_id, dict(data, sign_type=sign_type), None, data.get("openid"), now, data["trade_type"]
    )
    order.time_expire = expire
    order.params = params
    pay.orders[(acc.mch_id, order.out_trade_no)] = order
    _new_prepay(fake, order, now)
    return _prepay_reply(fake, acc, order, sign_type)


def closeorder(fake, req):
    acc, data = _parse(fake, req)
    if acc is None:
        return data
    sign_type = data.get("sign_type") or "MD5"
    if not data.get("out_trade_no"):
        return _err(fake, acc, "PARAM_ERROR", "缺少参数out_trade_no", sign_type)
    order = fake.payments.orders.get((acc.mch_id, data["out_trade_no"]))
    ok = {"result_code": "SUCCESS", "result_msg": "OK"}
    if order is None:  # WeChat does not check the number
        return _reply(fake, acc, ok, sign_type=sign_type)
    now = fake.now()
    if now - order.created < CLOSE_MIN_AGE:
        fake.violation(
            "closeorder_too_early",
            "closeorder of %s %.0f s after the order (wait >= %d s)"
            % (order.out_trade_no, now - order.created, CLOSE_MIN_AGE),
            acc.appid,
        )
    if order.state in ("SUCCESS", "REFUND"):
        return _err(fake, acc, "ORDERPAID", "订单已支付", sign_type)
    if order.state in ("CLOSED", "REVOKED"):
        return _err(fake, acc, "ORDERCLOSED", "订单已关闭", sign_type)
    order.state = "CLOSED"
    order.closed_at = now
    return _reply(fake, acc, ok, sign_type=sign_type)


# -- the payment -------------------------------------------------------------------------------
def payable_error(fake, order, prepay_id=None):
    """Why ``order`` cannot be paid now (with ``prepay_id``: through that one), or None."""
    now = fake.now()
    if order.state in ("SUCCESS", "REFUND"):
        return FAIL_PAID
    if order.state in ("CLOSED", "REVOKED"):
        return FAIL_CLOSED
    if not order.unified or order.state != "NOTPAY":
        return FAIL_NO_PREPAY
    if order.time_expire is not None and now >= order.time_expire:
        return FAIL_EXPIRED
    if (prepay_id or order.prepay_id) != order.prepay_id or now >= order.prepay_expires:
        return FAIL_EXPIRED
    return None


def page_in_dirs(url, dirs):
    """True when the page ``url`` may pay under the payment directories ``dirs``: its directory is one
    of them, or one of them is the root of its host."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    directory = origin + parts.path[: parts.path.rfind("/") + 1] if "/" in parts.path else origin + "/"
    return any(d == directory or d == origin + "/" for d in dirs)


def charge(fake, acc, order, openid=None, bank_type="OTHERS"):
    """The payer pays the unified ``order`` (caller holds the lock and checked ``payable_error``);
    the notification is scheduled.  NATIVE: ``openid`` (or a new user) scanned the code."""
    now = fake.now()
    payer = order.openid or openid or acc.new_openid()
    acc.ensure_user(payer)
    order.openid = payer
    order.transaction_id = "4200001%03d%s%010d" % (len(acc.appid) % 1000, beijing_compact(now)[:8], fake.next_id("txn"))
    fake.payments.by_txn[order.transaction_id] = order
    order.is_subscribe = "Y" if acc.is_follower(payer) else "N"
    order.bank_type = bank_type
    _mark_paid(fake, acc, order)
    fake.schedule(fake.async_delay, deliver_notify, fake, order, 1, "notify")
    return order


def choose_wx_pay(fake, session, args):
    """``wx.chooseWXPay`` of a JS-SDK ``session`` (caller holds the lock): the answer dict."""
    appid = session["appid"]
    acc = fake.accounts[appid]

    def fail(why=""):
        return {"errMsg": f"chooseWXPay:fail {why}".rstrip()}

    missing = [k for k in ("timestamp", "nonceStr", "package", "paySign") if not args.get(k)]
    if missing:
        hint = " (wx.chooseWXPay takes timestamp in lower case)" if args.get("timeStamp") else ""
        return fail("missing " + ", ".join(missing) + hint)
    package = str(args["package"])
    prepay_id = package[len("prepay_id=") :] if package.startswith("prepay_id=") else ""
    order = fake.payments.prepays.get(prepay_id)
    if order is None or order.appid != appid or order.trade_type != "JSAPI":
        return fail(FAIL_NO_PREPAY)
    sign_type = str(args.get("signType") or "MD5")
    signed = {
        "appId": appid,
        "timeStamp": str(args["timestamp"]),
        "nonceStr": str(args["nonceStr"]),
        "package": package,
        "signType": sign_type,
    }
    if sign_type != order.sign_type:
        why = f"signType {sign_type} is not the unifiedorder's {order.sign_type}"
    elif str(args["paySign"]) != pay_sign(signed, acc.mch_key, sign_type):
        why = "paySign is not the signature of appId, timeStamp, nonceStr, package, signType with the merchant key"
    else:
        why = None
    if why:
        fake.violation("bad_pay_sign", f"wx.chooseWXPay for {order.out_trade_no}: {why}", appid)
        return fail(FAIL_BAD_SIGN)
    dirs = fake.payments.auth_dirs.get(order.mch_id)
    if dirs and not page_in_dirs(session["url"], dirs):
        fake.violation(
            "pay_dir_not_registered",
            f"wx.chooseWXPay on {session['url']}: not under the payment directories {', '.join(dirs)}",
            appid,
        )
        return fail(FAIL_DIR)
    if session["openid"] != order.openid:
        return fail(FAIL_PAYER)
    why = payable_error(fake, order, prepay_id)
    if why:
        return fail(why)
    choice = args.get("choice") or "ok"
    if choice not in PAY_CHOICES:
        return fail(f"bad fake choice {choice!r} (one of {', '.join(PAY_CHOICES)})")
    if choice == "cancel":
        return {"errMsg": "chooseWXPay:cancel"}
    if choice == "fail":
        return fail()
    charge(fake, acc, order)
    return {"errMsg": "chooseWXPay:ok"}


# -- the notification ----------------------------------------------------------------------------
def notify_fields(fake, acc, order, mode="notify", total_fee=None):
    """The fields of a payment result notification of ``order`` (before ``sign``).

    ``bad_amount`` changes ``total_fee`` / ``cash_fee`` (to ``total_fee``, default 1 fen, or 2 for a
    1 fen order); forged modes also work for an unpaid order (made-up ``transaction_id``)."""
    fee = order.total_fee
    if mode == "bad_amount":
        fee = int(total_fee) if total_fee is not None else (1 if order.total_fee > 1 else 2)
    now = fake.now()
    fields = {
        "return_code": "SUCCESS",
        "appid": order.appid,
        "mch_id": order.mch_id,
        "device_info": order.device_info,
        "nonce_str": _nonce(fake),
        "sign_type": order.sign_type if order.sign_type != "MD5" else None,
        "result_code": "SUCCESS",
        "openid": order.openid or acc.new_openid(),
        "is_subscribe": order.is_subscribe,
        "trade_type": order.trade_type,
        "bank_type": order.bank_type,
        "total_fee": fee,
        "fee_type": "CNY",
        "cash_fee": fee,
        "transaction_id": order.transaction_id or "4200001%03d%s%010d" % (0, beijing_compact(now)[:8], 9999999999),
        "out_trade_no": order.out_trade_no,
        "attach": order.attach,
        "time_end": order.time_end or beijing_compact(now),
    }
    return {k: str(v) for k, v in fields.items() if v not in (None, "")}


def acknowledged(status, text):
    """True when the merchant's answer is the XML ``return_code`` SUCCESS (HTTP 200)."""
    if status != 200:
        return False
    try:
        return parse_xml(text or "").get("return_code") == "SUCCESS"
    except ValueError:
        return False


def deliver_notify(fake, order, attempt=1, mode="notify", total_fee=None, chain=True):
    """POST one notification of ``order``; returns its record (also appended to ``fake.pay_notifications``).

    ``mode`` ``notify``: the genuine one, sent again on WeChat's schedule until acknowledged
    (``chain``); ``duplicate``: the genuine one once more; ``bad_sign`` / ``bad_amount``: forged."""
    if mode not in NOTIFY_MODES:
        raise ValueError(f"unknown notify mode {mode!r} (one of {', '.join(NOTIFY_MODES)})")
    with fake.lock:
        if mode == "notify" and order.notify_acknowledged:
            return None
        acc = fake.accounts[order.appid]
        fields = notify_fields(fake, acc, order, mode, total_fee)
        key = acc.mch_key if mode != "bad_sign" else "forged" + acc.mch_key
        body = dict_to_xml(fields, pay_sign(fields, key, order.sign_type))
        url, timeout = order.notify_url, fake.pay_notify_timeout
    record = {
        "out_trade_no": order.out_trade_no,
        "transaction_id": fields["transaction_id"],
        "appid": order.appid,
        "mch_id": order.mch_id,
        "mode": mode,
        "attempt": attempt,
        "url": url,
        "status": None,
        "answer": None,
        "acknowledged": False,
        "fields": fields,
        "body": body,
        "t": fake.now(),
    }
    with requests.Session() as session:
        session.trust_env = False
        try:
            resp = session.post(
                url,
                data=body.encode("utf-8"),
                headers={"Content-Type": "text/xml", "User-Agent": "Mozilla/4.0"},
                timeout=timeout,
            )
        except requests.Timeout:
            record["answer"] = "timeout"
        except requests.RequestException as exc:
            record["answer"] = f"connection error: {exc.__class__.__name__}"
        else:
            record["status"], record["answer"] = resp.status_code, resp.text
            record["acknowledged"] = acknowledged(resp.status_code, resp.text)
    with fake.lock:
        fake.pay_notifications.append(record)
        if mode == "notify":
            delays = list(fake.pay_notify_delays)
            if record["acknowledged"]:
                order.notify_acknowledged = True
            elif chain and attempt <= len(delays):
                fake.schedule(delays[attempt - 1], deliver_notify, fake, order, attempt + 1, "notify")
    return record


ROUTES = [
    ("POST", "/pay/unifiedorder", unifiedorder),
    ("POST", "/pay/closeorder", closeorder),
]
