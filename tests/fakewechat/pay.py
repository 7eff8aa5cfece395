"""WeChat Pay v2 (XML, MD5/HMAC-SHA256 signed) for scan-to-pay at the till:
``/pay/micropay``, ``/pay/orderquery``, ``/secapi/pay/reverse``,
``/tools/authcodetoopenid``, ``/secapi/pay/refund``, ``/pay/refundquery``.

Real-platform rules mimicked (付款码支付 and 撤销订单 API pages of the v2 docs):
- every request is signed with the merchant key; a bad signature answers
  ``return_code FAIL`` ``return_msg "sign error"``; business errors answer
  ``return_code SUCCESS``, ``result_code FAIL`` with ``err_code``/``err_code_des``;
  every SUCCESS answer is signed with the merchant key;
- an auth code is 18 digits starting with 10-15 (else ``AUTH_CODE_INVALID``) and
  can be used once (then ``AUTHCODEEXPIRE``);
- the payment answer carries ``openid`` and ``is_subscribe`` (Y when the payer
  follows the appid's account); a payment opens no customer-service grant (the
  2023 rules);
- ``USERPAYING``: the payer is typing a password; the merchant polls
  ``orderquery`` (the docs advise every 5-10 s for about 30 s, then a reverse;
  they give no minimum interval, so polling faster is not a violation).  An
  unpaid order stays ``USERPAYING`` until the merchant reverses it: the
  domestic docs do not say that WeChat revokes it by itself (only the WeChat
  Pay Global "reasonable query" guide says so, at 45 s, for cross-border Quick
  Pay), so the fake does not;
- ``SYSTEMERROR``/``BANKERROR``: outcome unknown to the merchant, who must query
  and never charge again; the same ``out_trade_no`` again answers ``ORDERPAID``
  (or ``OUT_TRADE_NO_USED`` with other parameters); a repeat charge of a paid
  order is logged as violation ``double_charge``;
- ``reverse`` should come at least 15 s after the order (violation
  ``reverse_too_early``) and works only within 7 days of it (then
  ``REVERSE_EXPIRE``: refund instead); while the payer is still on WeChat's
  password screen it answers ``USERPAYING`` (call again later; scripted with
  ``reverse_userpaying``); it may answer ``recall=Y`` (call again); a paid
  order reversed is refunded (recorded in ``fake.refunds``);
- a refund (``secapi/pay/refund``) is accepted, then asynchronous: ``refundquery``
  answers ``PROCESSING`` and then ``SUCCESS`` (or a scripted ``CHANGE`` /
  ``REFUNDCLOSE``: ``fake.refund_script``); several refunds per charge up to the
  amount paid (beyond: ``INVALID_REQUEST`` and violation ``over_refund``); the
  same ``out_refund_no`` again answers the same refund, with another amount it
  is refused; a charge older than a year (``REFUND_MAX_AGE``) answers
  ``TRADE_OVERDUE`` (v2 doc: 交易时间超过一年的订单无法提交退款).
Outcomes are scripted per auth code with ``fake.pay_script``.

The ledger (``PayState``, ``PayOrder``) is shared with the JSAPI / NATIVE orders of
pay_jsapi.py (``/pay/unifiedorder``, ``/pay/closeorder``): ``orderquery``, ``refund``,
``refundquery`` and the bills serve them too (``trade_type`` JSAPI / NATIVE).
"""

import re
import string

from wechatpy.pay.utils import dict_to_xml

from .clock import beijing_compact
from .crypto import check_pay_sign, pay_sign
from .web import Reply
from .xmlutil import parse_xml

