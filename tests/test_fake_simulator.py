"""Follower simulator: WeChat-exact signing (plain / compatible / safe), event
shapes, user-state updates, passive replies, retries on slow answers, parallel
duplicates, control endpoint and CLI."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from fakewechat import WebhookReceiver
from fakewechat.pytest_plugin import DEFAULT_ACCOUNT
from fakewechat.testing import session
from wechatpy.utils import check_signature

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
AES = dict(aes_key=DEFAULT_ACCOUNT["aes_key"], appid=DEFAULT_ACCOUNT["appid"])


@pytest.fixture
def fake(fake_wechat):
    """The simulator runs on the real clock: products reject stale timestamps (conftest's acc and sim use it)."""
    return fake_wechat


def test_follow_is_signed_and_updates_state(fake_wechat, acc, sim, receiver):
    result = sim.follow()
    assert result.ok and result.attempts == 1 and result.reply is None
    query, body = receiver.raw[0]
    check_signature(acc.token, query["signature"], query["timestamp"], query["nonce"])
    assert abs(int(query["timestamp"]) - time.time()) < 60  # wall clock: products reject stale timestamps
    assert query["openid"] == result.openid and "encrypt_type" not in query
    event = receiver.unique[0]
    assert event["MsgType"] == "event" and event["Event"] == "subscribe" and "EventKey" not in event
    assert event["ToUserName"] == acc.original_id and event["FromUserName"] == result.openid
    user = acc.user(result.openid)
    assert user.subscribe and user.subscribe_scene == "ADD_SCENE_SEARCH"
    with pytest.raises(ValueError):
        sim.follow(result.openid)
    assert fake_wechat.deliveries[0][1:] == (200, "success")
    assert fake_wechat.violations == []


def test_follow_via_scene_then_scan(fake_wechat, acc, sim, receiver):
    openid = sim.follow(scene=42).openid
    sub = receiver.unique[0]
    assert sub["EventKey"] == "qrscene_42" and sub["Ticket"] in fake_wechat.qr_tickets
    user = acc.user(openid)
    assert (user.subscribe_scene, user.qr_scene, user.qr_scene_str) == ("ADD_SCENE_QR_CODE", 42, "")
    sim.scan(openid, scene="store-9")
    scan = receiver.unique[1]
    assert scan["Event"] == "SCAN" and scan["EventKey"] == "store-9" and scan["Ticket"]
    assert acc.user(openid).qr_scene == 42  # the follow source does not change on a later scan
    newcomer = acc.add_nonfollower()
    sim.scan(newcomer, scene=7)  # non-follower scanning: follow page -> subscribe
    assert receiver.unique[2]["Event"] == "subscribe" and receiver.unique[2]["EventKey"] == "qrscene_7"


def test_unfollow_click_view_text(fake_wechat, acc, sim, receiver):
    openid = acc.add_follower()
    sim.click(openid, "MY_POINTS")
    sim.view(openid, "http://shop/wallet")
    sim.text(openid, "积分")
    sim.unfollow(openid)
    click, view, text, unsub = receiver.unique
    assert (click["Event"], click["EventKey"]) == ("CLICK", "MY_POINTS")
    assert (view["Event"], view["EventKey"]) == ("VIEW", "http://shop/wallet")
    assert text["MsgType"] == "text" and text["Content"] == "积分" and text["MsgId"].isdigit()
    assert unsub["Event"] == "unsubscribe"
    assert not acc.user(openid).subscribe
    with pytest.raises(ValueError):
        sim.text(openid, "not a follower any more")


def test_passive_reply_is_parsed(fake_wechat, make_webhook_receiver):
    receiver = make_webhook_receiver(reply=lambda e: WebhookReceiver.text_reply(e, "welcome"))
    acc = fake_wechat.add_account(**dict(DEFAULT_ACCOUNT, webhook_url=receiver.url))
    result = fake_wechat.simulator(acc.appid).follow()
    assert result.reply["MsgType"] == "text" and result.reply["Content"] == "welcome"
    assert result.reply["ToUserName"] == result.openid and result.reply_problem is None
    assert fake_wechat.violations == []


@pytest.mark.parametrize("mode", ["safe", "compatible"])
def test_encrypted_modes_roundtrip_with_wechatpy(fake_wechat, make_webhook_receiver, mode):
    receiver = make_webhook_receiver(reply=lambda e: WebhookReceiver.text_reply(e, f"hello {mode}"), **AES)
    acc = fake_wechat.add_account(**dict(DEFAULT_ACCOUNT, encrypt_mode=mode, webhook_url=receiver.url))
    result = fake_wechat.simulator(acc.appid).follow(scene="poster")
    query, body = receiver.raw[0]
    assert query["encrypt_type"] == "aes" and query["msg_signature"]
    assert b"<Encrypt>" in body
    assert (b"<Event><![CDATA[subscribe]]></Event>" in body) == (mode == "compatible")
    assert receiver.unique[0]["EventKey"] == "qrscene_poster" and receiver.rejected == []
    assert result.reply["Content"] == f"hello {mode}" and result.reply_problem is None
    assert fake_wechat.violations == []


@pytest.mark.fake_violations_expected
def test_plain_reply_in_safe_mode_is_a_violation(fake_wechat, make_webhook_receiver):
    receiver = make_webhook_receiver(reply=lambda e: WebhookReceiver.text_reply(e, "oops"), **AES)
    receiver.crypto.encrypt_message = lambda reply, nonce, timestamp: reply
    acc = fake_wechat.add_account(**dict(DEFAULT_ACCOUNT, encrypt_mode="safe", webhook_url=receiver.url))
    result = fake_wechat.simulator(acc.appid).follow()
    assert result.reply_problem == "plain passive reply in safe mode"
    assert fake_wechat.violation_rules() == ["bad_passive_reply"]


@pytest.mark.fake_violations_expected
def test_bad_reply_addressing_is_a_violation(fake_wechat, make_webhook_receiver):
    receiver = make_webhook_receiver(
        reply=lambda e: "<xml><ToUserName>someone</ToUserName><FromUserName>{}</FromUserName>"
        "<MsgType>text</MsgType><Content>x</Content></xml>".format(e["ToUserName"])
    )
    acc = fake_wechat.add_account(**dict(DEFAULT_ACCOUNT, webhook_url=receiver.url))
    fake_wechat.simulator(acc.appid).follow()
    assert fake_wechat.violation_rules() == ["bad_passive_reply"]


def test_slow_answer_is_retried_with_the_same_event(make_fake_wechat, make_webhook_receiver):
    fake = make_fake_wechat(callback_timeout=0.3)
    receiver = make_webhook_receiver(delay=lambda event, attempt: 1.0 if attempt == 0 else 0)
    acc = fake.add_account(**dict(DEFAULT_ACCOUNT, webhook_url=receiver.url))
    openid = acc.add_follower()
    result = fake.simulator(acc.appid).text(openid, "hello")
    assert result.ok and result.attempts == 2
    assert len(receiver.events) == 2 and len(receiver.unique) == 1
    assert receiver.events[0] == receiver.events[1]
    assert [d[1] for d in fake.deliveries] == [None, 200]


def test_retries_stop_after_three(make_fake_wechat, make_webhook_receiver):
    fake = make_fake_wechat(callback_timeout=0.2)
    receiver = make_webhook_receiver(delay=0.5)
    acc = fake.add_account(**dict(DEFAULT_ACCOUNT, webhook_url=receiver.url))
    sim = fake.simulator(acc.appid)
    result = sim.follow()
    assert result.attempts == 4 and result.error == "timeout" and not result.ok
    once = sim.click(result.openid, "K", retries_on_slow=False)
    assert once.attempts == 1


def test_parallel_duplicates(fake_wechat, acc, sim, receiver):
    openid = acc.add_follower()
    event = {
        "ToUserName": acc.original_id,
        "FromUserName": openid,
        "CreateTime": 1700000000,
        "MsgType": "event",
        "Event": "CLICK",
        "EventKey": "COUPONS",
    }
    results = sim.post_event(event, repeat=5, parallel=True)
    assert len(results) == 5 and all(r.ok for r in results)
    assert len(receiver.events) == 5 and len(receiver.unique) == 1
    sequential = sim.post_event(dict(event, CreateTime=1700000001), repeat=2)
    assert [r.ok for r in sequential] == [True, True] and len(receiver.unique) == 2


def test_raw_xml_is_sent_verbatim(fake_wechat, acc, sim, receiver):
    xml = (
        f"<xml><ToUserName><![CDATA[{acc.original_id}]]></ToUserName><FromUserName><![CDATA[oRAW]]></FromUserName>"
        "<CreateTime>1</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[LOCATION]]></Event>"
        "</xml>"
    )
    result = sim.post_event(xml)
    assert result.ok and result.event["Event"] == "LOCATION"
    assert receiver.raw[0][1].decode() == xml


def test_url_verification_and_wrong_token(fake_wechat, acc, sim, receiver):
    resp = sim.verify("1234567890")
    assert resp.verified and resp.text == "1234567890"
    acc.token = "another-token"
    assert not sim.verify().verified
    result = sim.follow()
    assert result.status_code == 403 and receiver.rejected[-1][0] == "bad signature"


def test_control_endpoint_simulate_and_state(fake_wechat, acc, receiver):
    with session() as s:
        data = s.post(
            fake_wechat.url + "/_fake/simulate",
            json={"appid": acc.appid, "action": "follow", "scene": "12"},
            timeout=10,
        ).json()
        assert data["status"] == 200 and data["event"]["EventKey"] == "qrscene_12"
        state = s.get(fake_wechat.url + "/_fake/state", params={"appid": acc.appid}, timeout=10).json()
        assert state["followers"] == 1 and state["follower_openids_sample"] == [data["openid"]]
        bad = s.post(fake_wechat.url + "/_fake/simulate", json={"appid": acc.appid, "action": "dance"}, timeout=10)
        assert bad.status_code == 400
    assert acc.user(data["openid"]).qr_scene == 12


def _cli(*args):
    out = subprocess.run(
        [sys.executable, "-m", "fakewechat"] + list(args), cwd=TESTS_DIR, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_cli_serve_drive_and_persist(tmp_path, receiver):
    state_file = str(tmp_path / "fake.json")

    def serve():
        proc = subprocess.Popen(
            [sys.executable, "-m", "fakewechat", "serve", "--port", "0", "--state-file", state_file],
            cwd=TESTS_DIR,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = proc.stdout.readline()
        assert line.startswith("fakewechat listening on "), line
        return proc, line.split()[-1]

    proc, url = serve()
    try:
        account = _cli(
            "account",
            "--url",
            url,
            "--appid",
            "wxcli",
            "--secret",
            "sec",
            "--token",
            DEFAULT_ACCOUNT["token"],
            "--webhook",
            receiver.url,
            "--followers",
            "3",
        )
        assert account["followers"] == 3
        followed = _cli("follow", "--url", url, "--appid", "wxcli", "--scene", "cashier-1")
        assert followed["status"] == 200 and receiver.unique[0]["EventKey"] == "qrscene_cashier-1"
        clicked = _cli("click", "--url", url, "--appid", "wxcli", "--openid", followed["openid"], "--key", "PTS")
        assert clicked["event"]["EventKey"] == "PTS"
        assert _cli("violations", "--url", url) == {"violations": []}
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(10)
    proc, url = serve()
    try:
        state = _cli("state", "--url", url, "--appid", "wxcli")
        assert state["followers"] == 4 and followed["openid"] in state["follower_openids_sample"]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(10)


def test_user_messages_and_scancode_events(fake_wechat, acc, sim, receiver):
    openid = sim.follow().openid
    sim.image(openid)
    sim.location(openid, label="天河店")
    sim.message(openid, "link", Title="Shared", Url="http://example.com/a")
    sim.scancode(openid, "SCAN_PAY", "https://example.com/qr", waitmsg=True)
    image, location, link, scancode = receiver.unique[1:]
    assert image["MsgType"] == "image" and image["PicUrl"] and image["MediaId"] and image["MsgId"]
    assert location["MsgType"] == "location" and location["Label"] == "天河店" and location["Location_X"]
    assert link["MsgType"] == "link" and link["Url"] == "http://example.com/a"
    assert scancode["Event"] == "scancode_waitmsg" and scancode["EventKey"] == "SCAN_PAY"
    assert scancode["ScanCodeInfo"] == {"ScanType": "qrcode", "ScanResult": "https://example.com/qr"}
    kinds = {g["kind"] for g in acc.user(openid).open_grants(fake_wechat.now())}
    assert kinds == {"follow", "message", "click"}
    with pytest.raises(ValueError):
        sim.message(openid, "sticker")


def test_violations_fail_the_test_unless_expected(tmp_path):
    """The pytest plugin fails a test whose fake logged violations, unless it opted out."""
    (tmp_path / "conftest.py").write_text("pytest_plugins = ['fakewechat.pytest_plugin']\n")
    (tmp_path / "test_inner.py").write_text(
        "import pytest\n\n"
        "def test_unexpected(fake_wechat):\n"
        "    fake_wechat.violation('some_rule', 'broken on purpose', 'wx1')\n\n"
        "@pytest.mark.fake_violations_expected\n"
        "def test_marked(fake_wechat):\n"
        "    fake_wechat.violation('some_rule', 'expected', 'wx1')\n\n"
        "def test_method(fake_wechat):\n"
        "    fake_wechat.expect_violations()\n"
        "    fake_wechat.violation('some_rule', 'expected', 'wx1')\n\n"
        "def test_cleared(fake_wechat):\n"
        "    fake_wechat.violation('some_rule', 'checked then cleared', 'wx1')\n"
        "    fake_wechat.clear_logs()\n\n"
        "def test_assert_no_violations(fake_wechat):\n"
        "    fake_wechat.assert_no_violations()\n"
        "    fake_wechat.violation('some_rule', 'listed', 'wx1')\n"
        "    with pytest.raises(AssertionError, match='some_rule'):\n"
        "        fake_wechat.assert_no_violations()\n"
        "    fake_wechat.clear_logs()\n"
    )
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=str(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "5 passed, 1 error" in out.stdout, out.stdout  # test_unexpected passes, then errors at teardown
    assert "ERROR test_inner.py::test_unexpected" in out.stdout
    assert "some_rule [wx1]: broken on purpose" in out.stdout
