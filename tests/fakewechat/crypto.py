"""Signatures and AES message encryption exactly as WeChat computes them.

Real-platform rules mimicked:
- callback ``signature`` = sha1 of the sorted, concatenated [token, timestamp, nonce];
- safe mode ``msg_signature`` = sha1 of sorted [token, timestamp, nonce, Encrypt];
  ``Encrypt`` = base64(AES-256-CBC(random16 + len + xml + appid)) with the
  43-char EncodingAESKey (wechatpy's PrpCrypto does exactly this);
- JS-SDK ``wx.config`` signature = sha1("jsapi_ticket=…&noncestr=…&timestamp=…&url=…");
- WeChat Pay v2 ``sign`` = upper(md5("k1=v1&k2=v2...&key=KEY")) over non-empty
  values sorted by key (or HMAC-SHA256 when ``sign_type`` says so).
"""

import base64
import hashlib

from wechatpy.crypto import PrpCrypto
from wechatpy.pay.utils import calculate_signature, calculate_signature_hmac


def sha1_signature(*parts):
    data = sorted(str(p) for p in parts)
    return hashlib.sha1("".join(data).encode("utf-8")).hexdigest()


def jssdk_signature(ticket, noncestr, timestamp, url):
    """JS-SDK ``wx.config`` signature: sha1 of ``jsapi_ticket=T&noncestr=N&timestamp=TS&url=URL``
    (keys in ASCII order, raw values, URL without its #fragment)."""
    raw = f"jsapi_ticket={ticket}&noncestr={noncestr}&timestamp={timestamp}&url={url}"
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()


def callback_signature(token, timestamp, nonce):
    return sha1_signature(token, timestamp, nonce)


def msg_signature(token, timestamp, nonce, encrypt):
    return sha1_signature(token, timestamp, nonce, encrypt)


class MessageCrypto:
    """AES safe-mode encryption for one account (token, EncodingAESKey, appid)."""

    def __init__(self, token, aes_key, appid):
        if not aes_key or len(aes_key) != 43:
            raise ValueError("EncodingAESKey must be 43 characters")
        self.token = token
        self.appid = appid
        self.key = base64.b64decode(aes_key + "=")

    def encrypt(self, xml_text):
        return PrpCrypto(self.key).encrypt(xml_text, self.appid).decode("ascii")

    def decrypt(self, encrypt):
        """Decrypt and check the embedded appid; raises ValueError."""
        try:
            return PrpCrypto(self.key).decrypt(encrypt, self.appid)
        except Exception as exc:  # wechatpy raises InvalidAppIdException or cipher errors
            raise ValueError(f"cannot decrypt: {exc!r}") from exc


def pay_sign(params, key, sign_type="MD5"):
    clean = {k: v for k, v in params.items() if k != "sign" and v not in (None, "")}
    if sign_type == "HMAC-SHA256":
        return calculate_signature_hmac(clean, key)
    return calculate_signature(clean, key)


def check_pay_sign(params, key):
    sign = params.get("sign") or ""
    return bool(sign) and sign == pay_sign(params, key, params.get("sign_type") or "MD5")