AUTH_CODE_RE = re.compile(r"^1[0-5]\d{16}$")
REVERSE_MIN_AGE = 15
# 撤销订单: "7天以内的交易单可调用撤销" (older: REVERSE_EXPIRE, refund instead).
REVERSE_MAX_AGE = 7 * 86400
# WeChat refunds a charge up to one year after it was paid.
REFUND_MAX_AGE = 365 * 24 * 3600
# Scripted outcomes of a refund: accepted then SUCCESS / CHANGE / REFUNDCLOSE, or refused at once.
REFUND_OUTCOMES = ("SUCCESS", "CHANGE", "REFUNDCLOSE", "NOTENOUGH", "SYSTEMERROR")
OUTCOMES = (
    "SUCCESS",
    "USERPAYING",
    "USERPAYING_FOREVER",
    "AUTHCODEEXPIRE",
    "NOTENOUGH",
    "SYSTEMERROR",
    "SYSTEMERROR_UNCHARGED",
    "BANKERROR",
)
ERR_DES = {
    "AUTH_CODE_INVALID": "授权码检验错误",
    "AUTHCODEEXPIRE": "二维码已过期，请用户在微信上刷新后再试",
    "USERPAYING": "需要用户输入支付密码",
    "NOTENOUGH": "余额不足",
    "SYSTEMERROR": "系统超时",
    "BANKERROR": "银行系统异常",
    "ORDERPAID": "订单已支付",
    "OUT_TRADE_NO_USED": "商户订单号重复",
    "ORDERREVERSED": "订单已撤销",
    "ORDERCLOSED": "订单已关闭",
    "ORDERNOTEXIST": "此交易订单号不存在",
    "PARAM_ERROR": "参数错误",
    "TRADE_STATE_ERROR": "订单状态错误",
    "REVERSE_EXPIRE": "订单无法撤销",
    "INVALID_REQUEST": "参数错误",
    "TRADE_OVERDUE": "订单已经超过退款期限",
    "REFUNDNOTEXIST": "退款订单查询失败",
    "NOTENOUGH_REFUND": "基本账户余额不足，请充值后重新发起",
}
TRADE_STATE_DESC = {
    "SUCCESS": "支付成功",
    "USERPAYING": "用户支付中",
    "PAYERROR": "支付失败",
    "REVOKED": "已撤销",
    "NOTPAY": "未支付",
    "CLOSED": "已关闭",
    "REFUND": "转入退款",
}


class PayScript:
    def __init__(
        self, outcome="SUCCESS", userpaying_queries=0, openid=None, is_subscribe=None, recall=0, reverse_userpaying=0
    ):
        self.outcome = outcome
        self.userpaying_queries = userpaying_queries
        self.openid = openid
        self.is_subscribe = is_subscribe
        self.recall = recall
        # Reverse calls answered USERPAYING while the order is unpaid (the payer still on the password screen).
        self.reverse_userpaying = reverse_userpaying


class RefundScript:
    def __init__(self, outcome="SUCCESS", processing_queries=1):
        if outcome not in REFUND_OUTCOMES:
            raise ValueError("unknown refund outcome {!r} (one of {})".format(outcome, ", ".join(REFUND_OUTCOMES)))
        self.outcome = outcome
        self.processing_queries = int(processing_queries)


def make_script(outcome, openid=None, is_subscribe=None, recall=0, reverse_userpaying=0):
    """Normalise ``outcome``: 'SUCCESS', ('USERPAYING', n), 'USERPAYING_FOREVER', ...

    ``recall``: reverse calls answered ``recall=Y``; ``reverse_userpaying``:
    reverse calls of the unpaid order answered ``USERPAYING``.
    """
    n = 0
    if isinstance(outcome, tuple | list):
        outcome, n = outcome[0], int(outcome[1])
    elif outcome == "USERPAYING":
        n = 1
    if outcome not in OUTCOMES:
        raise ValueError("unknown pay outcome {!r} (one of {})".format(outcome, ", ".join(OUTCOMES)))
    if is_subscribe not in (None, "Y", "N"):
        raise ValueError("is_subscribe must be 'Y' or 'N'")
    return PayScript(outcome, n, openid, is_subscribe, recall, int(reverse_userpaying))


