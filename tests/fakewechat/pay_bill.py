"""WeChat Pay trade bills (交易账单) built from the fake's own ledger, and v2 ``/pay/downloadbill``.

Real-platform rules mimicked:
- the bill of a Beijing day lists the charges paid that day (``SUCCESS``, a
  charge refunded later included: its refund is a line of the refund's day),
  charges paid then reversed (``REVOKED``, same ``out_trade_no``) and the
  refunds made that day (``REFUND`` lines); unpaid or closed orders are not in it;
- every value starts with a backtick; amounts in yuan; a summary header and a
  summary line end the bill;
- the bill of a day exists from 09:00 Beijing the next day (WeChat advises to
  fetch it after 10:00): before that, and for a day without any trade,
  ``return_code FAIL`` ``return_msg "No Bill Exist"`` (error_code 20002);
  a bill of today or of a future day, or older than three months, is refused
  (``invalid bill_date``, error_code 20001);
- the request is signed like every v2 call (bad signature: ``sign error``); the
  bill itself is plain text, unsigned.

:func:`trade_bill_csv` is shared with the v3 bill (``/v3/bill/tradebill``).
Tests change the bill with ``fake.pay_bill_omit(no)`` (a charge or refund
left out) and ``fake.pay_bill_amount(no, fen)`` (another amount).
"""

import datetime
import time

from .clock import BEIJING_OFFSET, beijing
from .pay import _fail, _parse, _xml_reply
from .web import Reply

HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,"
    "货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,"
    "商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"
)
SUMMARY_HEADER = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
RATE = "0.60%"
BILL_READY_HOUR = 9
BILL_MAX_AGE_DAYS = 92


def _day(bill_date):
    """``bill_date`` (a date or ``yyyyMMdd`` / ``yyyy-MM-dd``) as ``yyyyMMdd``."""
    if isinstance(bill_date, datetime.date):
        return bill_date.strftime("%Y%m%d")
    return str(bill_date).replace("-", "")


def _yuan(fen):
    return "%d.%02d" % divmod(int(fen), 100)


def _fee(fen):
    return "%.5f" % (int(fen) * 0.006 / 100)


def _time_of(compact):
    """``yyyyMMddHHmmss`` -> ``yyyy-MM-dd HH:mm:ss``."""
    c = compact
    return f"{c[:4]}-{c[4:6]}-{c[6:8]} {c[8:10]}:{c[10:12]}:{c[12:14]}"


def _line(values):
    return ",".join("`" + ("" if v is None else str(v)) for v in values)


def bill_lines(fake, mch_id, bill_date, sub_mch_id=None):
    """The detail lines of the bill as lists of values (sorted by time), before formatting."""
    day = _day(bill_date)
    pay = fake.payments
    lines = []
    for (mch, _no), order in sorted(pay.orders.items(), key=lambda item: item[1].created):
        if mch != mch_id or not order.time_end or order.time_end[:8] != day:
            continue
        order_sub = getattr(order, "sub_mch_id", None)
        if sub_mch_id and order_sub != sub_mch_id:
            continue
        if order.out_trade_no in pay.bill_omit:
            continue
        fen = pay.bill_amounts.get(order.out_trade_no, order.total_fee)
        state = "REVOKED" if order.state == "REVOKED" else "SUCCESS"
        lines.append(
            (
                order.time_end,
                [
                    _time_of(order.time_end),
                    order.appid,
                    mch,
                    order_sub or "0",
                    order.device_info or "",
                    order.transaction_id,
                    order.out_trade_no,
                    order.openid,
                    order.trade_type,
                    state,
                    order.bank_type,
                    "CNY",
                    _yuan(fen),
                    "0.00",
                    "0",
                    "0",
                    "0.00",
                    "0.00",
                    "",
                    "",
                    order.body or "",
                    order.attach or "",
                    _fee(fen),
                    RATE,
                    _yuan(fen),
                    "0.00",
                    "",
                ],
                fen,
                0,
            )
        )
    for refund in pay.refunds:
        if refund["mch_id"] != mch_id or not refund.get("out_refund_no"):
            continue  # a reverse refunds without a refund line: its charge shows REVOKED
        if refund.get("refund_status") == "REFUNDCLOSE":
            continue  # closed: nothing was refunded
        compact = time.strftime("%Y%m%d%H%M%S", beijing(refund["t"]))
        if compact[:8] != day or refund["out_refund_no"] in pay.bill_omit:
            continue
        order = pay.orders.get((refund["mch_id"], refund["out_trade_no"]))
        refund_sub = refund.get("sub_mch_id") or getattr(order, "sub_mch_id", None)
        if sub_mch_id and refund_sub != sub_mch_id:
            continue
        fen = pay.bill_amounts.get(refund["out_refund_no"], refund["refund_fee"])
        total = order.total_fee if order else fen
        lines.append(
            (
                compact,
                [
                    _time_of(compact),
                    refund["appid"],
                    refund["mch_id"],
                    refund_sub or "0",
                    (order.device_info if order else "") or "",
                    refund["transaction_id"],
                    refund["out_trade_no"],
                    refund["openid"],
                    order.trade_type if order else "MICROPAY",
                    "REFUND",
                    "OTHERS",
                    "CNY",
                    "0.00",
                    "0.00",
                    refund["refund_id"],
                    refund["out_refund_no"],
                    _yuan(fen),
                    "0.00",
                    "ORIGINAL",
                    refund.get("refund_status") or "SUCCESS",
                    (order.body if order else "") or "",
                    (order.attach if order else "") or "",
                    "-" + _fee(fen),
                    RATE,
                    _yuan(total),
                    _yuan(fen),
                    "",
                ],
                0,
                fen,
            )
        )
    lines.sort(key=lambda item: item[0])
    return lines


