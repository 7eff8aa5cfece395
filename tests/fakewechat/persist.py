"""Saving and loading the fake's state to a JSON file (``serve --state-file``),
so a demo sandbox keeps its accounts, followers (with their CS grants), tags,
QR tickets, templates and subscribe templates, subscribe opt-ins, drafts and
media, menu, tokens and jsapi tickets across restarts.  Not a WeChat rule: sandbox convenience.
Mass jobs, payments and logs are not persisted.
"""

import json
import os
import tempfile

from .keywords import template_record
from .state import QrTicket, Token, User

DEFAULT_KEYWORDS = ("thing1", "amount2", "time3")

ACCOUNT_FIELDS = (
    "appid",
    "secret",
    "token",
    "aes_key",
    "encrypt_mode",
    "webhook_url",
    "mch_id",
    "mch_key",
    "certified",
    "original_id",
)


def dump_state(fake):
    with fake.lock:
        accounts = []
        for acc in fake.accounts.values():
            data = {k: getattr(acc, k) for k in ACCOUNT_FIELDS}
            data.update(
                {
                    "openid_prefix": acc._openid_prefix,
                    "users": [u.to_dict() for u in acc.users.values()],
                    "tags": [[tid, t["name"]] for tid, t in acc.tags.items()],
                    "next_tag_id": acc.next_tag_id,
                    "templates": list(acc.templates.values()),
                    "subscribe_templates": list(acc.subscribe_templates.values()),
                    "subscribe_optins": acc.subscribe_optins,
                    "drafts": acc.drafts,
                    "media": acc.media,
                    "cs_payment_grant": acc.cs_payment_grant,
                    "menu": acc.menu,
                    "qrcodes": [qr.to_dict() for qr in acc.qrcodes.values()],
                    "current_tokens": {s: (t.token if t else None) for s, t in acc.current_tokens.items()},
                    "token_generation": acc.token_generation,
                    "mass_quota_remaining": acc.mass_quota_remaining,
                }
            )
            accounts.append(data)
        return {
            "version": 1,
            "offset": fake._offset,
            "accounts": accounts,
            "tokens": [t.to_dict() for t in fake.tokens.values()],
            "browser_users": fake.browser_users,
            "jsapi_tickets": fake.jsapi_tickets,
        }


def save_state(fake, path):
    data = dump_state(fake)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".fakewechat-")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False)
    os.replace(tmp, path)


def load_state(fake, path):
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    with fake.lock:
        fake._offset = data.get("offset", 0.0)
        for tok in data.get("tokens", []):
            fake.tokens[tok["token"]] = Token.from_dict(tok)
        for item in data.get("accounts", []):
            acc = fake.add_account(**{k: item[k] for k in ACCOUNT_FIELDS})
            acc._openid_prefix = item.get("openid_prefix", acc._openid_prefix)
            for u in item.get("users", []):
                acc.users[u["openid"]] = User.from_dict(u)
            acc.tags = {int(tid): {"id": int(tid), "name": name} for tid, name in item.get("tags", [])}
            acc.next_tag_id = item.get("next_tag_id", 100)
            acc.templates = {t["template_id"]: _template(t) for t in item.get("templates", [])}
            acc.subscribe_templates = {t["template_id"]: t for t in item.get("subscribe_templates", [])}
            acc.subscribe_optins = list(item.get("subscribe_optins") or [])
            acc.drafts = dict(item.get("drafts") or {})
            acc.media = dict(item.get("media") or {})
            acc.cs_payment_grant = item.get("cs_payment_grant", True)
            acc.menu = item.get("menu")
            for q in item.get("qrcodes", []):
                qr = QrTicket.from_dict(q)
                acc.qrcodes[qr.ticket] = qr
                fake.qr_tickets[qr.ticket] = qr
            for series, value in (item.get("current_tokens") or {}).items():
                acc.current_tokens[series] = fake.tokens.get(value) if value else None
            acc.token_generation.update(item.get("token_generation") or {})
            acc.mass_quota_remaining = item.get("mass_quota_remaining")
        fake.browser_users.update(data.get("browser_users") or {})
        fake.jsapi_tickets.update(data.get("jsapi_tickets") or {})


def _template(record):
    """Templates saved before keyword rules: give them the default keywords."""
    if "keywords" not in record:
        return template_record(record["template_id"], record.get("title") or "Service notice", DEFAULT_KEYWORDS)
    return record
