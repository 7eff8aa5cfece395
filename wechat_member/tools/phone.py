"""Phone numbers: the mainland China mobile of an input, and the comparison key of any phone.

Odoo's ``phone_validation`` (``phone_format``) needs the ``phonenumbers``
library, an optional dependency: without it, it returns the number as typed.
These helpers do not depend on it.
"""

import re

from ..const import CN_MOBILE_RE, PHONE_NOISE_RE


def normalize_cn_mobile(value):
    """``(digits, E.164)`` of a mainland China mobile (``+86 138-0013-8000`` → ``13800138000``,
    ``+8613800138000``), or ``(None, None)``."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    match = CN_MOBILE_RE.match(PHONE_NOISE_RE.sub("", str(value or "")))
    if not match:
        return None, None
    return match.group(1), "+86" + match.group(1)


def phone_key(value):
    """The 11 digits of a stored phone that is a mainland mobile, whatever its format, or ``None``."""
    return normalize_cn_mobile(value)[0]


def normalize_phone(phone):
    """Digits of any phone number without the Chinese country code (``+86 138 0013 8000`` → ``13800138000``).

    A comparison key (two contacts with the same phone), also for landlines and
    numbers abroad: ``""`` when fewer than 6 digits remain.  Same digits as
    :func:`normalize_cn_mobile` for a mainland mobile.
    """
    digits = re.sub(r"\D", "", phone or "").lstrip("0")
    if len(digits) > 11 and digits.startswith("86"):
        digits = digits[2:]
    return digits if len(digits) >= 6 else ""
