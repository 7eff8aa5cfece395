"""The WeChat callback (服务器配置 URL): ``/wechat/callback/<account id>``.

GET verifies the URL (echostr); POST receives messages and events, plain or
AES (safe / compatible mode).  The controller only verifies, decrypts and
parses; the models do the rest in a transaction of their own.  It answers
"success" or a passive reply well within WeChat's 5 seconds.
"""

import logging
import re
import secrets
import time
from xml.sax.saxutils import escape

from defusedxml import ElementTree as SafeET
from psycopg2.extensions import ISOLATION_LEVEL_READ_COMMITTED, TRANSACTION_STATUS_IDLE
from werkzeug.exceptions import BadRequest, Forbidden, NotFound
from werkzeug.wsgi import get_input_stream

from odoo import SUPERUSER_ID, api, http
from odoo.http import request
from odoo.sql_db import TestCursor
from odoo.tools.misc import hmac as hmac_sign

_logger = logging.getLogger(__name__)

MAX_BODY = 64 * 1024

# Paths whose query string carries credentials (callback signature, nonce and
# openid; OAuth code and state): the request log shows only the path.
_QUIET_QUERY_RE = re.compile(r"(/wechat/(?:callback|oauth|referral/oauth)/[^?\s\"]*)\?[^\s\"]*")


class _StripCallbackQuery(logging.Filter):
    """Drops the query string of the WeChat callback (and OAuth return) from werkzeug's request log lines."""

    def filter(self, record):
        if record.args and isinstance(record.args, tuple):
            args = tuple(
                _QUIET_QUERY_RE.sub(r"\1?[hidden]", a) if isinstance(a, str) and "/wechat/" in a else a
                for a in record.args
            )
            record.args = args
        elif isinstance(record.msg, str) and "/wechat/" in record.msg:
            record.msg = _QUIET_QUERY_RE.sub(r"\1?[hidden]", record.msg)
        return True


def _install_log_filter():
    werkzeug_logger = logging.getLogger("werkzeug")
    if not any(type(f).__name__ == "_StripCallbackQuery" for f in werkzeug_logger.filters):
        werkzeug_logger.addFilter(_StripCallbackQuery())


_install_log_filter()


