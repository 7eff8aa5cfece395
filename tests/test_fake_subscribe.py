"""Subscribe notices (订阅通知) and the JS-SDK stand-in: jsapi tickets, the wx.config
signature, the wx-open-subscribe protocol over HTTP (as jweixin-1.6.0.js speaks it),
the popup / change / sent events, bizsend with one send per accept; persistence and CLI."""

import json

import pytest
from fakewechat import FakeWeChat
from fakewechat.__main__ import main as cli_main
from fakewechat.crypto import jssdk_signature
from fakewechat.keywords import sample_data
from fakewechat.persist import dump_state, load_state, save_state
from fakewechat.testing import api_get, api_post, session

KEYWORDS = ("thing1", "amount2", "time3")
PAGE = "https://shop.example.com/wechat/member/notices?ref=menu"


@pytest.fixture
def acc(acc):
    """conftest's account, with two subscribe templates."""
    acc.add_subscribe_template("SUB_POINTS", title="积分变动提醒", keywords=KEYWORDS)
    acc.add_subscribe_template("SUB_COUPON", title="优惠券到期提醒", keywords=("thing1", "date2"))
    return acc


def ticket(fake, token):
    res = api_get(fake, "/cgi-bin/ticket/getticket", token, type="jsapi")
    assert res["errcode"] == 0, res
    return res["ticket"]


def js_post(fake, path, body, **headers):
    """POST the way jweixin-1.6.0.js does: a JSON body sent as text/plain (a CORS simple request)."""
    with session() as s:
        resp = s.post(
            fake.url + path,
            data=json.dumps(body).encode("utf-8"),
            headers=dict({"Content-Type": "text/plain;charset=UTF-8", "Origin": "https://shop.example.com"}, **headers),
        )
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    return resp.json()


def config(fake, acc, jsapi_ticket, url=PAGE, signed_url=None, open_tags=("wx-open-subscribe",), **extra):
    nonce, ts = "Wm3WZYTPz0wzccnW", "1414587457"
    body = {
        "appId": acc.appid,
        "timestamp": ts,
        "nonceStr": nonce,
        "signature": jssdk_signature(jsapi_ticket, nonce, ts, signed_url or url),
        "jsApiList": ["checkJsApi"],
        "openTagList": list(open_tags),
        "url": url,
    }
    body.update(extra)
    return js_post(fake, "/_fake/jssdk/config", body)


def bizsend(fake, token, openid, template_id="SUB_POINTS", data=None):
    body = {
        "touser": openid,
        "template_id": template_id,
        "page": "https://shop.example.com/wechat/member",
        "data": data or sample_data(KEYWORDS),
    }
    return api_post(fake, "/cgi-bin/message/subscribe/bizsend", body, token)


def events(receiver, name):
    return [e for e in receiver.unique if e.get("Event") == name]


# -- JS-SDK signature ---------------------------------------------------------------
def test_signature_matches_the_documented_example():
    t = "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg"
    sig = jssdk_signature(t, "Wm3WZYTPz0wzccnW", "1414587457", "http://mp.weixin.qq.com?params=value")
    assert sig == "0f9de62fce790f9a083d5c99e95740ceb90c27ed"


def test_getticket_issues_a_new_ticket_per_call_and_counts(fake, acc, token, clock):
    first = api_get(fake, "/cgi-bin/ticket/getticket", token, type="jsapi")
    assert first["errcode"] == 0 and first["errmsg"] == "ok" and first["expires_in"] == 7200
    clock.advance(100)
    second = ticket(fake, token)
    assert second != first["ticket"] and acc.jsapi_ticket_calls == 2
    assert len(fake.calls_to("/cgi-bin/ticket/getticket")) == 2
    assert config(fake, acc, first["ticket"])["errMsg"] == "config:ok"  # the previous one stays valid
    assert api_get(fake, "/cgi-bin/ticket/getticket", token, type="wx_cardx")["errcode"] == 40097
    assert api_get(fake, "/cgi-bin/ticket/getticket", "nope", type="jsapi")["errcode"] == 40001


