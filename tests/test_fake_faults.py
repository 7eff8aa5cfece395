"""Fault injection (errcode, latency, hang, reset, HTTP status), protocol errors,
lifecycle (many start/stop cycles, fixed port, loading by file path) and
thread safety."""

import concurrent.futures
import os
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests
from fakewechat import FakeWeChat
from fakewechat.pytest_plugin import DEFAULT_ACCOUNT
from fakewechat.testing import api_get, api_post, fetch_token, make_client, make_pay, session
from wechatpy.exceptions import WeChatClientException, WeChatPayException

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture
def token(fake_wechat, fake_account):
    return fetch_token(fake_wechat, fake_account)


def test_injected_errcode_for_the_next_n_calls(fake_wechat, fake_account, token):
    fake_wechat.inject("tags/get", errcode=-1, times=2)
    assert api_get(fake_wechat, "/cgi-bin/tags/get", token) == {"errcode": -1, "errmsg": "injected error"}
    client = make_client(fake_wechat, fake_account, token)
    with pytest.raises(WeChatClientException) as err:
        client.tag.get()
    assert err.value.errcode == -1
    assert client.tag.get()[0]["id"] == 2
    assert [c["errcode"] for c in fake_wechat.calls_to("/cgi-bin/tags/get")] == [-1, -1, 0]


def test_injection_after_skipped_calls(fake_wechat, fake_account, token):
    """A fault in the middle of a run: the first `skip` matching calls go through."""
    fake_wechat.inject("tags/get", errcode=-1, times=1, skip=2)
    codes = [api_get(fake_wechat, "/cgi-bin/tags/get", token).get("errcode", 0) for __ in range(4)]
    assert codes == [0, 0, -1, 0]
    assert fake_wechat.injections == []


def test_injection_only_hits_matching_paths(fake_wechat, fake_account, token):
    fake_wechat.inject("/cgi-bin/message/mass/sendall", errcode=45009, errmsg="quota")
    assert api_get(fake_wechat, "/cgi-bin/tags/get", token)["tags"]
    body = {"filter": {"is_to_all": True}, "msgtype": "text", "text": {"content": "x"}}
    assert api_post(fake_wechat, "/cgi-bin/message/mass/sendall", body, token) == {"errcode": 45009, "errmsg": "quota"}
    assert fake_wechat.injections == []


def test_latency(fake_wechat, fake_account, token):
    fake_wechat.inject("tags/get", latency=0.3)
    started = time.monotonic()
    assert api_get(fake_wechat, "/cgi-bin/tags/get", token)["tags"]
    assert time.monotonic() - started >= 0.3


def test_hang_times_out_the_client_and_stop_is_prompt(fake_account, fake_wechat, token):
    fake_wechat.inject("tags/get", timeout=True)
    client = make_client(fake_wechat, fake_account, token, timeout=0.3)
    with pytest.raises(requests.Timeout):  # wechatpy does not wrap requests' timeouts
        client.tag.get()
    stopper = threading.Thread(target=fake_wechat.stop)
    stopper.start()
    stopper.join(timeout=30)  # a hang detector, not a measure: stop() does not wait for the hung request
    assert not stopper.is_alive()


def test_reset_connection(fake_wechat, fake_account, token):
    fake_wechat.inject("user/get", reset=True)
    with pytest.raises(requests.ConnectionError):
        api_get(fake_wechat, "/cgi-bin/user/get", token)
    assert api_get(fake_wechat, "/cgi-bin/user/get", token)["total"] == 0
    assert fake_wechat.calls_to("/cgi-bin/user/get")[0]["errcode"] == "reset"


def test_http_status(fake_wechat, fake_account, token):
    fake_wechat.inject("tags/get", http_status=502)
    client = make_client(fake_wechat, fake_account, token)
    with pytest.raises(WeChatClientException) as err:
        client.tag.get()
    assert err.value.errcode is None and err.value.response.status_code == 502


def test_pay_injection_does_not_charge(fake_wechat, fake_account):
    pay = make_pay(fake_wechat, fake_account)
    fake_wechat.inject("pay/micropay", errcode="SYSTEMERROR")
    with pytest.raises(WeChatPayException) as err:
        pay.micropay.create(
            body="x", total_fee=1, auth_code=fake_wechat.auth_code(), client_ip="127.0.0.1", out_trade_no="T1"
        )
    assert err.value.errcode == "SYSTEMERROR"
    with pytest.raises(WeChatPayException) as err:
        pay.micropay.query(out_trade_no="T1")
    assert err.value.errcode == "ORDERNOTEXIST"
    fake_wechat.inject("pay/orderquery", errcode=-1)
    with pytest.raises(WeChatPayException) as err:
        pay.micropay.query(out_trade_no="T1")
    assert err.value.return_code == "FAIL"


def test_inject_through_control_endpoint(fake_wechat, fake_account, token):
    with session() as s:
        armed = s.post(
            fake_wechat.url + "/_fake/inject", json={"path_suffix": "tags/get", "errcode": 45011}, timeout=10
        ).json()
    assert armed["remaining"] == 1
    assert api_get(fake_wechat, "/cgi-bin/tags/get", token)["errcode"] == 45011


