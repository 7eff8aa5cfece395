"""WeChat Pay trade bills (交易账单): the text of v2 ``pay/downloadbill`` and of the v3 bill file.

A trade bill of type ``ALL`` is a header line, one line per charge paid or
refund made that day (every value starts with a backtick, so that a
spreadsheet keeps it as text), then a summary header and the summary line.
Amounts are in yuan.  :func:`parse_trade_bill` turns it into plain dicts that
both clients (v2, v3) return as ``data["rows"]``.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# Column names of the ``ALL`` bill (v2 and v3), as WeChat writes them.
COLUMNS = {
    "trade_time": "交易时间",
    "appid": "公众账号ID",
    "mch_id": "商户号",
    "sub_mch_id": "特约商户号",
    "device_info": "设备号",
    "transaction_id": "微信订单号",
    "out_trade_no": "商户订单号",
    "openid": "用户标识",
    "trade_type": "交易类型",
    "trade_state": "交易状态",
    "bank_type": "付款银行",
    "fee_type": "货币种类",
    "settlement_total": "应结订单金额",
    "coupon_fee": "代金券金额",
    "refund_id": "微信退款单号",
    "out_refund_no": "商户退款单号",
    "settlement_refund": "退款金额",
    "coupon_refund": "充值券退款金额",
    "refund_type": "退款类型",
    "refund_status": "退款状态",
    "body": "商品名称",
    "attach": "商户数据包",
    "service_fee": "手续费",
    "rate": "费率",
    "total_fee": "订单金额",
    "refund_fee": "申请退款金额",
    "rate_note": "费率备注",
}
# Older and service-provider bills name some columns differently.
ALIASES = {
    "子商户号": "sub_mch_id",
    "服务商的APPID": "appid",
    "总金额": "settlement_total",
    "代金券或立减优惠金额": "coupon_fee",
    "代金券或立减优惠退款金额": "coupon_refund",
}
HEADER = ",".join(COLUMNS.values())
SUMMARY_HEADER = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
# A ``微信退款单号`` / ``商户退款单号`` of a charge line, a ``特约商户号`` of a direct merchant.
NO_REFUND = ("", "0")


class TradeBillError(ValueError):
    """The text is not a WeChat trade bill."""


def yuan_to_fen(value):
    """``"12.34"`` (yuan) -> ``1234`` (fen); empty -> 0."""
    value = (value or "").strip().lstrip("`")
    if not value:
        return 0
    try:
        return int((Decimal(value) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    except InvalidOperation:
        raise TradeBillError(f"not an amount: {value!r}") from None


def _values(line):
    """The values of a data line: every value starts with a backtick (values may hold commas)."""
    line = line.strip()
    if not line.startswith("`"):
        raise TradeBillError(f"not a bill line: {line[:40]!r}")
    return line[1:].split(",`")


def _row(keys, values):
    raw = dict(zip(keys, values, strict=False))
    refund_no = raw.get("out_refund_no", "").strip()
    refund_id = raw.get("refund_id", "").strip()
    is_refund = raw.get("trade_state") == "REFUND" or refund_no not in NO_REFUND or refund_id not in NO_REFUND
    if is_refund:
        # 申请退款金额 is the refund asked for (the merchant's refund_fee); older bills only have 退款金额.
        amount = yuan_to_fen(raw.get("refund_fee")) or yuan_to_fen(raw.get("settlement_refund"))
    else:
        amount = yuan_to_fen(raw.get("total_fee")) or yuan_to_fen(raw.get("settlement_total"))
    return {
        "kind": "refund" if is_refund else "pay",
        "out_trade_no": raw.get("out_trade_no", "").strip(),
        "transaction_id": raw.get("transaction_id", "").strip(),
        "out_refund_no": refund_no if is_refund else "",
        "refund_id": refund_id if is_refund else "",
        "amount_fen": amount,
        "trade_state": raw.get("trade_state", "").strip(),
        "refund_status": raw.get("refund_status", "").strip() if is_refund else "",
        "trade_time": raw.get("trade_time", "").strip(),
        "sub_mch_id": "" if raw.get("sub_mch_id", "").strip() in NO_REFUND else raw["sub_mch_id"].strip(),
        "device_info": raw.get("device_info", "").strip(),
        "mch_id": raw.get("mch_id", "").strip(),
    }


def _lines(text):
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig")
    lines = [line for line in (text or "").lstrip("\ufeff").splitlines() if line.strip()]
    if not lines:
        raise TradeBillError("empty bill")
    return lines


def parse_trade_bill(text):
    """The lines of a trade bill ``text`` (``ALL`` type) as a list of dicts; raises :class:`TradeBillError`.

    Each row: ``kind`` ("pay" | "refund"), ``out_trade_no``, ``transaction_id``,
    ``out_refund_no``, ``refund_id``, ``amount_fen`` (int, positive: the
    charge of a pay row, the refund of a refund row), ``trade_state``,
    ``refund_status``, ``trade_time`` (as in the bill), ``sub_mch_id``
    (empty when none), ``device_info``, ``mch_id``.
    """
    lines = _lines(text)
    by_name = {name: key for key, name in COLUMNS.items()}
    by_name.update(ALIASES)
    names = [name.strip().lstrip("\ufeff") for name in lines[0].split(",")]
    if "商户订单号" not in names or "交易状态" not in names:
        raise TradeBillError("no bill header")
    keys = [by_name.get(name, name) for name in names]
    rows = []
    for line in lines[1:]:
        if line.startswith("总交易单数"):
            break
        rows.append(_row(keys, _values(line)))
    return rows


def parse_trade_bill_summary(text):
    """The summary of a trade bill: ``{"总交易单数": "12", "应结订单总金额": "0.06", ...}`` (empty when none)."""
    lines = _lines(text)
    for index, line in enumerate(lines):
        if line.startswith("总交易单数") and index + 1 < len(lines):
            return dict(zip(line.strip().split(","), _values(lines[index + 1]), strict=False))
    return {}