def test_js_file_is_served_like_res_wx_qq_com(fake):
    with session() as s:
        resp = s.get(fake.url + "/open/js/jweixin-1.6.0.js")
        pre = s.options(
            fake.url + "/_fake/jssdk/config", headers={"Origin": "https://x", "Access-Control-Request-Method": "POST"}
        )
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("application/javascript")
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    for needle in (
        "wx-open-subscribe",
        "/_fake/jssdk/config",
        "/_fake/jssdk/subscribe",
        "subscribeDetails",
        'split("#")[0]',
    ):
        assert needle in resp.text
    assert pre.status_code == 204 and pre.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in pre.headers["Access-Control-Allow-Methods"]


def test_config_good_signature(fake, acc, token):
    openid = acc.add_follower()
    res = config(fake, acc, ticket(fake, token), fake_openid=openid)
    assert res["errMsg"] == "config:ok" and res["session"] and res["openid"] == openid
    session_data = fake.jssdk_sessions[res["session"]]
    assert session_data["url"] == PAGE and session_data["openTagList"] == ["wx-open-subscribe"]
    assert fake.violations == []


@pytest.mark.fake_violations_expected
def test_config_bad_signatures(fake, acc, token, clock):
    assert config(fake, acc, "never-issued")["errMsg"] == "config:invalid signature"  # no ticket at all
    t = ticket(fake, token)
    assert config(fake, acc, t, signed_url=PAGE + "#section")["errMsg"] == "config:invalid signature"
    assert config(fake, acc, t, signed_url="https://shop.example.com/other")["errMsg"] == "config:invalid signature"
    assert config(fake, acc, t, appId="wxunknown")["errMsg"] == "config:invalid appId"
    assert config(fake, acc, t)["errMsg"] == "config:ok"
    clock.advance(7201)  # the ticket expired
    assert config(fake, acc, t)["errMsg"] == "config:invalid signature"
    assert fake.violation_rules() == ["jssdk_bad_signature"] * 5
    assert "no unexpired jsapi_ticket" in fake.violations[0]["detail"]


# -- wx-open-subscribe over HTTP ------------------------------------------------------
def test_open_tag_accept_allows_one_bizsend_each(fake, acc, token, receiver):
    openid = acc.add_follower()
    session_id = config(fake, acc, ticket(fake, token), fake_openid=openid)["session"]
    click = {"session": session_id, "appId": acc.appid, "templates": ["SUB_POINTS", "SUB_COUPON"], "url": PAGE}
    res = js_post(fake, "/_fake/jssdk/subscribe", click)
    assert res["errMsg"] == "subscribe:ok"
    details = json.loads(res["subscribeDetails"])
    assert {k: json.loads(v) for k, v in details.items()} == {
        "SUB_POINTS": {"status": "accept"},
        "SUB_COUPON": {"status": "accept"},
    }
    assert fake.wait_idle(5)
    (popup,) = events(receiver, "subscribe_msg_popup_event")
    assert popup["FromUserName"] == openid and popup["ToUserName"] == acc.original_id
    items = popup["SubscribeMsgPopupEvent"]["List"]
    assert [(i["TemplateId"], i["SubscribeStatusString"], i["PopupScene"]) for i in items] == [
        ("SUB_POINTS", "accept", "1"),
        ("SUB_COUPON", "accept", "1"),
    ]
    query, body = receiver.raw[0]
    assert body.count(b"<List>") == 2 and b"<item>" not in body
    # one accept -> one send
    assert bizsend(fake, token, openid) == {"errcode": 0, "errmsg": "ok"}
    assert len(acc.unused_optins(openid, "SUB_POINTS")) == 0 and len(acc.unused_optins(openid, "SUB_COUPON")) == 1
    assert fake.wait_idle(5)
    (sent,) = events(receiver, "subscribe_msg_sent_event")
    item = sent["SubscribeMsgSentEvent"]["List"]
    assert item["TemplateId"] == "SUB_POINTS" and item["ErrorCode"] == "0" and item["ErrorStatus"] == "success"
    assert int(item["MsgID"]) == acc.subscribe_messages[0]["msgid"]
    assert acc.subscribe_optins[0]["used_by"] == acc.subscribe_messages[0]["msgid"]
    assert fake.violations == []


