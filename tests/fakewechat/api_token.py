"""Access tokens: ``GET /cgi-bin/token``, ``POST /cgi-bin/stable_token`` and the
``access_token`` check every other API performs.

Real-platform rules mimicked:
- a token lives 7200 s; fetching a new one from ``cgi-bin/token`` keeps the
  previous one usable for about 5 minutes (``token_grace_seconds``), then it
  answers 40001; an expired token answers 42001; a missing one 41001;
- ``cgi-bin/token``: 2000 calls a day (45009), 40013 bad appid, 40125 bad secret;
- ``stable_token`` (JSON POST) is a separate series: it returns the same token
  until 5 minutes before expiry (``expires_in`` = remaining seconds, so it can be
  as low as 300), ``force_refresh`` issues a new one (20 a day, then 45009).
Violations logged: a superseded token used after the grace period
(``stale_token``), daily limits hit (``token_daily_limit``).
"""

import string

from .clock import day_key
from .errors import WeChatError
from .state import Token

TOKEN_TTL = 7200
STABLE_RENEW_BEFORE = 300
_TOKEN_ALPHABET = string.ascii_letters + string.digits + "_-"


def _account(fake, appid, secret):
    if not appid:
        raise WeChatError(41002)
    acc = fake.accounts.get(appid)
    if acc is None:
        raise WeChatError(40013, "invalid appid")
    if not secret:
        raise WeChatError(41004)
    if secret != acc.secret:
        raise WeChatError(40125, "invalid appsecret")
    return acc


def issue_token(fake, acc, series, now):
    previous = acc.current_tokens[series]
    if previous is not None:
        previous.superseded_at = now
    acc.token_generation[series] += 1
    generation = acc.token_generation[series]
    value = "%d_%s" % (generation % 100, "".join(fake.rng.choices(_TOKEN_ALPHABET, k=130)))
    tok = Token(value, acc.appid, series, generation, now, now + TOKEN_TTL)
    fake.tokens[value] = tok
    acc.current_tokens[series] = tok
    return tok


def get_token(fake, req):
    q = req.query
    req.appid = q.get("appid")
    if q.get("grant_type") != "client_credential":
        raise WeChatError(40002)
    acc = _account(fake, q.get("appid"), q.get("secret"))
    now = fake.now()
    day = day_key(now)
    acc.token_calls[day] += 1
    if acc.token_calls[day] > acc.token_daily_limit:
        fake.violation(
            "token_daily_limit",
            "cgi-bin/token called %d times today (limit %d)" % (acc.token_calls[day], acc.token_daily_limit),
            acc.appid,
        )
        raise WeChatError(45009)
    tok = issue_token(fake, acc, "token", now)
    return {"access_token": tok.token, "expires_in": TOKEN_TTL}


def stable_token(fake, req):
    body = req.json()
    req.appid = body.get("appid")
    if body.get("grant_type") != "client_credential":
        raise WeChatError(40002)
    acc = _account(fake, body.get("appid"), body.get("secret"))
    force = body.get("force_refresh") in (True, "true", "True", 1, "1")
    now = fake.now()
    current = acc.current_tokens["stable"]
    if force:
        day = day_key(now)
        acc.stable_force_calls[day] += 1
        if acc.stable_force_calls[day] > acc.stable_force_daily_limit:
            fake.violation(
                "token_daily_limit",
                "stable_token force_refresh called %d times today (limit %d)"
                % (acc.stable_force_calls[day], acc.stable_force_daily_limit),
                acc.appid,
            )
            raise WeChatError(45009)
        current = issue_token(fake, acc, "stable", now)
    elif current is None or current.expires_at - now < STABLE_RENEW_BEFORE:
        current = issue_token(fake, acc, "stable", now)
    return {"access_token": current.token, "expires_in": int(current.expires_at - now)}


def authenticate(fake, req):
    """Check ``?access_token=``; return the account or raise 41001/40001/42001."""
    value = req.query.get("access_token")
    if not value:
        raise WeChatError(41001)
    tok = fake.tokens.get(value)
    if tok is None:
        raise WeChatError(40001)
    req.appid = tok.appid
    now = fake.now()
    if tok.superseded_at is not None and now >= tok.superseded_at + fake.token_grace_seconds:
        acc = fake.accounts[tok.appid]
        fake.violation(
            "stale_token",
            "%s token generation %d used %.0f s after it was superseded "
            "(current generation %d, grace %s s)"
            % (
                tok.series,
                tok.generation,
                now - tok.superseded_at,
                acc.token_generation[tok.series],
                fake.token_grace_seconds,
            ),
            tok.appid,
        )
        raise WeChatError(40001)
    if now >= tok.expires_at:
        raise WeChatError(42001)
    return fake.accounts[tok.appid]


ROUTES = [
    ("GET", "/cgi-bin/token", get_token),
    ("POST", "/cgi-bin/stable_token", stable_token),
]
