"""Control endpoints under ``/_fake/`` (JSON) for the CLI, the demo sandbox and
black-box tests that cannot reach the Python object.  Not part of WeChat.

- ``POST /_fake/accounts``      add (or update) an account: add_account() arguments,
                                plus ``followers: n``, ``templates: [...]`` and ``subscribe_templates: [...]``
- ``POST /_fake/followers``     {appid, n} or {appid, openid, unionid, ..., cs_message_at (epoch: their last message)}
- ``POST /_fake/simulate``      {appid, action: follow|scan|unfollow|click|view|text|oauth|verify,
                                openid, scene, ticket, key, content, url}
- ``POST /_fake/pay_script``    {auth_code (generated when absent), outcome, openid, is_subscribe, recall,
                                reverse_userpaying}
- ``POST /_fake/refund_script`` {outcome (SUCCESS, CHANGE, REFUNDCLOSE, NOTENOUGH, SYSTEMERROR), processing,
  out_trade_no (the next refund of any charge when absent)}
- ``POST /_fake/pay_bill``      {number (out_trade_no or out_refund_no), omit: true | amount_fen: n}
                                (change the day bills: fake.pay_bill_omit / pay_bill_amount);
                                {advance_to: "yyyyMMdd"} moves the clock to when that day's bill is fetched
- ``POST /_fake/pay/jsapi_pay`` {out_trade_no, mch_id?, openid? (NATIVE: the scanning user), bank_type?}
                                (the member pays a JSAPI / NATIVE order without a browser: fake.pay_jsapi)
                                -> {out_trade_no, transaction_id, openid, trade_state, time_end}; 400 when unpayable
- ``POST /_fake/pay/notify``    {out_trade_no, mode: duplicate|bad_sign|bad_amount|notify, mch_id?, total_fee?
                                (bad_amount's), wait? (default true)} (fake.pay_notify) -> the attempt's record
- ``POST /_fake/pay/notify_delays`` {delays: [seconds, ...]} or {scale: f} (none: WeChat's schedule) -> {delays}
- ``GET /_fake/pay/notifications?out_trade_no=`` -> {notifications: [attempt records]}
- ``POST /_fake/pay/auth_dirs`` {mch_id, dirs: [url prefixes]} (支付授权目录 for wx.chooseWXPay: exact directories or a
                                host root; [] = any page)
- ``POST /_fake/inject``        fake.inject() arguments
- ``POST /_fake/browser_user``  {appid, openid}
- ``POST /_fake/browser_location`` {appid, latitude, longitude, openid?} (what ``wx.getLocation`` gives)
- ``POST /_fake/templates``     {appid, template_id, title, keywords, category}
- ``POST /_fake/subscribe_templates`` {appid, template_id, title, keywords}
- ``POST /_fake/subscribe``     {appid, openid, templates: [ids] or "id1,id2", status: accept|reject}
                                (the user answers a subscribe-notice popup: fake.subscribe_accept)
- ``GET|POST /_fake/clock``     {advance: seconds} -> {now}
- ``GET /_fake/calls|violations|deliveries|state?appid=``, ``POST /_fake/clear``
"""

import functools
import json

from .web import json_reply

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


def _body(req):
    if not req.body:
        return {}
    data = json.loads(req.body.decode("utf-8"))
    if not isinstance(data, dict):
        raise ValueError("JSON object expected")
    return data


def control(fn):
    @functools.wraps(fn)
    def wrapper(fake, req):
        try:
            return fn(fake, req, _body(req) if req.method == "POST" else dict(req.query))
        except (ValueError, KeyError, TypeError) as exc:
            return json_reply({"error": f"{exc.__class__.__name__}: {exc}"}, 400)

    return wrapper


def _scene(value):
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


@control
def accounts(fake, req, body):
    fields = {k: body[k] for k in ACCOUNT_FIELDS if k in body}
    with fake.lock:
        acc = fake.accounts.get(fields.get("appid"))
        if acc is None:
            acc = fake.add_account(**fields)
        else:
            for key, value in fields.items():
                setattr(acc, key, value)
        for template_id in body.get("templates") or ():
            acc.add_template(template_id)
        for template_id in body.get("subscribe_templates") or ():
            acc.add_subscribe_template(template_id)
        if body.get("followers"):
            acc.add_followers(int(body["followers"]))
    return acc.summary()