@pytest.mark.fake_violations_expected
def test_second_bizsend_without_a_new_accept_is_43101(fake, acc, token):
    openid = acc.add_follower()
    fake.subscribe_accept(acc.appid, openid, ["SUB_POINTS"])
    assert bizsend(fake, token, openid)["errcode"] == 0
    assert bizsend(fake, token, openid)["errcode"] == 43101
    assert fake.violation_rules() == ["subscribe_without_optin"]
    fake.clear_logs()
    for _ in range(2):  # accepts accumulate
        fake.subscribe_accept(acc.appid, openid, "SUB_POINTS")
    assert [bizsend(fake, token, openid)["errcode"] for _ in range(3)] == [0, 0, 43101]
    assert len(acc.subscribe_messages) == 3


def test_browser_user_and_reject(fake, acc, token, receiver):
    openid = acc.add_follower()
    fake.set_browser_user(acc.appid, openid)
    res = config(fake, acc, ticket(fake, token))  # no fake_openid: the browser user
    assert res["openid"] == openid
    click = {"session": res["session"], "appId": acc.appid, "templates": "SUB_POINTS", "choice": "reject"}
    res = js_post(fake, "/_fake/jssdk/subscribe", click)
    assert json.loads(json.loads(res["subscribeDetails"])["SUB_POINTS"]) == {"status": "reject"}
    assert acc.unused_optins(openid, "SUB_POINTS") == []
    assert fake.wait_idle(5)
    (popup,) = events(receiver, "subscribe_msg_popup_event")
    assert popup["SubscribeMsgPopupEvent"]["List"]["SubscribeStatusString"] == "reject"


@pytest.mark.fake_violations_expected
def test_open_tag_errors(fake, acc, token):
    before = {"session": "nope", "appId": acc.appid, "templates": ["SUB_POINTS"]}
    assert js_post(fake, "/_fake/jssdk/subscribe", before)["errMsg"].startswith("subscribe:fail")
    t = ticket(fake, token)
    undeclared = config(fake, acc, t, open_tags=())["session"]
    res = js_post(fake, "/_fake/jssdk/subscribe", dict(before, session=undeclared))
    assert res["errMsg"].startswith("subscribe:fail")
    assert fake.violation_rules() == ["jssdk_open_tag_not_declared"]
    good = config(fake, acc, t)["session"]
    res = js_post(fake, "/_fake/jssdk/subscribe", dict(before, session=good, templates=["TPL_NOT_SUBSCRIBE"]))
    assert res["errCode"] == 20001
    res = js_post(fake, "/_fake/jssdk/subscribe", dict(before, session=good, templates=[]))
    assert res["errCode"] == 10001
    assert acc.subscribe_optins == []


@pytest.mark.fake_violations_expected
def test_bizsend_rules(fake, acc, token):
    openid = acc.add_follower()
    acc.add_template("TPL_MSG")  # a template-message template is not a subscribe template
    fake.subscribe_accept(acc.appid, openid, ["SUB_POINTS"])
    assert bizsend(fake, token, openid, "TPL_MSG")["errcode"] == 40037
    assert bizsend(fake, token, openid, "NOPE")["errcode"] == 40037
    assert bizsend(fake, token, "o" + "n" * 27)["errcode"] == 40003
    bad = dict(sample_data(KEYWORDS), thing1={"value": "x" * 21})
    assert bizsend(fake, token, openid, data=bad)["errcode"] == 47003
    assert fake.violation_rules() == ["template_data_invalid"]
    assert len(acc.unused_optins(openid, "SUB_POINTS")) == 1  # refused sends consume nothing
    acc.certified = False
    assert bizsend(fake, token, openid)["errcode"] == 48001
    acc.certified = True
    visitor = acc.add_nonfollower()  # subscribe notices reach non-followers too (服务通知)
    fake.subscribe_accept(acc.appid, visitor, ["SUB_POINTS"])
    assert bizsend(fake, token, visitor)["errcode"] == 0