class PayOrder:
    """One charge: a micropay (``auth_code``) or a unified order (JSAPI / NATIVE: see pay_jsapi.py).

    ``trade_type`` is MICROPAY unless given; a unified order has no ``transaction_id`` and no payer
    (NATIVE) until it is paid.
    """

    def __init__(self, appid, mch_id, data, transaction_id, openid, created, trade_type="MICROPAY"):
        self.appid = appid
        self.mch_id = mch_id
        self.trade_type = trade_type
        self.out_trade_no = data["out_trade_no"]
        self.auth_code = data.get("auth_code")
        self.total_fee = int(data["total_fee"])
        self.body = data.get("body")
        self.attach = data.get("attach")
        self.device_info = data.get("device_info")
        self.transaction_id = transaction_id
        self.openid = openid
        self.is_subscribe = "N"
        self.created = created
        self.state = "NOTPAY"
        self.err_code = None
        self.userpaying_left = None  # None: pays never (USERPAYING_FOREVER)
        self.recall_left = 0
        self.reverse_userpaying_left = 0
        self.time_end = None
        self.paid_at = None
        self.refunded = 0
        self.bank_type = "OTHERS"
        # unified orders (pay_jsapi.py)
        self.sign_type = data.get("sign_type") or "MD5"
        self.notify_url = data.get("notify_url")
        self.product_id = data.get("product_id")
        self.time_expire = None  # epoch seconds (time_expire), None: none given
        self.params = {}  # the unifiedorder parameters a re-entry must repeat
        self.prepay_id = None
        self.prepay_expires = None
        self.code_url = None
        self.closed_at = None
        self.notify_acknowledged = False

    @property
    def unified(self):
        """A unified order (JSAPI / NATIVE), not a micropay."""
        return self.trade_type != "MICROPAY"

    def summary(self):
        return {k: v for k, v in vars(self).items()}


class PayState:
    """All WeChat Pay state of one fake (orders, scripts, used auth codes, refunds)."""

    def __init__(self):
        self.orders = {}
        self.by_txn = {}
        self.scripts = {}
        self.used_codes = set()
        self.code_openids = {}
        self.refunds = []
        self.refunds_by_no = {}
        # out_trade_no (or None: the next refund of any charge) -> [RefundScript, ...]
        self.refund_scripts = {}
        # Day bills (pay_bill.py): out_trade_no / out_refund_no left out of the bill, or billed another amount.
        self.bill_omit = set()
        self.bill_amounts = {}
        # Unified orders (pay_jsapi.py): every prepay_id issued -> its PayOrder (only order.prepay_id is alive)
        self.prepays = {}
        # mch_id -> JSAPI payment directories (支付授权目录); no entry: any page may pay
        self.auth_dirs = {}


# -- replies ----------------------------------------------------------------
def _xml_reply(data, errcode, sign=None):
    return Reply(dict_to_xml(data, sign), 200, "text/xml; charset=utf-8", errcode=errcode)


def _fail(msg):
    return _xml_reply({"return_code": "FAIL", "return_msg": msg}, msg)


def _reply(fake, acc, fields, errcode=0, sign_type="MD5"):
    data = {
        "return_code": "SUCCESS",
        "return_msg": "OK",
        "appid": acc.appid,
        "mch_id": acc.mch_id,
        "nonce_str": "".join(fake.rng.choices(string.ascii_letters + string.digits, k=16)),
    }
    data.update({k: str(v) for k, v in fields.items() if v not in (None, "")})
    return _xml_reply(data, errcode, pay_sign(data, acc.mch_key, sign_type))


def _err(fake, acc, code, des=None, sign_type="MD5"):
    return _reply(
        fake,
        acc,
        {"result_code": "FAIL", "err_code": code, "err_code_des": des or ERR_DES.get(code, code)},
        errcode=code,
        sign_type=sign_type,
    )


