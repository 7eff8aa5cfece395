import logging
import re

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools.misc import format_datetime

from ..tools.wechat_api import WeChatError

_logger = logging.getLogger(__name__)

# Keyword keys of WeChat's current templates (since May 2023): type + number, e.g. thing1, amount2.
KEYWORD_RE = re.compile(
    r"^(thing|character_string|phrase|number|amount|time|date|letter|symbol|name|phone_number|"
    r"car_number|const)(\d{1,2})$"
)
HAN_RE = re.compile(r"[\u3400-\u9fff]")
# The values an Odoo notice can show, and their kind of content.
VALUE_TYPES = {
    "amount": "amount",
    "points": "number",
    "balance": "number",
    "store": "text",
    "member_name": "text",
    "coupon_name": "text",
    "coupon_code": "code",
    "expiry_date": "time",
    "date": "time",
    "reason": "text",
    "friend": "text",
    "reply": "text",
    "order_ref": "code",
    "fixed": "fixed",
}
VALUE_LABELS = [
    ("amount", "Amount"),
    ("points", "Points moved"),
    ("balance", "Points balance"),
    ("store", "Store"),
    ("member_name", "Member name"),
    ("coupon_name", "Coupon name"),
    ("coupon_code", "Coupon code"),
    ("expiry_date", "Expiry date"),
    ("date", "Date and time"),
    ("reason", "Reason"),
    ("friend", "Friend"),
    ("reply", "Reply"),
    ("order_ref", "Order reference"),
    ("fixed", "Fixed text"),
]
# Which keyword types can show which kind of value.
COMPATIBLE = {
    "thing": {"text", "number", "amount", "time", "code", "fixed"},
    "character_string": {"code", "number", "fixed"},
    "number": {"number", "fixed"},
    "amount": {"amount", "fixed"},
    "time": {"time", "fixed"},
    "date": {"time", "fixed"},
    "phrase": {"fixed"},
    "letter": {"fixed"},
    "symbol": {"fixed"},
    "name": {"text", "fixed"},
    "phone_number": {"fixed"},
    "car_number": {"fixed"},
    "const": {"fixed"},
}
# WeChat's limits per keyword type (characters); cut to them before sending.
LIMITS = {
    "thing": 20,
    "character_string": 32,
    "phrase": 5,
    "number": 32,
    "amount": 20,
    "letter": 32,
    "symbol": 5,
    "name": 10,
    "phone_number": 17,
    "car_number": 8,
    "const": 20,
    "time": 32,
    "date": 32,
}


def keyword_type(keyword):
    match = KEYWORD_RE.match(keyword or "")
    return match.group(1) if match else None


def fit_value(ktype, value):
    """``value`` (a string) cut and cleaned to what WeChat accepts for a keyword of type ``ktype``."""
    value = " ".join(str(value if value is not None else "").split())
    if ktype == "character_string":
        value = re.sub(r"[^\x21-\x7e]", "", value)
    elif ktype == "number":
        match = re.search(r"[-+]?\d+(\.\d+)?", value.replace(",", ""))
        value = match.group(0) if match else "0"
    elif ktype == "phrase":
        value = "".join(HAN_RE.findall(value))
    elif ktype == "name" and not HAN_RE.search(value):
        return value[:20]
    limit = LIMITS.get(ktype, 20)
    if len(value) > limit:
        value = value[: limit - 1] + "…" if ktype == "thing" else value[:limit]
    return value


def check_fixed(ktype, value):
    """The reason a fixed text cannot stand in a keyword of type ``ktype``, or None."""
    if not value:
        return _("a fixed text is empty")
    if ktype == "phrase" and (len(value) > 5 or HAN_RE.sub("", value)):
        return _("a phrase is at most 5 Chinese characters")
    if ktype == "character_string" and (len(value) > 32 or HAN_RE.search(value)):
        return _("a character string is at most 32 letters, digits or symbols, without Chinese")
    if ktype == "number" and not re.fullmatch(r"[-+]?\d+(\.\d+)?", value):
        return _("a number has digits only")
    if len(value) > LIMITS.get(ktype, 20):
        return _("at most %(limit)s characters", limit=LIMITS.get(ktype, 20))
    return None