def test_python_control_and_change_event(fake, acc, token, receiver):
    openid = acc.add_follower()
    result = fake.simulator(acc.appid).subscribe(openid, ["SUB_POINTS", "SUB_COUPON"])
    assert result.ok and result.event["Event"] == "subscribe_msg_popup_event"
    result = fake.subscribe_change(acc.appid, openid, ["SUB_COUPON"])
    assert result.ok
    change = events(receiver, "subscribe_msg_change_event")[0]["SubscribeMsgChangeEvent"]["List"]
    assert change == {"TemplateId": "SUB_COUPON", "SubscribeStatusString": "reject"}
    assert acc.unused_optins(openid, "SUB_COUPON") == [] and len(acc.unused_optins(openid, "SUB_POINTS")) == 1
    with pytest.raises(ValueError):
        fake.subscribe_accept(acc.appid, openid, ["NOPE"])
    with pytest.raises(ValueError):
        fake.subscribe_accept(acc.appid, openid, ["SUB_POINTS"], status="maybe")


# -- persistence, control endpoint, CLI ------------------------------------------------
def test_state_file_keeps_grants_optins_drafts_and_tickets(fake, acc, token, tmp_path):
    openid = acc.add_follower()
    fake.simulator(acc.appid).text(openid, "hi")
    acc.user(openid).block_notices = True
    fake.subscribe_accept(acc.appid, openid, ["SUB_POINTS"])
    draft = acc.add_draft()
    t = ticket(fake, token)
    path = str(tmp_path / "state.json")
    save_state(fake, path)
    other = FakeWeChat(clock=fake._clock)
    load_state(other, path)
    acc2 = other.account(acc.appid)
    user = acc2.user(openid)
    assert user.block_notices and user.cs_quota(other.now()) == (5, 48 * 3600)
    assert len(acc2.unused_optins(openid, "SUB_POINTS")) == 1 and draft in acc2.drafts
    assert acc2.subscribe_templates["SUB_POINTS"]["keywords"] == list(KEYWORDS)
    assert t in other.jsapi_tickets
    assert json.loads(json.dumps(dump_state(other)))  # JSON-clean


def test_control_endpoint_and_cli(fake, acc, receiver, capsys):
    openid = acc.add_follower()
    with session() as s:
        res = s.post(
            fake.url + "/_fake/subscribe_templates",
            json={"appid": acc.appid, "template_id": "SUB_NEW", "keywords": ["thing1"]},
        )
        assert res.json() == {"template_id": "SUB_NEW"}
        res = s.post(fake.url + "/_fake/subscribe", json={"appid": acc.appid, "openid": openid, "templates": "SUB_NEW"})
        assert res.json()["status"] == 200
    argv = ["subscribe", "--url", fake.url, "--appid", acc.appid, "--openid", openid, "--template", "SUB_POINTS"]
    assert cli_main(argv) == 0
    assert json.loads(capsys.readouterr().out)["event"]["Event"] == "subscribe_msg_popup_event"
    assert len(acc.unused_optins(openid, "SUB_NEW")) == 1 and len(acc.unused_optins(openid, "SUB_POINTS")) == 1


