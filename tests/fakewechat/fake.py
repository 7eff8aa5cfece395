"""``FakeWeChat``: the fake platform object tests and the sandbox talk to.

It owns all state (one lock), the HTTP server, the background deliveries and
the rule-violation log.  Real-platform rules live in the ``api_*``, ``oauth``,
``pay`` and ``webhook`` modules; this file only wires them together.
"""

import itertools
import random
import threading
import time
import traceback

from cryptography.hazmat.primitives import serialization

from .api_subscribe import record_change, record_choice
from .pay import PayState, RefundScript, make_script
from .pay_bill import bill_ready_at, trade_bill_csv
from .pay_jsapi import NOTIFY_MODES, PAY_NOTIFY_DELAYS, charge, deliver_notify, payable_error
from .pay_v3 import PayV3State, V3Merchant
from .server import Injection, make_server
from .simulator import FollowerSimulator
from .state import FakeAccount
from .webhook import deliver

_ID_STARTS = {
    "mass": 1000000001,
    "msg_data": 2247483001,
    "template": 200228001,
    "subscribe": 1700827132819554304,
    "user_msg": 23500000000000001,
    "txn": 1,
    "refund": 1,
}


class FakeWeChat:
    """A fake WeChat platform on 127.0.0.1.

    ``FakeWeChat(token_grace_seconds=300, clock=None, callback_timeout=5.0,
    callback_retries=3, async_delay=0.2, seed=None)``; ``clock`` is a callable
    returning epoch seconds (default ``time.time``); ``fake.advance(s)`` moves the
    fake's time forward whatever the clock.

    WeChat Pay notifications (pay_jsapi.py): ``fake.pay_notify_delays`` (the waits before
    each retry, real seconds; WeChat's schedule by default, ``set_pay_notify_delays``
    scales it), ``fake.pay_notify_timeout`` (seconds the merchant has to answer; default
    ``callback_timeout``) and ``fake.pay_notifications`` (every delivery attempt).
    """

    hang_seconds = 30.0

    def __init__(
        self,
        token_grace_seconds=300,
        clock=None,
        callback_timeout=5.0,
        callback_retries=3,
        async_delay=0.2,
        seed=None,
        host="127.0.0.1",
    ):
        self.token_grace_seconds = token_grace_seconds
        self.callback_timeout = callback_timeout
        self.callback_retries = callback_retries
        self.async_delay = async_delay
        self.host = host
        self.lock = threading.RLock()
        self.rng = random.Random(seed)
        self._clock = clock or time.time
        self._offset = 0.0
        self._ids = {k: itertools.count(v) for k, v in _ID_STARTS.items()}
        self.accounts = {}
        self.tokens = {}
        self.qr_tickets = {}
        self.oauth_codes = {}
        self.oauth_tokens = {}
        self.oauth_refresh = {}
        self.browser_users = {}
        self.jsapi_tickets = {}  # ticket -> {appid, issued_at, expires_at}
        self.jssdk_sessions = {}  # session id -> a good wx.config (appid, openid, url, openTagList, ...)
        self.browser_locations = {}  # (appid, openid or None) -> (latitude, longitude): what wx.getLocation gives
        self.jssdk_calls = []  # the JS-SDK calls pages made: {api, appid, openid, args, t}
        self.payments = PayState()
        self.payments_v3 = PayV3State()
        # WeChat Pay v2 payment result notifications (pay_jsapi.py)
        self.pay_notifications = []  # every attempt: {out_trade_no, mode, attempt, status, answer, acknowledged, ...}
        self.pay_notify_delays = list(PAY_NOTIFY_DELAYS)
        self.pay_notify_timeout = callback_timeout
        self.injections = []
        self.calls = []
        self.violations = []
        self.deliveries = []
        self.errors = []  # tracebacks of bugs inside the fake itself
        self.violations_expected = False  # see expect_violations()
        self._server = None
        self._thread = None
        self._stop_event = threading.Event()
        self._pending = 0
        self._idle = threading.Condition(threading.Lock())

    # -- lifecycle -------------------------------------------------------
    def start(self, port=0):
        if self._server is not None:
            raise RuntimeError("already started")
        self._stop_event.clear()
        self._server = make_server(self, self.host, port)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fakewechat-%d" % self.port,
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self):
        self._stop_event.set()
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(5)

    def __enter__(self):
        return self.start() if self._server is None else self

    def __exit__(self, *exc):
        self.stop()

    @property
    def running(self):
        return self._server is not None

    @property
    def port(self):
        return self._server.server_address[1] if self._server else None

    @property
    def url(self):
        if self._server is None:
            return None
        return "http://%s:%d" % (self.host, self.port)

    # -- time and ids ----------------------------------------------------
    def now(self):
        return self._clock() + self._offset

    def advance(self, seconds):
        """Move the fake's time forward (works with any clock)."""
        with self.lock:
            self._offset += float(seconds)
            return self.now()

    def next_id(self, kind):
        with self.lock:
            return next(self._ids[kind])

    def auth_code(self, prefix="13"):
        """A fresh valid WeChat Pay auth code (18 digits, prefix 10-15)."""
        with self.lock:
            return prefix + "".join(self.rng.choices("0123456789", k=18 - len(prefix)))

    # -- accounts ----------------------------------------------------------
    def add_account(
        self,
        appid,
        secret,
        token="",
        aes_key=None,
        encrypt_mode="plain",
        webhook_url=None,
        mch_id=None,
        mch_key=None,
        certified=True,
        original_id=None,
    ):
        with self.lock:
            if appid in self.accounts:
                raise ValueError(f"account {appid} already exists")
            acc = FakeAccount(
                self, appid, secret, token, aes_key, encrypt_mode, webhook_url, mch_id, mch_key, certified, original_id
            )
            self.accounts[appid] = acc
            return acc

    def account(self, appid):
        with self.lock:
            try:
                return self.accounts[appid]
            except KeyError:
                raise KeyError(f"no account {appid} on the fake") from None

    def simulator(self, appid):
        return FollowerSimulator(self, appid)

    def set_browser_user(self, appid, openid):
        with self.lock:
            self.account(appid).ensure_user(openid)
            self.browser_users[appid] = openid

    def set_browser_location(self, appid, latitude, longitude, openid=None):
        """Where the in-app browser's user is (``wx.getLocation``): for ``openid``, or anyone of the account."""
        with self.lock:
            self.browser_locations[(appid, openid)] = (float(latitude), float(longitude))

    def subscribe_accept(self, appid, openid, template_ids, status="accept", scene=1):
        """The user answers a subscribe-notice popup (as the ``wx-open-subscribe`` open tag does):
        one accept (or reject) per template is recorded, each accept allows one ``bizsend``;
        ``subscribe_msg_popup_event`` is pushed to the webhook.  Returns the WebhookResult."""
        if isinstance(template_ids, str):
            template_ids = template_ids.split(",")
        with self.lock:
            acc = self.account(appid)
            event = record_choice(self, acc, openid, [t.strip() for t in template_ids], status, scene)
        return self.deliver(acc, event)

    def subscribe_change(self, appid, openid, template_ids):
        """The user turns notices off in the 服务通知 settings: unused accepts are void and
        ``subscribe_msg_change_event`` (reject) is pushed.  Returns the WebhookResult."""
        if isinstance(template_ids, str):
            template_ids = template_ids.split(",")
        with self.lock:
            acc = self.account(appid)
            event = record_change(self, acc, openid, list(template_ids))
        return self.deliver(acc, event)

    def template_fail_next(self, appid, n=1):
        """The next ``n`` template messages of ``appid`` are accepted but end
        ``TEMPLATESENDJOBFINISH`` Status ``failed: system failed``."""
        with self.lock:
            self.account(appid).template_fail_next += int(n)

    def pay_script(self, auth_code, outcome="SUCCESS", openid=None, is_subscribe=None, recall=0, reverse_userpaying=0):
        script = make_script(outcome, openid, is_subscribe, recall, reverse_userpaying)
        with self.lock:
            self.payments.scripts[auth_code] = script
        return auth_code

    def pay_bill_omit(self, number):
        """Leave the charge (``out_trade_no``) or refund (``out_refund_no``) ``number`` out of the day bills."""
        with self.lock:
            self.payments.bill_omit.add(number)

    def pay_bill_amount(self, number, fen):
        """Bill the charge or refund ``number`` at ``fen`` instead of its real amount."""
        with self.lock:
            self.payments.bill_amounts[number] = int(fen)

    def trade_bill(self, mch_id, bill_date, sub_mch_id=None):
        """The trade bill text of ``mch_id`` for the Beijing day ``bill_date`` (None: no trade that day)."""
        with self.lock:
            return trade_bill_csv(self, mch_id, bill_date, sub_mch_id)

    def advance_to_bill(self, bill_date):
        """Move the fake's time to 10:30 Beijing the day after ``bill_date`` (when its bill is fetched),
        if earlier; returns the seconds moved (``fake.advance(-seconds)`` moves back)."""
        with self.lock:
            seconds = max(0.0, bill_ready_at(bill_date) - self.now())
            self._offset += seconds
            return seconds

    # -- WeChat Pay v2 JSAPI / NATIVE (pay_jsapi.py) ------------------------------
    def pay_jsapi(self, out_trade_no, mch_id=None, openid=None, bank_type="OTHERS"):
        """The member pays the unified order ``out_trade_no`` without a browser (as ``wx.chooseWXPay``
        would; a NATIVE order: ``openid``, default a new user, scans its code).  The order is paid and
        its notification scheduled; returns the PayOrder.  Raises ValueError when it cannot be paid
        (unknown, not JSAPI / NATIVE, paid, closed, ``time_expire`` or ``prepay_id`` expired, or
        ``openid`` is not the JSAPI order's)."""
        with self.lock:
            order = self.order(out_trade_no, mch_id)
            if order is None or not order.unified:
                raise ValueError(f"no JSAPI / NATIVE order {out_trade_no}")
            why = payable_error(self, order)
            if why:
                raise ValueError(f"order {out_trade_no} cannot be paid: {why}")
            if openid and order.trade_type == "JSAPI" and openid != order.openid:
                raise ValueError(f"order {out_trade_no} is for {order.openid}, not {openid}")
            return charge(self, self.account(order.appid), order, openid, bank_type)

    def pay_notify(self, out_trade_no, mode="duplicate", mch_id=None, total_fee=None, wait=True):
        """Fault injection: one more payment result notification of ``out_trade_no``.

        ``mode``: ``duplicate``: the genuine notification once more, as WeChat may send it (the order
        must be paid; one attempt); ``bad_sign``: signed with another key; ``bad_amount``: correctly
        signed, but ``total_fee`` / ``cash_fee`` are the ``total_fee`` argument (default 1 fen, 2 for a
        1 fen order): a 假通知; the forged ones (one attempt each) work for an unpaid order too;
        ``notify``: the genuine notification again with its retry schedule (a paid order).  ``wait``:
        deliver now and return its record (as appended to ``fake.pay_notifications``); else it is
        scheduled and None is returned."""
        if mode not in NOTIFY_MODES:
            raise ValueError(f"unknown notify mode {mode!r} (one of {', '.join(NOTIFY_MODES)})")
        with self.lock:
            order = self.order(out_trade_no, mch_id)
            if order is None or not order.unified:
                raise ValueError(f"no JSAPI / NATIVE order {out_trade_no}")
            if mode in ("duplicate", "notify") and order.state not in ("SUCCESS", "REFUND"):
                raise ValueError(f"order {out_trade_no} is not paid: WeChat sends no genuine notification")
            if mode == "notify":
                order.notify_acknowledged = False
        args = (self, order, 1, mode, total_fee, mode == "notify")
        if wait:
            return deliver_notify(*args)
        self.schedule(self.async_delay, deliver_notify, *args)
        return None

    def set_pay_notify_delays(self, delays=None, scale=None):
        """The waits before each notification retry: ``delays`` (seconds) or WeChat's schedule times
        ``scale`` (e.g. 0.001 in tests); neither: WeChat's.  Returns the list."""
        with self.lock:
            if delays is not None:
                self.pay_notify_delays = [float(d) for d in delays]
            else:
                self.pay_notify_delays = [d * float(scale if scale is not None else 1) for d in PAY_NOTIFY_DELAYS]
            return list(self.pay_notify_delays)

    def set_pay_auth_dirs(self, mch_id, dirs):
        """The merchant's JSAPI payment directories (支付授权目录, e.g. ``https://shop.example.com/pay/``):
        ``wx.chooseWXPay`` then works only on pages directly in one of them (not in a sub-directory), or
        anywhere on a host whose root (``https://shop.example.com/``) is registered; empty: any page
        (the default)."""
        with self.lock:
            if isinstance(dirs, str):
                dirs = [dirs]
            if dirs:
                self.payments.auth_dirs[mch_id] = list(dirs)
            else:
                self.payments.auth_dirs.pop(mch_id, None)

    def pay_notifications_for(self, out_trade_no):
        """The notification attempts of ``out_trade_no`` so far (oldest first)."""
        with self.lock:
            return [n for n in self.pay_notifications if n["out_trade_no"] == out_trade_no]

    # -- WeChat Pay APIv3 ------------------------------------------------------
    def pay_v3_merchant(self, mchid, appid=None, partner=False):
        """Register the APIv3 credentials of merchant ``mchid`` (once; later calls return the same ones).

        ``appid``: an appid bound to it (a direct merchant's appid is also any
        account whose v2 ``mch_id`` is ``mchid``; a service provider's is its
        ``sp_appid``); ``partner``: a service provider (服务商).  Returns
        ``(private_key_pem, serial_no, apiv3_key)`` of its API certificate.
        """
        with self.lock:
            merchant = self.payments_v3.merchants.get(mchid)
            if merchant is None:
                merchant = self.payments_v3.merchants[mchid] = V3Merchant(mchid)
            if appid:
                merchant.appids.add(appid)
            merchant.partner = merchant.partner or partner
            return merchant.private_key_pem, merchant.serial_no, merchant.apiv3_key

    def pay_v3_sub_merchant(self, sp_mchid, sub_mchid, sub_appid=None):
        """Bind sub-merchant ``sub_mchid`` (and its ``sub_appid``, an account of the fake) to provider ``sp_mchid``."""
        with self.lock:
            merchant = self.payments_v3.merchants[sp_mchid]
            merchant.partner = True
            appids = merchant.sub_merchants.setdefault(sub_mchid, set())
            if sub_appid:
                appids.add(sub_appid)

    def pay_v3_public_key(self):
        """``(public_key_pem, public_key_id)``: the WeChat Pay public key the merchants verify answers with."""
        with self.lock:
            keys = self.payments_v3.keys()
            pem = (
                keys["public_key"]
                .public_key()
                .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
                .decode()
            )
            return pem, keys["public_key_id"]

    def pay_v3_bad_signature(self, times=1, unsigned=False):
        """The next ``times`` v3 answers carry a bad signature (or none when ``unsigned``)."""
        with self.lock:
            self.payments_v3.bad_signatures = int(times)
            self.payments_v3.unsigned = bool(unsigned)

    def refund_script(self, outcome="SUCCESS", processing=1, out_trade_no=None):
        """The next refund of charge ``out_trade_no`` (of any charge when ``None``): accepted, ``PROCESSING``
        for ``processing`` queries, then ``outcome`` (SUCCESS, CHANGE, REFUNDCLOSE); or refused at once
        (NOTENOUGH: merchant balance), or accepted while answering SYSTEMERROR."""
        script = RefundScript(outcome, processing)
        with self.lock:
            self.payments.refund_scripts.setdefault(out_trade_no, []).append(script)
        return script

    @property
    def refunds(self):
        return self.payments.refunds

    def order(self, out_trade_no, mch_id=None):
        """The PayOrder for ``out_trade_no`` (any merchant unless given)."""
        with self.lock:
            for (mch, no), order in self.payments.orders.items():
                if no == out_trade_no and mch_id in (None, mch):
                    return order
        return None

    # -- faults --------------------------------------------------------------
    def inject(
        self,
        path_suffix,
        errcode=None,
        latency=0.0,
        timeout=False,
        reset=False,
        times=1,
        errmsg=None,
        http_status=None,
        skip=0,
    ):
        """Fault for the next ``times`` calls to ``path_suffix``, after ``skip`` calls that go through."""
        injection = Injection(path_suffix, errcode, errmsg, latency, timeout, reset, http_status, times, skip)
        with self.lock:
            self.injections.append(injection)
        return injection

    def _take_injection(self, path):
        with self.lock:
            for injection in self.injections:
                if injection.matches(path):
                    if injection.skip > 0:
                        injection.skip -= 1
                        return None
                    injection.remaining -= 1
                    injection.hits += 1
                    if injection.remaining <= 0:
                        self.injections.remove(injection)
                    return injection
        return None

    # -- logs ------------------------------------------------------------------
    def violation(self, rule, detail, appid=None):
        with self.lock:
            self.violations.append({"rule": rule, "detail": detail, "appid": appid, "t": self.now()})

    def expect_violations(self):
        """This test breaks rules on purpose: the pytest fixtures will not fail it for violations."""
        self.violations_expected = True

    def assert_no_violations(self, msg=None):
        """Raise AssertionError listing the rule violations logged so far (if any)."""
        with self.lock:
            found = list(self.violations)
        if found:
            lines = "\n".join(f"  - {v['rule']} [{v['appid']}]: {v['detail']}" for v in found)
            prefix = f"{msg}: " if msg else ""
            raise AssertionError(f"{prefix}the fake WeChat logged {len(found)} rule violation(s):\n{lines}")

    def violation_rules(self):
        with self.lock:
            return [v["rule"] for v in self.violations]

    def _log_call(self, req, errcode, status):
        appid = req.appid or req.query.get("appid")
        body = req.logged_body()
        if appid is None and isinstance(body, dict):
            appid = body.get("appid")
        with self.lock:
            self.calls.append(
                {
                    "method": req.method,
                    "path": req.path,
                    "appid": appid,
                    "params": dict(req.query),
                    "body": body,
                    "errcode": errcode,
                    "status": status,
                    "t": self.now(),
                }
            )

    def calls_to(self, path_suffix):
        with self.lock:
            return [c for c in self.calls if c["path"].endswith(path_suffix)]

    def record_delivery(self, event, status, body):
        with self.lock:
            self.deliveries.append((event, status, body))

    def clear_logs(self):
        with self.lock:
            del self.calls[:]
            del self.violations[:]
            del self.deliveries[:]
            del self.pay_notifications[:]

    # -- background deliveries -------------------------------------------------
    def deliver(self, acc, event, xml=None, retries=True):
        return deliver(self, acc, event, xml=xml, retries=retries)

    def schedule(self, delay, fn, *args):
        """Run ``fn(*args)`` in a daemon thread after ``delay`` seconds (real time);
        dropped if the fake is stopped meanwhile."""
        with self._idle:
            self._pending += 1

        def run():
            try:
                if not self._stop_event.wait(delay):
                    fn(*args)
            except Exception:
                self.errors.append(traceback.format_exc())
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

        threading.Thread(target=run, name="fakewechat-async", daemon=True).start()

    def wait_idle(self, timeout=5.0):
        """Wait until background deliveries are done; True when idle."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    # -- introspection -----------------------------------------------------------
    def state_summary(self, appid=None):
        if appid:
            return self.account(appid).summary()
        with self.lock:
            accounts = list(self.accounts.values())
        return {"now": self.now(), "accounts": [a.summary() for a in accounts]}

    def __repr__(self):
        return "<FakeWeChat %s accounts=%d>" % (self.url or "(stopped)", len(self.accounts))
