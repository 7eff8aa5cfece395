"""Constants shared by the WeChat modules (``wechat_member``, ``wechat_coupon``, ``wechat_referral``)."""

import re

# States of a POS order that is a purchase (paid, posted or invoiced).
PAID_STATES = ("paid", "done", "invoiced")

# Types of a QR channel (``wechat.qr.channel``, the acquisition funnel of ``wechat_referral``).
CHANNEL_TYPES = [
    ("store", "Store"),
    ("poster", "Poster / Receipt"),
    ("staff", "Staff"),
    ("campaign", "Campaign"),
    ("member", "Member"),
]

# Mainland China mobile numbers, with an optional country code; spaces, dashes, dots and brackets are ignored.
CN_MOBILE_RE = re.compile(r"^(?:\+?86|0086)?(1[3-9]\d{9})$")
PHONE_NOISE_RE = re.compile(r"[\s\-.()\u00a0（）]")