@pytest.mark.fake_violations_expected
def test_protocol_errors(fake_wechat, fake_account, token):
    assert api_get(fake_wechat, "/cgi-bin/tags/create", token)["errcode"] == 43002
    with session() as s:
        assert (
            s.post(fake_wechat.url + "/cgi-bin/tags/get", params={"access_token": token}, timeout=10).json()["errcode"]
            == 43001
        )
        assert (
            s.post(fake_wechat.url + "/cgi-bin/tags/create", params={"access_token": token}, timeout=10).json()[
                "errcode"
            ]
            == 44002
        )
        unknown = s.get(fake_wechat.url + "/cgi-bin/groups/get", params={"access_token": token}, timeout=10)
    assert api_post(fake_wechat, "/cgi-bin/tags/create", b"{not json", token)["errcode"] == 47001
    assert unknown.status_code == 404
    assert fake_wechat.violation_rules() == ["unknown_endpoint"]
    assert fake_wechat.errors == []


def test_many_start_stop_cycles():
    threads_before = threading.active_count()
    for _ in range(20):
        fake = FakeWeChat(async_delay=0.01).start()
        acc = fake.add_account(**DEFAULT_ACCOUNT)
        assert fetch_token(fake, acc)
        url = fake.url
        fake.stop()
        with pytest.raises(requests.ConnectionError):
            requests.get(url + "/cgi-bin/tags/get", timeout=2)
    time.sleep(0.2)
    assert threading.active_count() <= threads_before + 2


def test_fixed_port_restart_and_context_manager():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fake = FakeWeChat()
    for _ in range(3):
        with fake.start(port=port):
            assert fake.url == "http://127.0.0.1:%d" % port
            with session() as s:
                assert s.get(fake.url + "/_fake/health", timeout=5).json()["ok"]
        assert not fake.running


def test_stop_drops_pending_deliveries(make_webhook_receiver):
    receiver = make_webhook_receiver()
    fake = FakeWeChat(async_delay=5).start()
    acc = fake.add_account(**dict(DEFAULT_ACCOUNT, webhook_url=receiver.url))
    acc.add_followers(2)
    body = {"filter": {"is_to_all": True}, "msgtype": "text", "text": {"content": "x"}}
    assert api_post(fake, "/cgi-bin/message/mass/sendall", body, fetch_token(fake, acc))["msg_id"]
    assert not fake.wait_idle(0.05)
    fake.stop()
    assert fake.wait_idle(2) and receiver.events == []


def test_concurrent_requests_are_consistent(fake_wechat, fake_account, token):
    openids = fake_account.add_followers(40)

    def work(i):
        tag = api_post(fake_wechat, "/cgi-bin/tags/create", {"tag": {"name": "c%d" % i}}, token)["tag"]
        api_post(
            fake_wechat,
            "/cgi-bin/tags/members/batchtagging",
            {"tagid": tag["id"], "openid_list": openids[i : i + 1]},
            token,
        )
        return tag["id"]

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        ids = list(pool.map(work, range(40)))
    assert sorted(ids) == list(range(100, 140))
    assert all(len(fake_account.user(o).tagids) == 1 for o in openids)
    assert len(fake_wechat.calls) == 81 and fake_wechat.errors == []


def test_loading_by_file_path_in_a_fresh_interpreter():
    code = """
import importlib.util, sys, requests
spec = importlib.util.spec_from_file_location('fakewechat', sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules['fakewechat'] = module
spec.loader.exec_module(module)
fake = module.FakeWeChat().start()
acc = fake.add_account(appid='wxpath', secret='s')
data = requests.get(fake.url + '/cgi-bin/token', params={'grant_type': 'client_credential',
                    'appid': 'wxpath', 'secret': 's'}).json()
fake.stop()
print(data['expires_in'])
"""
    path = os.path.join(TESTS_DIR, "fakewechat", "__init__.py")
    out = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True, timeout=60, cwd="/")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "7200"


XXE = b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>' b"<xml><appid>&x;</appid></xml>"


def test_xml_with_a_dtd_is_refused(fake_wechat, fake_account):
    with session() as s:
        resp = s.post(fake_wechat.url + "/pay/micropay", data=XXE, timeout=10)
    assert b"<return_code><![CDATA[FAIL]]></return_code>" in resp.content
    assert b"root:" not in resp.content


def test_lxml_fallback_when_defusedxml_is_missing(monkeypatch):
    from fakewechat import xmlutil

    monkeypatch.setattr(xmlutil, "SafeET", None)
    assert xmlutil.parse_xml("<xml><A><![CDATA[1]]></A><!-- c --><B><C>2</C></B></xml>") == {"A": "1", "B": {"C": "2"}}
    with pytest.raises(ValueError):
        xmlutil.parse_xml(XXE)
    with pytest.raises(ValueError):
        xmlutil.parse_xml(b"<xml><unclosed></xml>")