def _parse(fake, req):
    """Return (account, data) or (None, FAIL reply)."""
    try:
        data = parse_xml(req.body)
    except ValueError:
        return None, _fail("XML格式错误")
    data = {k: v for k, v in data.items() if isinstance(v, str)}
    req.appid = data.get("appid")
    acc = fake.accounts.get(data.get("appid") or "")
    if acc is None or not acc.mch_id:
        return None, _fail("appid不存在")
    if data.get("mch_id") != acc.mch_id:
        return None, _fail("appid和mch_id不匹配")
    if not check_pay_sign(data, acc.mch_key):
        return None, _fail("sign error")
    return acc, data


def injected_reply(fake, req, errcode, errmsg=None):
    """Fault injection on a pay path: str errcode -> business error, else return_code FAIL."""
    if isinstance(errcode, str):
        acc, _ = _parse(fake, req)
        if acc is not None:
            return _err(fake, acc, errcode, errmsg)
    return _fail(errmsg or f"injected failure {errcode}")


# -- order helpers ---------------------------------------------------------
def _find(fake, acc, data):
    pay = fake.payments
    order = None
    if data.get("transaction_id"):
        order = pay.by_txn.get(data["transaction_id"])
    elif data.get("out_trade_no"):
        order = pay.orders.get((acc.mch_id, data["out_trade_no"]))
    if order is not None and order.mch_id != acc.mch_id:
        order = None
    return order


def _mark_paid(fake, acc, order):
    now = fake.now()
    order.state = "SUCCESS"
    order.time_end = beijing_compact(now)
    order.paid_at = now


def _payer(fake, acc, code, script):
    pay = fake.payments
    openid = (script.openid if script else None) or pay.code_openids.get(code) or acc.new_openid()
    pay.code_openids[code] = openid
    acc.ensure_user(openid)
    return openid


def _order_fields(order, paid):
    if order.unified and not paid:
        # an unpaid unified order has no payer nor transaction yet: orderquery shows little
        return {"out_trade_no": order.out_trade_no, "attach": order.attach, "device_info": order.device_info}
    fields = {
        "openid": order.openid,
        "is_subscribe": order.is_subscribe,
        "trade_type": order.trade_type,
        "fee_type": "CNY",
        "total_fee": order.total_fee,
        "transaction_id": order.transaction_id,
        "out_trade_no": order.out_trade_no,
        "attach": order.attach,
        "device_info": order.device_info,
    }
    if paid:
        fields.update(
            {
                "bank_type": order.bank_type,
                "cash_fee": order.total_fee,
                "cash_fee_type": "CNY",
                "time_end": order.time_end,
            }
        )
    return fields


# -- endpoints -------------------------------------------------------------
def micropay(fake, req):
    acc, data = _parse(fake, req)
    if acc is None:
        return data
    for field in ("body", "out_trade_no", "total_fee", "spbill_create_ip", "auth_code"):
        if not data.get(field):
            return _err(fake, acc, "PARAM_ERROR", f"missing {field}")
    if not data["total_fee"].isdigit() or int(data["total_fee"]) <= 0:
        return _err(fake, acc, "PARAM_ERROR", "invalid total_fee")
    code = data["auth_code"]
    if not AUTH_CODE_RE.match(code):
        return _err(fake, acc, "AUTH_CODE_INVALID")
    pay = fake.payments
    order = pay.orders.get((acc.mch_id, data["out_trade_no"]))
    if order is not None:
        return _repeat(fake, acc, order, data)
    if code in pay.used_codes:
        return _err(fake, acc, "AUTHCODEEXPIRE")
    pay.used_codes.add(code)
    script = pay.scripts.pop(code, None) or PayScript()
    if script.outcome == "AUTHCODEEXPIRE":
        return _err(fake, acc, "AUTHCODEEXPIRE")
    openid = _payer(fake, acc, code, script)
    txn = "4200001%03d%s%010d" % (len(acc.appid) % 1000, beijing_compact(fake.now())[:8], fake.next_id("txn"))
    order = PayOrder(acc.appid, acc.mch_id, data, txn, openid, fake.now())
    order.is_subscribe = script.is_subscribe or ("Y" if acc.is_follower(openid) else "N")
    order.recall_left = script.recall
    order.reverse_userpaying_left = script.reverse_userpaying
    pay.orders[(acc.mch_id, order.out_trade_no)] = order
    pay.by_txn[txn] = order
    outcome = script.outcome
    if outcome == "SUCCESS":
        _mark_paid(fake, acc, order)
        return _reply(fake, acc, dict(result_code="SUCCESS", **_order_fields(order, True)))
    if outcome in ("USERPAYING", "USERPAYING_FOREVER"):
        order.state = "USERPAYING"
        order.userpaying_left = script.userpaying_queries if outcome == "USERPAYING" else None
        return _err(fake, acc, "USERPAYING")
    if outcome in ("SYSTEMERROR", "BANKERROR"):  # charged behind the merchant's back
        _mark_paid(fake, acc, order)
        order.err_code = outcome
        return _err(fake, acc, outcome)
    order.state = "PAYERROR"
    order.err_code = "SYSTEMERROR" if outcome == "SYSTEMERROR_UNCHARGED" else outcome
    return _err(fake, acc, order.err_code)


