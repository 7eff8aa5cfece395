"""Template keywords: the ``data`` rules shared by template messages
(``message/template/send``) and subscribe notices (``message/subscribe/bizsend``).

Real-platform rules mimicked (类目模板消息 / 订阅通知 参数值内容限制说明, from
https://developers.weixin.qq.com/doc/service/api/notify/template/api_sendtemplatemessage
and https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Template_Message_Interface.html
(section 类目模板消息); the same table applies to subscribe notices):

=====================  ==========================================================
keyword type           value accepted
=====================  ==========================================================
``thing``              20 characters or fewer, any (汉字、数字、字母或符号)
``character_string``   32 or fewer digits, letters or symbols; no Chinese
``phrase``             5 Chinese characters or fewer, Chinese only
``number``             32 or fewer digits, may carry a decimal part (and a sign)
``amount``             one currency symbol + 10 digits or fewer, may carry
                       decimals, may end in 元 ("¥12.50", "12.50元", "￥3")
``time``               24 h time, with or without a date ("15:01",
                       "2023-05-30 12:00", "2023年5月30日 12:00"); a date alone is
                       accepted; a period is two of them joined by "~"
``date``               a date, with or without a 24 h time; periods with "~"
``letter``             32 letters or fewer
``symbol``             5 symbols or fewer
``name``               10 Chinese characters or fewer (mixed Chinese and letters
                       count as Chinese), or 20 letters/symbols or fewer
``phone_number``       17 or fewer digits, "+" or "-"
``car_number``         8 or fewer; first and last may be Chinese, the rest
                       letters or digits (粤A8Z888挂)
``const``              20 characters or fewer (values approved with the template;
                       the empty string is allowed)
=====================  ==========================================================

- ``data`` holds exactly the template's own keywords (``thing1``, ``amount2``…),
  each as ``{"value": "<string>"}``; an unknown key, a missing key, a non-string
  value or a value breaking its type -> 47003 ``argument invalid! data.<key>.value
  invalid``; the legacy ``first``/``remark`` keys are gone since 2023-05 (47003);
  ``color`` fields are ignored.
- The amount's "1 currency symbol" is read as: a symbol in front, or 元 at the
  end, or both; bare "3.00" is refused (as WeChat does).  Keyword types not in
  the table (e.g. ``short_thing``, ``enum``) are held to 20 characters.
"""

import re

from .errors import WeChatError

KEY_RE = re.compile(r"^([a-z_]+?)(\d+)$")
CJK = "\u4e00-\u9fff\u3400-\u4dbf"
_CJK_RE = re.compile(f"[{CJK}]")
_DATE = r"(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{4}年\d{1,2}月\d{1,2}日|\d{1,2}月\d{1,2}日)"
_TIME = r"(?:[01]?\d|2[0-3])[:：][0-5]\d(?:[:：][0-5]\d)?"
_POINT_TIME = re.compile(rf"^(?:{_DATE}\s*{_TIME}|{_DATE}|{_TIME})$")
_POINT_DATE = re.compile(rf"^{_DATE}(?:\s*{_TIME})?$")
_AMOUNT = re.compile(r"^(?P<cur>[¥￥$€£])?\s*(?P<int>\d{1,10})(?:\.\d{1,2})?(?P<yuan>元)?$")
_SYMBOL_RE = re.compile(rf"^[^\w\s{CJK}]{{1,5}}$")

LABELS = {
    "thing": "名称",
    "character_string": "编号",
    "phrase": "状态",
    "number": "数量",
    "amount": "金额",
    "time": "时间",
    "date": "日期",
    "letter": "代码",
    "symbol": "符号",
    "name": "姓名",
    "phone_number": "电话",
    "car_number": "车牌",
    "const": "类型",
}
EXAMPLES = {
    "thing": "会员积分变动",
    "character_string": "NO20230530001",
    "phrase": "已完成",
    "number": "120",
    "amount": "¥12.50",
    "time": "2023-05-30 12:00",
    "date": "2023年5月30日",
    "letter": "VIP",
    "symbol": "*",
    "name": "张三",
    "phone_number": "+86-0766-66888866",
    "car_number": "粤A8Z888挂",
    "const": "积分到账",
}
CATEGORY_INDUSTRY = {
    "retail": ("消费品", "零售/百货"),
    "catering": ("餐饮", "餐饮"),
    "beauty": ("医药护理", "护理美容"),
}


def keyword_type(key):
    match = KEY_RE.match(key or "")
    return match.group(1) if match else None


