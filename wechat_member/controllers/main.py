"""The WeChat callback (服务器配置 URL): ``/wechat/callback/<account id>``.

GET verifies the URL (echostr); POST receives messages and events, plain or
AES (safe / compatible mode).  The controller only verifies, decrypts and
parses; the models do the rest in a transaction of their own.  It answers
"success" or a passive reply well within WeChat's 5 seconds.
"""

import logging
import secrets
import time
from xml.sax.saxutils import escape

from defusedxml import ElementTree as SafeET
from werkzeug.exceptions import BadRequest, Forbidden, NotFound

from odoo import SUPERUSER_ID, api, http
from odoo.http import request
from odoo.sql_db import TestCursor

_logger = logging.getLogger(__name__)

MAX_BODY = 64 * 1024


def parse_xml(body):
    """Dict of a WeChat XML message (nested lists as lists of dicts); refuses DTDs, entities and malformed XML."""
    try:
        root = SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except Exception as exc:  # defusedxml raises ParseError, DTDForbidden, EntitiesForbidden, ...
        raise ValueError(type(exc).__name__) from exc
    if root.tag != "xml":
        raise ValueError("root element is not <xml>")
    msg = {}
    for child in root:
        if len(child):  # e.g. SubscribeMsgPopupEvent: a list of <List> items
            msg[child.tag] = [{field.tag: field.text or "" for field in item} for item in child]
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
        account = request.env["wechat.account"].sudo().browse(account_id).exists()
        if not account or not account.active:
            raise NotFound()
        return account

    @http.route(
        "/wechat/callback/<int:account_id>", type="http", auth="none", methods=["GET"], csrf=False, save_session=False
    )
    def callback_verify(self, account_id, signature=None, timestamp=None, nonce=None, echostr=None, **kw):
        account = self._account(account_id)
        if not account._check_callback_signature(signature, timestamp, nonce):
            _logger.warning("WeChat account %s: callback verification with a bad signature", account_id)
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
        account = self._account(account_id)
        args = request.httprequest.args
        if (request.httprequest.content_length or 0) > MAX_BODY:
            raise BadRequest()
        body = request.httprequest.get_data(cache=False)
        if len(body) > MAX_BODY:
            raise BadRequest()
        timestamp, nonce = args.get("timestamp"), args.get("nonce")
        if not account._check_callback_signature(args.get("signature"), timestamp, nonce):
            _logger.warning("WeChat account %s: callback with a bad signature refused", account_id)
            raise Forbidden()
        encrypted = args.get("encrypt_type") == "aes"
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
        reply = self._dispatch(account, msg)
        xml = render_reply(reply, msg) if reply else None
        if not xml:
            return request.make_response("success", headers=[("Content-Type", "text/plain")])
        if encrypted:
            xml = account._crypto().encrypt_message(xml, nonce or secrets.token_hex(8), timestamp)
        return request.make_response(xml, headers=[("Content-Type", "application/xml")])

    def _decrypt(self, account, body, args):
        from wechatpy.exceptions import InvalidSignatureException

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

    def _dispatch(self, account, msg):
        """Process ``msg`` in a READ COMMITTED transaction of its own (see ``wechat.event._receive``)."""
        registry = request.env.registry
        with registry.cursor() as cr:
            if not isinstance(cr, TestCursor):
                cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            env = api.Environment(cr, SUPERUSER_ID, dict(request.env.context))
            # Only called once the signature (and msg_signature in AES mode) was verified.
            return env["wechat.event"]._receive(account.with_env(env), msg, signature_checked=True)


class WeChatCampaignLinks(http.Controller):
    @http.route("/wechat/c/<int:campaign_id>/<string:sig>", type="http", auth="public", methods=["GET"],
                sitemap=False)
    def campaign_click(self, campaign_id, sig, **kw):
        """Click-tracking redirect of a campaign link."""
        campaign = request.env["wechat.campaign"].sudo().browse(campaign_id).exists()
        if not campaign or not campaign.link_url or not campaign._check_click_signature(sig):
            raise NotFound()
        request.env.cr.execute(
            "UPDATE wechat_campaign SET click_count = COALESCE(click_count, 0) + 1 WHERE id = %s", [campaign.id]
        )
        return request.redirect(campaign.link_url, local=False)