def trade_bill_csv(fake, mch_id, bill_date, sub_mch_id=None):
    """The ``ALL`` trade bill of ``mch_id`` for the Beijing day ``bill_date`` (text), or None when no trade."""
    lines = bill_lines(fake, mch_id, bill_date, sub_mch_id)
    if not lines:
        return None
    paid = sum(item[2] for item in lines if item[1][9] == "SUCCESS")
    refunded = sum(item[3] for item in lines)
    summary = [
        len(lines),
        _yuan(paid),
        _yuan(refunded),
        "0.00",
        "%.5f" % ((paid - refunded) * 0.006 / 100),
        _yuan(paid),
        _yuan(refunded),
    ]
    out = [HEADER] + [_line(item[1]) for item in lines] + [SUMMARY_HEADER, _line(summary)]
    return "\r\n".join(out) + "\r\n"


def bill_date_error(fake, bill_date):
    """Why WeChat gives no bill of ``bill_date`` now: ``(return_msg, error_code)``, or None when it can."""
    day = _day(bill_date)
    try:
        wanted = datetime.datetime.strptime(day, "%Y%m%d").date()
    except ValueError:
        return "invalid bill_date", "20001"
    now = datetime.datetime.fromtimestamp(fake.now() + BEIJING_OFFSET, datetime.timezone.utc).replace(tzinfo=None)
    if wanted >= now.date() or (now.date() - wanted).days > BILL_MAX_AGE_DAYS:
        return "invalid bill_date", "20001"
    if (now.date() - wanted).days == 1 and now.hour < BILL_READY_HOUR:
        return "No Bill Exist", "20002"
    return None


def bill_ready_at(bill_date, hour=10, minute=30):
    """Epoch seconds of ``hour:minute`` Beijing the day after ``bill_date`` (when merchants fetch its bill)."""
    wanted = datetime.datetime.strptime(_day(bill_date), "%Y%m%d") + datetime.timedelta(days=1, hours=hour)
    wanted += datetime.timedelta(minutes=minute)
    return wanted.replace(tzinfo=datetime.timezone.utc).timestamp() - BEIJING_OFFSET


def _bill_fail(msg, error_code):
    return _xml_reply({"return_code": "FAIL", "return_msg": msg, "error_code": error_code}, msg)


def downloadbill(fake, req):
    acc, data = _parse(fake, req)
    if acc is None:
        return data
    if (data.get("bill_type") or "ALL") != "ALL":
        return _fail("invalid bill_type")
    refused = bill_date_error(fake, data.get("bill_date") or "")
    if refused:
        return _bill_fail(*refused)
    text = trade_bill_csv(fake, acc.mch_id, data["bill_date"], data.get("sub_mch_id") or None)
    if text is None:
        return _bill_fail("No Bill Exist", "20002")
    return Reply(text, 200, "text/plain; charset=utf-8")


ROUTES = [
    ("POST", "/pay/downloadbill", downloadbill),
]