def _period(value, point_re):
    parts = [p.strip() for p in value.split("~")]
    return 1 <= len(parts) <= 2 and all(point_re.match(p) for p in parts)


def _ascii_printable(value):
    return all("\x21" <= c <= "\x7e" for c in value)


def _name(value):
    if any(c.isdigit() for c in value):
        return False
    if _CJK_RE.search(value):  # mixed Chinese and letters count as a Chinese name
        return len(value) <= 10 and all(_CJK_RE.match(c) or c.isalpha() or c in "·• " for c in value)
    return len(value) <= 20


def _car_number(value):
    if not 2 <= len(value) <= 8:
        return False
    inner_ok = all(c.isascii() and c.isalnum() for c in value[1:-1])
    return inner_ok and all((c.isascii() and c.isalnum()) or _CJK_RE.match(c) for c in (value[0], value[-1]))


def _amount(value):
    match = _AMOUNT.match(value)
    return match is not None and bool(match.group("cur") or match.group("yuan"))


RULES = {
    "thing": lambda v: len(v) <= 20,
    "character_string": lambda v: len(v) <= 32 and _ascii_printable(v),
    "phrase": lambda v: len(v) <= 5 and all(_CJK_RE.match(c) for c in v),
    "number": lambda v: len(v) <= 32 and re.match(r"^[+-]?\d+(\.\d+)?$", v) is not None,
    "amount": _amount,
    "time": lambda v: _period(v, _POINT_TIME),
    "date": lambda v: _period(v, _POINT_DATE),
    "letter": lambda v: len(v) <= 32 and re.match(r"^[A-Za-z]+$", v) is not None,
    "symbol": lambda v: _SYMBOL_RE.match(v) is not None,
    "name": _name,
    "phone_number": lambda v: len(v) <= 17 and re.match(r"^[0-9+\-]+$", v) is not None,
    "car_number": _car_number,
}


def value_ok(kind, value):
    """True when ``value`` (a str) is acceptable for a keyword of type ``kind``."""
    if kind == "const":
        return len(value) <= 20
    if not value:
        return False
    return RULES.get(kind, lambda v: len(v) <= 20)(value)


def check_data(data, keywords):
    """Raise WeChatError(47003) unless ``data`` fits the template ``keywords`` exactly.
    Returns the data with only the values kept (colours dropped)."""
    if not isinstance(data, dict):
        raise WeChatError(47003, "argument invalid! data invalid")
    for key in data:
        if key not in keywords:
            raise WeChatError(47003, f"argument invalid! data.{key} invalid (not a keyword of this template)")
    out = {}
    for key in keywords:
        item = data.get(key)
        if not isinstance(item, dict) or "value" not in item:
            raise WeChatError(47003, f"argument invalid! data.{key}.value invalid (missing)")
        value = item["value"]
        if not isinstance(value, str) or not value_ok(keyword_type(key), value):
            raise WeChatError(47003, f"argument invalid! data.{key}.value invalid")
        out[key] = {"value": value}
    return out


def normalise_keywords(keywords):
    """``("thing1", ("积分", "number2"), "amount3")`` -> [(label, key), ...]."""
    out = []
    for item in keywords:
        label, key = item if isinstance(item, tuple | list) else (None, item)
        kind = keyword_type(key)
        if kind is None:
            raise ValueError(f"bad keyword {key!r}: expected a type and a number, like thing1")
        out.append((label or LABELS.get(kind, kind), key))
    return out


def template_record(template_id, title, keywords, category=None):
    """The stored template: the ``get_all_private_template`` fields plus ``keywords``/``category``."""
    pairs = normalise_keywords(keywords)
    primary, deputy = CATEGORY_INDUSTRY.get(category, (category or "", category or ""))
    return {
        "template_id": template_id,
        "title": title,
        "content": "\n".join(f"{label}:{{{{{key}.DATA}}}}" for label, key in pairs),
        "primary_industry": primary,
        "deputy_industry": deputy,
        "example": "\n".join(f"{label}:{EXAMPLES.get(keyword_type(key), '')}" for label, key in pairs),
        "keywords": [key for _label, key in pairs],
        "category": category,
    }


PUBLIC_FIELDS = ("template_id", "title", "content", "primary_industry", "deputy_industry", "example")


def sample_data(keywords):
    """Valid ``data`` for the keywords (handy in tests)."""
    return {key: {"value": EXAMPLES.get(keyword_type(key), "x")} for key in keywords}
