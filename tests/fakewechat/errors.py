"""WeChat error codes and messages as the real platform returns them.

Real-platform rule mimicked: every Official Account API error is a JSON body
``{"errcode": N, "errmsg": "..."}`` with HTTP status 200; a few errors carry
extra fields (45065 carries the existing ``msg_id``).
"""

ERRMSG = {
    -1: "system error",
    0: "ok",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40004: "invalid media type",
    40007: "invalid media_id",
    40008: "invalid message type",
    40013: "invalid appid",
    40016: "invalid button size",
    40029: "invalid code",
    40032: "invalid openid list size",
    40037: "invalid template_id",
    40050: "invalid group id (use filter.tag_id)",
    40052: "invalid action name",
    40053: "invalid action info, please check document",
    40125: "invalid appsecret",
    40130: "invalid openid list size, at least two openid",
    40097: "invalid args",
    40163: "code been used",
    41001: "access_token missing",
    41002: "appid missing",
    41004: "appsecret missing",
    41005: "media data missing",
    41008: "missing code",
    42001: "access_token expired",
    43001: "require GET method",
    43002: "require POST method",
    43004: "require subscribe",
    43101: "user refuse to accept the msg",
    44002: "empty post data",
    44003: "empty news data",
    44004: "empty content",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit, must slower, retry next minute",
    45015: "response out of time limit or subscription is canceled",
    45027: "permanent qrcode count limit",
    45028: "has no masssend quota",
    45047: "out of response count limit",
    45056: "too many tags",
    45057: "can't delete the tag that has too many fans",
    45058: "can't modify sys tag",
    45059: "too many tags for user",
    45065: "clientmsgid exist",
    45066: "same clientmsgid retry too fast",
    45067: "clientmsgid size out of limit",
    45157: "invalid tag name",
    45158: "tag name too long",
    45159: "invalid tag id",
    46003: "menu no exist",
    47001: "data format error",
    47003: "argument invalid!",
    48001: "api unauthorized",
}


class WeChatError(Exception):
    """Raised by endpoint handlers; rendered as the real JSON error body."""

    def __init__(self, errcode, errmsg=None, **extra):
        self.errcode = errcode
        self.errmsg = errmsg or ERRMSG.get(errcode, "error")
        self.extra = extra
        super().__init__(f"{errcode} {self.errmsg}")

    def body(self):
        data = {"errcode": self.errcode, "errmsg": self.errmsg}
        data.update(self.extra)
        return data