class WeChatNoticeTemplate(models.Model):
    """Which WeChat template carries a kind of notice on an account, and what each keyword shows.

    WeChat's templates take their own keyword keys (``thing1``, ``amount2``,
    ``time3``…) with a type and a length limit each; a mapping says, for
    each keyword, which Odoo value it shows.  Checked when saved, cut to the
    limits when sent; a template WeChat deleted (40037) or refused (47003)
    marks the mapping broken: the router falls back to the next channel and
    the manager gets an activity.
    """

    _name = "wechat.notice.template"
    _description = "WeChat Notice Template Mapping"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "account_id, kind_id, id"
    _check_company_auto = True

    account_id = fields.Many2one("wechat.account", required=True, ondelete="cascade", index=True, check_company=True)
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    kind_id = fields.Many2one("wechat.notice.kind", string="Notice Kind", required=True, ondelete="cascade")
    kind_category = fields.Selection(related="kind_id.category")
    channel = fields.Selection(
        [("template", "Template message"), ("subscribe", "Subscribe notice")],
        default="template",
        required=True,
        help="Template message: the account's template library (transactional notices only). Subscribe notice: a "
        "one-time 订阅通知 the member opted in for on the member page.",
    )
    template_id = fields.Char("WeChat Template ID", required=True, tracking=True)
    active = fields.Boolean(default=True)
    state = fields.Selection(
        [("ok", "In use"), ("broken", "Broken")], default="ok", required=True, tracking=True, readonly=True
    )
    broken_reason = fields.Text(readonly=True)
    line_ids = fields.One2many("wechat.notice.template.line", "mapping_id", string="Keywords", copy=True)
    value_keys = fields.Char(related="kind_id.value_keys")
    value_labels = fields.Char(
        "Values Carried", compute="_compute_value_labels", help="What notices of this kind can show in a keyword."
    )

    _sql_constraints = [
        (
            "account_kind_channel_uniq",
            "UNIQUE(account_id, kind_id, channel)",
            "A notice kind has one mapping per channel on an account.",
        ),
    ]

    @api.depends("kind_id.name", "template_id")
    def _compute_display_name(self):
        for mapping in self:
            mapping.display_name = f"{mapping.kind_id.name or ''} ({mapping.template_id or ''})"

    @api.depends("kind_id.value_keys")
    @api.depends_context("lang")
    def _compute_value_labels(self):
        labels = dict(self.env["wechat.notice.template.line"]._fields["value_key"]._description_selection(self.env))
        for mapping in self:
            keys = [*mapping.kind_id._value_keys(), "member_name", "date"] if mapping.kind_id else []
            mapping.value_labels = ", ".join(labels[k] for k in dict.fromkeys(keys) if k in labels)

    @api.constrains("kind_id", "channel", "line_ids")
    def _check_mapping(self):
        labels = dict(VALUE_LABELS)
        for mapping in self:
            if mapping.channel == "template" and mapping.kind_id.category != "transactional":
                raise ValidationError(
                    _(
                        "%(kind)s is a marketing notice: WeChat forbids marketing in template "
                        "messages. Use a subscribe notice or the daily digest.",
                        kind=mapping.kind_id.name,
                    )
                )
            if not mapping.line_ids:
                raise ValidationError(
                    _("Map at least one keyword of template %(template)s.", template=mapping.template_id)
                )
            allowed = set(mapping.kind_id._value_keys()) | {"fixed", "date", "member_name"}
            seen = set()
            for line in mapping.line_ids:
                ktype = keyword_type(line.keyword)
                if not ktype:
                    raise ValidationError(
                        _(
                            "%(keyword)s is not a keyword of WeChat's templates: use the template's own keys, such as "
                            "thing1, amount2, time3, character_string4, number5 or phrase6.",
                            keyword=line.keyword,
                        )
                    )
                if line.keyword in seen:
                    raise ValidationError(_("Keyword %(keyword)s is mapped twice.", keyword=line.keyword))
                seen.add(line.keyword)
                if line.value_key not in allowed:
                    raise ValidationError(
                        _(
                            "%(kind)s notices carry no %(value)s.",
                            kind=mapping.kind_id.name,
                            value=labels.get(line.value_key, line.value_key),
                        )
                    )
                if VALUE_TYPES[line.value_key] not in COMPATIBLE[ktype]:
                    raise ValidationError(
                        _(
                            "Keyword %(keyword)s (%(type)s) cannot show %(value)s.",
                            keyword=line.keyword,
                            type=ktype,
                            value=labels[line.value_key],
                        )
                    )
                if line.value_key == "fixed":
                    reason = check_fixed(ktype, line.fixed_value)
                    if reason:
                        raise ValidationError(
                            _("Keyword %(keyword)s: %(reason)s.", keyword=line.keyword, reason=reason)
                        )

    def write(self, vals):
        if {"template_id", "line_ids", "channel"} & set(vals) and "state" not in vals:
            vals = dict(vals, state="ok", broken_reason=False)  # fixed by the manager: try it again
        return super().write(vals)

    # ------------------------------------------------------------------ sending
    def _data(self, values):
        """The ``data`` of the send: exactly the template's keywords, each within its type's limits."""
        self.ensure_one()
        data = {}
        for line in self.line_ids:
            ktype = keyword_type(line.keyword)
            raw = line.fixed_value if line.value_key == "fixed" else values.get(line.value_key)
            data[line.keyword] = {"value": fit_value(ktype, self._format(ktype, line.value_key, raw))}
        return data

    def _format(self, ktype, value_key, raw):
        if raw in (None, False):
            return ""
        if VALUE_TYPES.get(value_key) == "time" and not isinstance(raw, str):
            tz = self.account_id.company_id._wechat_tz().zone
            fmt = "yyyy-MM-dd" if ktype == "date" else "yyyy-MM-dd HH:mm"
            return format_datetime(self.env, raw, tz=tz, dt_format=fmt)
        if VALUE_TYPES.get(value_key) == "amount" and isinstance(raw, int | float):
            symbol = self.account_id.company_id.currency_id.symbol or "¥"
            return f"{symbol}{raw:.2f}"
        if isinstance(raw, float):
            return f"{raw:g}"  # 100.0 points are "100"
        return str(raw)

    def _send(self, member, values, url=None, key=None):
        """Send to ``member``; raises :class:`WeChatError` (the router handles it)."""
        self.ensure_one()
        api = self.account_id._api()
        if self.channel == "subscribe":
            payload = {"touser": member.openid, "template_id": self.template_id, "data": self._data(values)}
            if url:
                payload["page"] = url
            return api.post("message/subscribe/bizsend", payload)
        return api.send_template(member.openid, self.template_id, self._data(values), url=url, client_msg_id=key)

    def _mark_broken(self, exc):
        """WeChat refused the template: stop using it and tell the managers (once)."""
        for mapping in self.filtered(lambda m: m.state == "ok"):
            reason = _("WeChat error %(code)s: %(message)s", code=exc.errcode, message=str(exc))
            mapping.sudo().write({"state": "broken", "broken_reason": reason})
            mapping.sudo().activity_schedule(
                "mail.mail_activity_data_todo",
                summary=_("Fix the WeChat template of %(kind)s notices", kind=mapping.kind_id.name),
                note=_(
                    "%(reason)s. Notices of this kind use the next channel until the mapping is fixed "
                    "(template deleted on WeChat, or keywords that no longer match).",
                    reason=reason,
                ),
                user_id=mapping.account_id._manager_user().id,
            )

    # ------------------------------------------------------------------ member page
    @api.model
    def _member_page_notify_values(self, member, page_url, in_wechat):
        """The "Notify me" block of ``member``'s page: one button per kind with a working subscribe-notice mapping.

        None when the account maps none.  ``needs_wechat``: a real account
        outside WeChat (``in_wechat`` false: the open tag works in WeChat's
        browser only).  The counts are the member's own opt-ins left.  The
        page (``page_url``) is signed with the account's jsapi_ticket, asked
        from WeChat when needed: ``error`` when WeChat gives none.
        """
        account = member.account_id
        mappings = (
            self.sudo()
            .search(
                [
                    ("account_id", "=", account.id),
                    ("channel", "=", "subscribe"),
                    ("state", "=", "ok"),
                    ("kind_id.active", "=", True),
                ]
            )
            .filtered(lambda m: "subscribe" in m.kind_id._channels())
            .sorted(lambda m: (m.kind_id.sequence, m.id))
        )
        if not mappings:
            return None
        values = {"needs_wechat": not (in_wechat or account.sandbox), "error": False, "items": []}
        if values["needs_wechat"]:
            return values
        left = dict(
            self.env["wechat.notice.optin"]
            .sudo()
            ._read_group(
                [
                    ("member_id", "=", member.id),
                    ("state", "=", "available"),
                    ("template_id", "in", mappings.mapped("template_id")),
                ],
                ["template_id"],
                ["__count"],
            )
        )
        lang = self.env.lang
        values["items"] = [
            {
                "code": mapping.kind_id.code,
                "name": mapping.kind_id.with_context(lang=lang).name,
                "template_id": mapping.template_id,
                "left_text": _("Notices left: %(count)s", count=left.get(mapping.template_id, 0)),
            }
            for mapping in mappings
        ]
        jssdk = account._jssdk_page_values(page_url, member, open_tags=["wx-open-subscribe"])
        if jssdk is None:
            values["error"] = True
            return values
        values.update(jssdk)
        return values

    # ------------------------------------------------------------------ actions
    def action_send_test(self):
        """Send a sample of this notice to the account's preview openids (the manager's own WeChat)."""
        self.ensure_one()
        account = self.account_id
        openids = [o.strip() for o in (account.preview_openids or "").split(",") if o.strip()]
        if not openids:
            raise UserError(
                _("Set your own openid in Preview OpenIDs on the account (Campaigns tab) to receive " "tests.")
            )
        Member = self.env["wechat.member"]
        sample = self._sample_values()
        for openid in openids:
            member, __ = Member._get_or_create(account, openid)
            try:
                self._send(member, sample, url=account._member_page_url())
            except WeChatError as exc:
                if exc.errcode in (40037, 47003):
                    self._mark_broken(exc)
                raise UserError(_("WeChat refused the test: %(error)s", error=exc)) from exc
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"type": "success", "message": _("Test sent to %(count)s openid(s).", count=len(openids))},
        }

    def _sample_values(self):
        company = self.account_id.company_id
        return {
            "amount": 128.0,
            "points": 128,
            "balance": 1024,
            "store": company.name,
            "member_name": _("Test member"),
            "coupon_name": _("Sample coupon"),
            "coupon_code": "044TEST0001",
            "expiry_date": fields.Datetime.now(),
            "date": fields.Datetime.now(),
            "reason": _("Test notice"),
            "friend": _("A friend"),
            "order_ref": "TEST-0001",
        }