def repeat_code(fake, order, data, appid, api="micropay"):
    """The v2 ``err_code`` of a charge again with an ``out_trade_no`` that already exists (v2 and v3 alike).

    A paid order charged again is the violation ``double_charge``.
    """
    same = order.auth_code == data["auth_code"] and order.total_fee == int(data["total_fee"])
    if order.state in ("SUCCESS", "REFUND"):
        fake.violation(
            "double_charge",
            f"{api} again for paid out_trade_no {order.out_trade_no} (query instead, never re-charge)",
            appid,
        )
        return "ORDERPAID" if same else "OUT_TRADE_NO_USED"
    if not same:
        return "OUT_TRADE_NO_USED"
    by_state = {"USERPAYING": "USERPAYING", "REVOKED": "ORDERREVERSED", "CLOSED": "ORDERCLOSED"}
    return by_state.get(order.state) or order.err_code or "SYSTEMERROR"


def _repeat(fake, acc, order, data):
    """micropay again with an out_trade_no that already exists."""
    return _err(fake, acc, repeat_code(fake, order, data, acc.appid))


def orderquery(fake, req):
    acc, data = _parse(fake, req)
    if acc is None:
        return data
    order = _find(fake, acc, data)
    if order is None:
        return _err(fake, acc, "ORDERNOTEXIST")
    if order.state == "USERPAYING" and order.userpaying_left is not None:
        if order.userpaying_left > 0:
            order.userpaying_left -= 1
        else:
            _mark_paid(fake, acc, order)
    paid = order.state in ("SUCCESS", "REFUND") or (order.state == "REVOKED" and order.time_end)
    fields = dict(
        result_code="SUCCESS",
        trade_state=order.state,
        trade_state_desc=TRADE_STATE_DESC[order.state],
        **_order_fields(order, bool(paid)),
    )
    return _reply(fake, acc, fields)


def reverse(fake, req):
    acc, data = _parse(fake, req)
    if acc is None:
        return data
    order = _find(fake, acc, data)
    if order is None:
        return _err(fake, acc, "ORDERNOTEXIST")
    now = fake.now()
    if now - order.created < REVERSE_MIN_AGE:
        fake.violation(
            "reverse_too_early",
            "reverse of %s %.0f s after the order (wait >= %d s)"
            % (order.out_trade_no, now - order.created, REVERSE_MIN_AGE),
            acc.appid,
        )
    if order.state == "REFUND" or now - order.created > REVERSE_MAX_AGE:
        return _err(fake, acc, "REVERSE_EXPIRE")
    if order.state == "USERPAYING" and order.reverse_userpaying_left > 0:
        order.reverse_userpaying_left -= 1
        return _err(fake, acc, "USERPAYING", "用户正在支付中，不能撤销")
    if order.recall_left > 0:
        order.recall_left -= 1
        return _reply(fake, acc, {"result_code": "SUCCESS", "recall": "Y"})
    if order.state == "SUCCESS":
        _record_refund(fake, order, order.total_fee, "reverse", None)
    order.state = "REVOKED"
    return _reply(fake, acc, {"result_code": "SUCCESS", "recall": "N"})