@control
def followers(fake, req, body):
    acc = fake.account(body["appid"])
    if body.get("n"):
        return {"openids": acc.add_followers(int(body["n"]))}
    kwargs = {
        k: body[k]
        for k in ("openid", "unionid", "subscribe_scene", "qr_scene", "qr_scene_str", "subscribe_time")
        if k in body
    }
    openid = kwargs.get("openid")
    if not (openid and acc.user(openid)):  # a follower known already stays as it is
        openid = acc.add_follower(**kwargs)
    if body.get("cs_message_at"):  # the follower's last message (epoch seconds): its customer-service grant
        with fake.lock:
            acc.user(openid).open_cs_window(float(body["cs_message_at"]), "message")
    return {"openids": [openid]}


@control
def simulate(fake, req, body):
    sim = fake.simulator(body["appid"])
    action = body.get("action")
    openid = body.get("openid") or None
    if action == "follow":
        result = sim.follow(openid, scene=_scene(body.get("scene")), ticket=body.get("ticket"))
    elif action == "scan":
        result = sim.scan(openid, scene=_scene(body.get("scene")), ticket=body.get("ticket"))
    elif action == "unfollow":
        result = sim.unfollow(openid)
    elif action == "click":
        result = sim.click(openid, body["key"])
    elif action == "view":
        result = sim.view(openid, body["url"])
    elif action == "text":
        result = sim.text(openid, body["content"])
    elif action == "oauth":
        resp = sim.oauth(openid, body["url"])
        return {"status": resp.status_code, "url": resp.url, "body": resp.text[:5000], "hops": resp.hops}
    elif action == "verify":
        resp = sim.verify()
        return {"status": resp.status_code, "body": resp.text, "verified": resp.verified}
    else:
        raise ValueError(f"unknown action {action!r}")
    return result.as_dict()


@control
def pay_script(fake, req, body):
    code = body.get("auth_code") or fake.auth_code()
    outcome = body.get("outcome", "SUCCESS")
    fake.pay_script(
        code,
        outcome,
        openid=body.get("openid"),
        is_subscribe=body.get("is_subscribe"),
        recall=int(body.get("recall") or 0),
        reverse_userpaying=int(body.get("reverse_userpaying") or 0),
    )
    return {"auth_code": code, "outcome": outcome}


@control
def refund_script(fake, req, body):
    outcome = body.get("outcome", "SUCCESS")
    fake.refund_script(outcome, processing=int(body.get("processing", 1)), out_trade_no=body.get("out_trade_no"))
    return {"outcome": outcome}


@control
def pay_bill(fake, req, body):
    result = {}
    if body.get("number"):
        if body.get("omit"):
            fake.pay_bill_omit(body["number"])
        if body.get("amount_fen") is not None:
            fake.pay_bill_amount(body["number"], int(body["amount_fen"]))
    if body.get("advance_to"):
        result["advanced"] = fake.advance_to_bill(body["advance_to"])
    result["now"] = fake.now()
    return result


def _order_view(order):
    return {
        "out_trade_no": order.out_trade_no,
        "transaction_id": order.transaction_id,
        "openid": order.openid,
        "trade_state": order.state,
        "time_end": order.time_end,
    }


@control
def pay_jsapi(fake, req, body):
    order = fake.pay_jsapi(
        body["out_trade_no"],
        mch_id=body.get("mch_id"),
        openid=body.get("openid"),
        bank_type=body.get("bank_type") or "OTHERS",
    )
    with fake.lock:
        return _order_view(order)


@control
def pay_notify(fake, req, body):
    wait = body.get("wait", True)
    record = fake.pay_notify(
        body["out_trade_no"],
        mode=body.get("mode", "duplicate"),
        mch_id=body.get("mch_id"),
        total_fee=body.get("total_fee"),
        wait=wait not in (False, "false", "0", 0),
    )
    return record or {"scheduled": True}


@control
def pay_notify_delays(fake, req, body):
    return {"delays": fake.set_pay_notify_delays(body.get("delays"), body.get("scale"))}