# -- the JS stand-in in a real (headless) browser, when one is installed -------------
PAGE_HTML = """<!DOCTYPE html><html><head><meta charset="utf-8">
<script>window.FAKEWECHAT_OPENID = "%(openid)s";</script>
<script src="%(fake)s/open/js/jweixin-1.6.0.js"></script></head><body>
<wx-open-subscribe id="btn" template="SUB_POINTS,SUB_COUPON">
  <script type="text/wxtag-template"><button class="sub">订阅通知</button></script>
</wx-open-subscribe>
<pre id="out"></pre>
<script>
  var out = document.getElementById("out");
  function log(s) { out.textContent += s + "\\n"; }
  var btn = document.getElementById("btn");
  btn.addEventListener("success", function (e) {
    log("success " + e.detail.errMsg + " " + e.detail.subscribeDetails);
  });
  btn.addEventListener("error", function (e) { log("error " + e.detail.errMsg); });
  btn.click();  // before wx.config: error
  wx.error(function (res) { log("wx.error " + res.errMsg); });
  wx.ready(function () {
    log("ready " + document.querySelectorAll("#btn span.fakewechat-open-subscribe button.sub").length);
    wx.checkJsApi({jsApiList: ["checkJsApi", "chooseImage"], success: function (r) {
      log("check " + JSON.stringify(r.checkResult));
    }});
    btn.querySelector("button.sub").click();
  });
  wx.config({appId: "%(appid)s", timestamp: "%(ts)s", nonceStr: "%(nonce)s", signature: "%(signature)s",
             jsApiList: ["checkJsApi"], openTagList: ["wx-open-subscribe"]});
</script></body></html>"""


def _browser():
    import shutil

    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(_browser() is None, reason="no headless chromium")
@pytest.mark.parametrize("good", [True, False])
def test_js_stand_in_in_a_headless_browser(fake, acc, token, receiver, good):
    import re
    import subprocess

    openid = acc.add_follower()
    holder = {"html": ""}
    server = _serve_page_dynamic(holder)
    try:
        url = "http://127.0.0.1:%d/member/notices?x=1" % server.server_address[1]
        nonce, ts = "abcdef123456", "1700000000"
        signature = jssdk_signature(ticket(fake, token), nonce, ts, url if good else url + "&tampered=1")
        values = dict(openid=openid, fake=fake.url, appid=acc.appid, ts=ts, nonce=nonce, signature=signature)
        holder["html"] = PAGE_HTML % values
        cmd = [_browser(), "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000"]
        dom = subprocess.run(cmd + ["--dump-dom", url + "#frag"], capture_output=True, text=True, timeout=90).stdout
    finally:
        server.shutdown()
        server.server_close()
    out = re.search(r'<pre id="out">(.*?)</pre>', dom, re.S).group(1)
    lines = [line for line in out.splitlines() if line]
    assert lines[0] == "error subscribe:fail wx.config has not succeeded (fake)"
    if not good:
        assert lines[1:] == ["wx.error config:invalid signature"]
        assert fake.violation_rules() == ["jssdk_bad_signature"]
        fake.clear_logs()
        return
    assert lines[1] == "ready 1"  # the template content is rendered inside the element
    assert 'check {"checkJsApi":true,"chooseImage":false}' in lines
    (success,) = (line for line in lines if line.startswith("success "))
    details = json.loads(success.split(" ", 2)[2].replace("&quot;", '"'))
    assert {k: json.loads(v)["status"] for k, v in details.items()} == {"SUB_POINTS": "accept", "SUB_COUPON": "accept"}
    assert len(acc.unused_optins(openid, "SUB_POINTS")) == 1
    assert fake.wait_idle(5)
    assert events(receiver, "subscribe_msg_popup_event")[0]["FromUserName"] == openid
    assert bizsend(fake, token, openid)["errcode"] == 0


def _serve_page_dynamic(holder):
    """A page server on another origin than the fake (so CORS is exercised); serves holder["html"]."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Page(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            body = holder["html"].encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