def _record_refund(fake, order, fee, reason, out_refund_no):
    refund = {
        "appid": order.appid,
        "mch_id": order.mch_id,
        "out_trade_no": order.out_trade_no,
        "transaction_id": order.transaction_id,
        "openid": order.openid,
        "refund_fee": fee,
        "reason": reason,
        "out_refund_no": out_refund_no,
        "refund_id": "50000%015d" % fake.next_id("refund"),
        "t": fake.now(),
        # A reverse is refunded at once; a refund is PROCESSING until queried (see refundquery).
        "refund_status": "SUCCESS" if reason == "reverse" else "PROCESSING",
        "success_time": beijing_compact(fake.now()) if reason == "reverse" else None,
        "outcome": "SUCCESS",
        "processing_left": 0,
    }
    order.refunded += fee
    fake.payments.refunds.append(refund)
    return refund


def authcodetoopenid(fake, req):
    acc, data = _parse(fake, req)
    if acc is None:
        return data
    code = data.get("auth_code") or ""
    if not AUTH_CODE_RE.match(code):
        return _err(fake, acc, "AUTH_CODE_INVALID")
    openid = _payer(fake, acc, code, fake.payments.scripts.get(code))
    return _reply(fake, acc, {"result_code": "SUCCESS", "openid": openid})


def _refund_script(pay, order):
    for key in (order.out_trade_no, None):
        queue = pay.refund_scripts.get(key)
        if queue:
            return queue.pop(0)
    return RefundScript()


def refund(fake, req):
    acc, data = _parse(fake, req)
    if acc is None:
        return data
    order = _find(fake, acc, data)
    if order is None:
        return _err(fake, acc, "ORDERNOTEXIST")
    out_refund_no = data.get("out_refund_no")
    fee = data.get("refund_fee") or ""
    total = data.get("total_fee") or ""
    if not out_refund_no or not fee.isdigit() or int(fee) <= 0 or not total.isdigit():
        return _err(fake, acc, "PARAM_ERROR")
    fee = int(fee)
    pay = fake.payments
    done = pay.refunds_by_no.get((acc.mch_id, out_refund_no))
    if done is not None:
        if done["refund_fee"] != fee or done["out_trade_no"] != order.out_trade_no:
            return _err(fake, acc, "INVALID_REQUEST", "订单金额或退款金额与之前请求不一致，请核实后再试")
    else:
        if int(total) != order.total_fee:
            return _err(fake, acc, "INVALID_REQUEST", "订单金额与支付金额不一致")
        if order.state not in ("SUCCESS", "REFUND"):
            return _err(fake, acc, "TRADE_STATE_ERROR")
        if fake.now() - order.created > REFUND_MAX_AGE:
            return _err(fake, acc, "TRADE_OVERDUE")
        if order.refunded + fee > order.total_fee:
            fake.violation(
                "over_refund",
                f"refund of {fee} fen for {order.out_trade_no}: {order.refunded} of {order.total_fee} already refunded",
                acc.appid,
            )
            return _err(fake, acc, "INVALID_REQUEST", "退款金额大于支付金额")
        script = _refund_script(pay, order)
        if script.outcome == "NOTENOUGH":
            return _err(fake, acc, "NOTENOUGH", ERR_DES["NOTENOUGH_REFUND"])
        done = _record_refund(fake, order, fee, "refund", out_refund_no)
        done["outcome"] = "SUCCESS" if script.outcome == "SYSTEMERROR" else script.outcome
        done["processing_left"] = script.processing_queries
        pay.refunds_by_no[(acc.mch_id, out_refund_no)] = done
        order.state = "REFUND"
        if script.outcome == "SYSTEMERROR":  # accepted behind the merchant's back: query with the same number
            return _err(fake, acc, "SYSTEMERROR")
    return _reply(
        fake,
        acc,
        {
            "result_code": "SUCCESS",
            "transaction_id": order.transaction_id,
            "out_trade_no": order.out_trade_no,
            "out_refund_no": out_refund_no,
            "refund_id": done["refund_id"],
            "refund_fee": done["refund_fee"],
            "total_fee": order.total_fee,
            "cash_fee": order.total_fee,
        },
    )


