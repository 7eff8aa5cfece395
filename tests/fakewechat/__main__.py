"""Command line: run the fake as a sandbox server, or drive it.

    cd tests && python -m fakewechat serve --port 8123 --state-file /tmp/fake.json
    python -m fakewechat account --url http://127.0.0.1:8123 --appid wx... --secret S --token T \\
        --webhook http://127.0.0.1:8069/wechat/1/callback --followers 100
    python -m fakewechat follow  --url http://127.0.0.1:8123 --appid wx... [--openid O] [--scene 42 | --ticket T]
    python -m fakewechat scan|unfollow|click|view|text|oauth|verify --url ... --appid ... --openid O \\
        [--scene S] [--key K] [--content C] [--target-url U]
    python -m fakewechat subscribe --url ... --appid ... --openid O --template T1 [--template T2] [--status reject]
    python -m fakewechat pay-script --url ... [--auth-code C] --outcome USERPAYING --n 2
    python -m fakewechat state|calls|violations --url ... [--appid A]
    python -m fakewechat clock --url ... --advance 3600
"""

import argparse
import json
import os
import signal
import sys
import time

import requests

SIMULATE_ACTIONS = ("follow", "scan", "unfollow", "click", "view", "text", "oauth", "verify")


def _session():
    session = requests.Session()
    session.trust_env = False
    return session


def _call(method, url, path, **kwargs):
    with _session() as session:
        resp = session.request(method, url.rstrip("/") + path, timeout=60, **kwargs)
    try:
        data = resp.json()
    except ValueError:
        data = {"status": resp.status_code, "body": resp.text}
    print(json.dumps(data, ensure_ascii=False, indent=2))
    return 0 if resp.status_code < 400 else 1


def serve(args):
    from .fake import FakeWeChat
    from .persist import load_state, save_state

    fake = FakeWeChat(callback_timeout=args.callback_timeout, async_delay=args.async_delay)
    if args.state_file and os.path.exists(args.state_file):
        load_state(fake, args.state_file)
    fake.start(port=args.port)
    print(f"fakewechat listening on {fake.url}", flush=True)
    # SIGINT / SIGTERM only raise a flag: an exception thrown into the loop could land
    # while ``fake.lock`` is being taken and leave it held, hanging the final save.
    stopping = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda sig, frame: stopping.append(sig))
    saved = None
    try:
        while not stopping:
            time.sleep(0.2)
            if args.state_file:
                with fake.lock:
                    marker = (
                        len(fake.calls),
                        len(fake.deliveries),
                        len(fake.accounts),
                        sum(len(a.users) for a in fake.accounts.values()),
                    )
                if marker != saved:
                    save_state(fake, args.state_file)
                    saved = marker
    finally:
        fake.stop()
        if args.state_file:
            save_state(fake, args.state_file)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m fakewechat", description="Fake WeChat platform")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the fake server")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--state-file")
    p.add_argument("--callback-timeout", type=float, default=5.0)
    p.add_argument("--async-delay", type=float, default=0.2)

    p = sub.add_parser("account", help="add or update an account")
    p.add_argument("--url", required=True)
    p.add_argument("--appid", required=True)
    p.add_argument("--secret")
    p.add_argument("--token")
    p.add_argument("--aes-key")
    p.add_argument("--encrypt-mode", choices=("plain", "compatible", "safe"))
    p.add_argument("--webhook")
    p.add_argument("--mch-id")
    p.add_argument("--mch-key")
    p.add_argument("--followers", type=int, default=0)
    p.add_argument("--template", action="append", default=[])
    p.add_argument("--subscribe-template", action="append", default=[])

    p = sub.add_parser("subscribe", help="a user answers a subscribe-notice popup (accept by default)")
    p.add_argument("--url", required=True)
    p.add_argument("--appid", required=True)
    p.add_argument("--openid", required=True)
    p.add_argument("--template", action="append", required=True)
    p.add_argument("--status", choices=("accept", "reject"), default="accept")

    for action in SIMULATE_ACTIONS:
        p = sub.add_parser(action, help=f"simulate a user: {action}")
        p.add_argument("--url", required=True)
        p.add_argument("--appid", required=True)
        p.add_argument("--openid")
        p.add_argument("--scene")
        p.add_argument("--ticket")
        p.add_argument("--key")
        p.add_argument("--content")
        p.add_argument("--target-url")

    p = sub.add_parser("pay-script", help="script the outcome of an auth code")
    p.add_argument("--url", required=True)
    p.add_argument("--auth-code")
    p.add_argument("--outcome", default="SUCCESS")
    p.add_argument("--n", type=int, help="USERPAYING: orderquery calls before SUCCESS")
    p.add_argument("--openid")
    p.add_argument("--is-subscribe", choices=("Y", "N"))

    for name in ("state", "calls", "violations"):
        p = sub.add_parser(name)
        p.add_argument("--url", required=True)
        p.add_argument("--appid")

    p = sub.add_parser("clock", help="show or advance the fake time")
    p.add_argument("--url", required=True)
    p.add_argument("--advance", type=float, default=0)

    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "account":
        body = {"appid": args.appid}
        for key, value in (
            ("secret", args.secret),
            ("token", args.token),
            ("aes_key", args.aes_key),
            ("encrypt_mode", args.encrypt_mode),
            ("webhook_url", args.webhook),
            ("mch_id", args.mch_id),
            ("mch_key", args.mch_key),
        ):
            if value is not None:
                body[key] = value
        body["followers"] = args.followers
        body["templates"] = args.template
        body["subscribe_templates"] = args.subscribe_template
        return _call("POST", args.url, "/_fake/accounts", json=body)
    if args.command == "subscribe":
        body = {"appid": args.appid, "openid": args.openid, "templates": args.template, "status": args.status}
        return _call("POST", args.url, "/_fake/subscribe", json=body)
    if args.command in SIMULATE_ACTIONS:
        body = {
            "appid": args.appid,
            "action": args.command,
            "openid": args.openid,
            "scene": args.scene,
            "ticket": args.ticket,
            "key": args.key,
            "content": args.content,
            "url": args.target_url,
        }
        return _call("POST", args.url, "/_fake/simulate", json={k: v for k, v in body.items() if v is not None})
    if args.command == "pay-script":
        outcome = [args.outcome, args.n] if args.n is not None else args.outcome
        body = {
            "auth_code": args.auth_code,
            "outcome": outcome,
            "openid": args.openid,
            "is_subscribe": args.is_subscribe,
        }
        return _call("POST", args.url, "/_fake/pay_script", json=body)
    if args.command in ("state", "calls", "violations"):
        params = {"appid": args.appid} if args.appid else {}
        return _call("GET", args.url, f"/_fake/{args.command}", params=params)
    if args.command == "clock":
        return _call("POST", args.url, "/_fake/clock", json={"advance": args.advance})
    return 2


if __name__ == "__main__":
    sys.exit(main())