def read_body(stream, limit=MAX_BODY):
    """At most ``limit + 1`` bytes of ``stream`` (a chunked body has no Content-Length to check first)."""
    chunks, size = [], 0
    while size <= limit:
        chunk = stream.read(limit + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def parse_xml(body):
    """Dict of a WeChat XML message (nested lists as lists of dicts, nested fields as dicts); refuses DTDs,
    entities and malformed XML."""
    try:
        root = SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except Exception as exc:  # defusedxml raises ParseError, DTDForbidden, EntitiesForbidden, ...
        raise ValueError(type(exc).__name__) from exc
    if root.tag != "xml":
        raise ValueError("root element is not <xml>")
    msg = {}
    for child in root:
        if len(child) and all(len(item) for item in child):  # e.g. SubscribeMsgPopupEvent: <List> items
            msg[child.tag] = [{field.tag: field.text or "" for field in item} for item in child]
        elif len(child):  # e.g. SendLocationInfo, ScanCodeInfo: fields of their own
            msg[child.tag] = {field.tag: field.text or "" for field in child}
        else:
            msg[child.tag] = child.text or ""
    return msg


def render_reply(reply, msg):
    """Passive reply XML for ``reply`` ({"type": "text", "content": ...})."""
    if reply.get("type") != "text":
        return None
    return (
        "<xml><ToUserName><![CDATA[{to}]]></ToUserName><FromUserName><![CDATA[{frm}]]></FromUserName>"
        "<CreateTime>{t}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        "<Content><![CDATA[{content}]]></Content></xml>"
    ).format(
        to=escape(msg.get("FromUserName", "")),
        frm=escape(msg.get("ToUserName", "")),
        t=int(time.time()),
        content=reply["content"].replace("]]>", "]]]]><![CDATA[>"),
    )


class WeChatCallbackController(http.Controller):
    def _account(self, account_id):
        """The active account ``account_id``, read in one query.

        All the fields a read of one of them would fetch (the prefetched
        columns): the handlers read more than the signature check does
        (welcome message, keywords, company), without a second query.
        """
        Account = request.env["wechat.account"].sudo()
        fnames = [name for name, field in Account._fields.items() if field.store and field.prefetch is True]
        account = Account.search_fetch([("id", "=", account_id)], fnames, limit=1)
        if not account:  # missing or archived (the search skips archived accounts)
            raise NotFound()
        return account

    @http.route(
        "/wechat/callback/<int:account_id>",
        type="http",
        auth="none",
        methods=["GET"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def callback_verify(self, account_id, signature=None, timestamp=None, nonce=None, echostr=None, **kw):
        account = self._account(account_id)
        if not account._check_callback_signature(signature, timestamp, nonce):
            _logger.warning("WeChat account %s: callback verification with a bad signature", account_id)
            raise Forbidden()
        if not request.env["wechat.callback.nonce"].sudo()._use(account, nonce, (echostr or "").encode()):
            _logger.warning("WeChat account %s: replayed verification signature refused", account_id)
            raise Forbidden()
        return request.make_response(echostr or "", headers=[("Content-Type", "text/plain")])

    @http.route(
        "/wechat/callback/<int:account_id>",
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def callback(self, account_id, **kw):
        read_committed = self._read_committed(request.env.cr)
        account = self._account(account_id)
        args = request.httprequest.args
        # The signature is in the query string: checked before a byte of the body is read.
        timestamp, nonce = args.get("timestamp"), args.get("nonce")
        if not account._check_callback_signature(args.get("signature"), timestamp, nonce):
            _logger.warning("WeChat account %s: callback with a bad signature refused", account_id)
            raise Forbidden()
        if (request.httprequest.content_length or 0) > MAX_BODY:
            raise BadRequest()
        # Odoo's request wrapper hides the stream (as bus/websocket.py, read the WSGI environ); werkzeug gives
        # the raw input for a chunked body, limited to Content-Length otherwise.
        body = read_body(get_input_stream(request.httprequest._HTTPRequest__environ))
        if len(body) > MAX_BODY:
            raise BadRequest()
        encrypted = args.get("encrypt_type") == "aes"
        if account.encrypt_mode == "safe" and not encrypted:
            # Safe mode means encrypted: a plaintext message (forged or downgraded) is refused.
            _logger.warning("WeChat account %s: plaintext callback refused in safe mode", account_id)
            raise BadRequest()
        try:
            msg = parse_xml(body)
            if encrypted:
                msg = self._decrypt(account, body, args)
        except Forbidden:
            raise
        except ValueError as exc:
            _logger.warning("WeChat account %s: unreadable callback body refused (%s)", account_id, exc)
            raise BadRequest() from exc
        if not msg.get("FromUserName") or not msg.get("MsgType"):
            raise BadRequest()
        # One signed URL, one body: a WeChat retry sends the same body again; another body is a replay.
        if not request.env["wechat.callback.nonce"].sudo()._use(account, nonce, body):
            _logger.warning("WeChat account %s: replayed callback signature refused", account_id)
            raise Forbidden()
        reply = self._dispatch(account, msg, read_committed)
        xml = render_reply(reply, msg) if reply else None
        if not xml:
            return request.make_response("success", headers=[("Content-Type", "text/plain")])
        if encrypted or account.encrypt_mode == "safe":
            xml = account._crypto().encrypt_message(xml, nonce or secrets.token_hex(8), timestamp)
        return request.make_response(xml, headers=[("Content-Type", "application/xml")])

    def _decrypt(self, account, body, args):
        from wechatpy.exceptions import InvalidSignatureException

        msg_signature = args.get("msg_signature") or ""
        if not msg_signature.isascii():
            raise Forbidden()
        try:
            plain = account._crypto().decrypt_message(
                body, args.get("msg_signature"), args.get("timestamp"), args.get("nonce")
            )
        except InvalidSignatureException as exc:
            _logger.warning("WeChat account %s: bad msg_signature refused", account.id)
            raise Forbidden() from exc
        except Exception as exc:  # bad padding, bad key, wrong appid, ...
            raise ValueError(f"decrypt: {type(exc).__name__}") from exc
        return parse_xml(plain)

    @staticmethod
    def _read_committed(cr):
        """Run the request's transaction in READ COMMITTED if it has not started yet; whether it does.

        The event is then processed in the request's own transaction (see
        ``_dispatch``): one connection and one commit per delivery.
        """
        if isinstance(cr, TestCursor) or cr._cnx.info.transaction_status != TRANSACTION_STATUS_IDLE:
            return False
        # On the connection, not a statement of its own: psycopg2 sends the level with the BEGIN it sends anyway
        # (no round trip); every Odoo cursor sets its connection back to REPEATABLE READ when it borrows it.
        cr._cnx.set_isolation_level(ISOLATION_LEVEL_READ_COMMITTED)
        return True

    def _dispatch(self, account, msg, read_committed=False):
        """Process ``msg`` in a READ COMMITTED transaction (see ``wechat.event._receive``).

        The request's own when ``read_committed`` (see ``_read_committed``), else one of its own.
        """
        if read_committed:
            env = api.Environment(request.env.cr, SUPERUSER_ID, dict(request.env.context))
            return env["wechat.event"]._receive(account.with_env(env), msg, signature_checked=True)
        registry = request.env.registry
        with registry.cursor() as cr:
            if not isinstance(cr, TestCursor):
                cr._cnx.set_isolation_level(ISOLATION_LEVEL_READ_COMMITTED)
            env = api.Environment(cr, SUPERUSER_ID, dict(request.env.context))
            # Only called once the signature (and msg_signature in AES mode) was verified.
            return env["wechat.event"]._receive(account.with_env(env), msg, signature_checked=True)


class WeChatCampaignLinks(http.Controller):
    VISITOR_COOKIE = "wechat_vid"

    @http.route(
        "/wechat/c/<int:campaign_id>/<string:sig>",
        type="http",
        auth="public",
        methods=["GET"],
        sitemap=False,
        readonly=False,
    )
    def campaign_click(self, campaign_id, sig, **kw):
        """Click-tracking redirect of a campaign link: one click per member (or browser) and link.

        Anyone can open the link (it is in a mass send): the signature only
        proves it is a link we made, so the count is kept per visitor.
        """
        campaign = request.env["wechat.campaign"].sudo().browse(campaign_id).exists()
        if not campaign or not campaign.link_url or not campaign._check_click_signature(sig):
            raise NotFound()
        visitor, cookie = self._click_visitor(campaign)
        request.env["wechat.campaign.click"].sudo()._count(campaign, visitor)
        response = request.redirect(campaign.link_url, local=False)
        if cookie:
            response.set_cookie(
                self.VISITOR_COOKIE,
                cookie,
                max_age=365 * 24 * 3600,
                httponly=True,
                samesite="Lax",
                secure=request.httprequest.scheme == "https",
            )
        return response

    def _click_visitor(self, campaign):
        """``(visitor key, cookie to set or None)``: the member known in this session, else the browser.

        A browser without our cookie (its first click, or a client that drops
        cookies) is keyed by its address and user agent, and gets that key as
        its cookie: repeated cookie-less hits from one client count once.
        """
        openid = request.session.get(f"wechat_openid_{campaign.account_id.id}")
        if openid:
            member = (
                request.env["wechat.member"]
                .sudo()
                .search([("account_id", "=", campaign.account_id.id), ("openid", "=", openid)], limit=1)
            )
            if member:
                return f"m:{member.id}", None
        cookie = request.httprequest.cookies.get(self.VISITOR_COOKIE) or ""
        if re.fullmatch(r"[0-9a-f]{32}", cookie):
            return f"b:{cookie}", None
        seed = f"{request.httprequest.remote_addr}|{request.httprequest.headers.get('User-Agent', '')}"
        cookie = hmac_sign(request.env(su=True), "wechat-click-visitor", seed)[:32]
        return f"b:{cookie}", cookie