def _advance_refund(fake, order, done):
    """One query of a PROCESSING refund: it stays PROCESSING ``processing_left`` queries, then ends."""
    if done["refund_status"] != "PROCESSING":
        return
    if done["processing_left"] > 0:
        done["processing_left"] -= 1
        return
    done["refund_status"] = done["outcome"]
    if done["outcome"] == "SUCCESS":
        done["success_time"] = beijing_compact(fake.now())
    elif done["outcome"] == "REFUNDCLOSE":
        order.refunded -= done["refund_fee"]  # closed: the money stays with the merchant


def refundquery(fake, req):
    acc, data = _parse(fake, req)
    if acc is None:
        return data
    pay = fake.payments
    if data.get("out_refund_no"):
        found = pay.refunds_by_no.get((acc.mch_id, data["out_refund_no"]))
        refunds = [found] if found else []
    elif data.get("refund_id"):
        refunds = [r for r in pay.refunds_by_no.values() if r["refund_id"] == data["refund_id"]]
    else:
        order = _find(fake, acc, data)
        refunds = [r for r in pay.refunds_by_no.values() if order and r["out_trade_no"] == order.out_trade_no]
    refunds = [r for r in refunds if r["mch_id"] == acc.mch_id]
    if not refunds:
        return _err(fake, acc, "REFUNDNOTEXIST")
    order = pay.orders[(acc.mch_id, refunds[0]["out_trade_no"])]
    fields = {
        "result_code": "SUCCESS",
        "transaction_id": order.transaction_id,
        "out_trade_no": order.out_trade_no,
        "total_fee": order.total_fee,
        "cash_fee": order.total_fee,
        "refund_fee": sum(r["refund_fee"] for r in refunds),
        "refund_count": len(refunds),
    }
    for n, done in enumerate(refunds):
        _advance_refund(fake, order, done)
        fields.update(
            {
                f"out_refund_no_{n}": done["out_refund_no"],
                f"refund_id_{n}": done["refund_id"],
                f"refund_channel_{n}": "ORIGINAL",
                f"refund_fee_{n}": done["refund_fee"],
                f"refund_status_{n}": done["refund_status"],
                f"refund_account_{n}": "REFUND_SOURCE_UNSETTLED_FUNDS",
                f"refund_recv_accout_{n}": "支付用户的零钱",
                f"refund_success_time_{n}": _dashed(done["success_time"]),
            }
        )
    return _reply(fake, acc, fields)


def _dashed(compact):
    """20250101123000 -> 2025-01-01 12:30:00 (refund_success_time's format)."""
    if not compact:
        return None
    c = compact
    return f"{c[:4]}-{c[4:6]}-{c[6:8]} {c[8:10]}:{c[10:12]}:{c[12:14]}"


ROUTES = [
    ("POST", "/pay/micropay", micropay),
    ("POST", "/pay/orderquery", orderquery),
    ("POST", "/secapi/pay/reverse", reverse),
    ("POST", "/tools/authcodetoopenid", authcodetoopenid),
    ("POST", "/secapi/pay/refund", refund),
    ("POST", "/pay/refundquery", refundquery),
]