@control
def pay_notifications(fake, req, body):
    with fake.lock:
        items = list(fake.pay_notifications)
    if body.get("out_trade_no"):
        items = [n for n in items if n["out_trade_no"] == body["out_trade_no"]]
    return {"notifications": items}


@control
def pay_auth_dirs(fake, req, body):
    fake.set_pay_auth_dirs(body["mch_id"], body.get("dirs") or [])
    return {"mch_id": body["mch_id"], "dirs": body.get("dirs") or []}


@control
def inject(fake, req, body):
    return fake.inject(**body).as_dict()


@control
def browser_user(fake, req, body):
    fake.set_browser_user(body["appid"], body["openid"])
    return {"appid": body["appid"], "openid": body["openid"]}


@control
def browser_location(fake, req, body):
    fake.set_browser_location(body["appid"], body["latitude"], body["longitude"], body.get("openid"))
    return {"ok": True}


def _template_kwargs(body, *names):
    return {k: (tuple(body[k]) if k == "keywords" else body[k]) for k in names if body.get(k)}


@control
def templates(fake, req, body):
    kwargs = _template_kwargs(body, "title", "keywords", "category")
    return {"template_id": fake.account(body["appid"]).add_template(body["template_id"], **kwargs)}


@control
def subscribe_templates(fake, req, body):
    kwargs = _template_kwargs(body, "title", "keywords")
    return {"template_id": fake.account(body["appid"]).add_subscribe_template(body["template_id"], **kwargs)}


@control
def subscribe(fake, req, body):
    result = fake.subscribe_accept(body["appid"], body["openid"], body["templates"], body.get("status", "accept"))
    return result.as_dict()


@control
def clock(fake, req, body):
    if body.get("advance"):
        fake.advance(float(body["advance"]))
    return {"now": fake.now()}


@control
def calls(fake, req, body):
    with fake.lock:
        items = list(fake.calls)
    if body.get("appid"):
        items = [c for c in items if c["appid"] == body["appid"]]
    if body.get("path"):
        items = [c for c in items if c["path"].endswith(body["path"])]
    return {"calls": items}


@control
def violations(fake, req, body):
    with fake.lock:
        return {"violations": list(fake.violations)}


@control
def deliveries(fake, req, body):
    with fake.lock:
        return {"deliveries": [list(d) for d in fake.deliveries]}


@control
def state(fake, req, body):
    if body.get("appid"):
        return fake.account(body["appid"]).summary()
    with fake.lock:
        appids = list(fake.accounts)
    return {
        "now": fake.now(),
        "accounts": [fake.account(a).summary() for a in appids],
        "violations": len(fake.violations),
        "calls": len(fake.calls),
    }


@control
def clear(fake, req, body):
    fake.clear_logs()
    return {"ok": True}


@control
def health(fake, req, body):
    return {"ok": True, "url": fake.url}


ROUTES = [
    ("POST", "/_fake/accounts", accounts),
    ("POST", "/_fake/followers", followers),
    ("POST", "/_fake/simulate", simulate),
    ("POST", "/_fake/pay_script", pay_script),
    ("POST", "/_fake/refund_script", refund_script),
    ("POST", "/_fake/pay_bill", pay_bill),
    ("POST", "/_fake/pay/jsapi_pay", pay_jsapi),
    ("POST", "/_fake/pay/notify", pay_notify),
    ("POST", "/_fake/pay/notify_delays", pay_notify_delays),
    ("GET", "/_fake/pay/notifications", pay_notifications),
    ("POST", "/_fake/pay/auth_dirs", pay_auth_dirs),
    ("POST", "/_fake/inject", inject),
    ("POST", "/_fake/browser_user", browser_user),
    ("POST", "/_fake/browser_location", browser_location),
    ("POST", "/_fake/templates", templates),
    ("POST", "/_fake/subscribe_templates", subscribe_templates),
    ("POST", "/_fake/subscribe", subscribe),
    ("GET", "/_fake/clock", clock),
    ("POST", "/_fake/clock", clock),
    ("GET", "/_fake/calls", calls),
    ("GET", "/_fake/violations", violations),
    ("GET", "/_fake/deliveries", deliveries),
    ("GET", "/_fake/state", state),
    ("POST", "/_fake/clear", clear),
    ("GET", "/_fake/health", health),
]
