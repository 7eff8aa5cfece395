"""Locations on the fake platform: the ``LOCATION`` report (answered "success" only), the menu's
``location_select`` (``SendLocationInfo``), the custom menu's button types, and the JS-SDK's ``getLocation`` /
``openLocation`` (declared in ``wx.config``'s ``jsApiList``)."""

import pytest
from fakewechat.testing import api_post, session
from test_fake_subscribe import config, js_post, ticket


@pytest.fixture
def fake(fake_wechat):
    """The simulator runs on the real clock (conftest's acc and sim use it)."""
    return fake_wechat


def test_location_report_shape_and_no_grant(fake, acc, sim, receiver):
    openid = acc.add_follower()
    result = sim.report_location(openid, latitude=31.2287, longitude=121.4547, precision=65.0)
    assert result.ok and result.reply is None
    event = receiver.unique[-1]
    assert event["MsgType"] == "event" and event["Event"] == "LOCATION"
    assert (event["Latitude"], event["Longitude"], event["Precision"]) == ("31.228700", "121.454700", "65.000000")
    assert acc.user(openid).open_grants(fake.now()) == [], "entering the chat opens no customer-service quota"
    assert fake.violations == []


@pytest.mark.fake_violations_expected
def test_location_report_answered_with_a_message_is_a_violation(fake, acc, sim, receiver):
    openid = acc.add_follower()
    receiver.reply = lambda event: receiver.text_reply(event, "Nearest store: …")
    sim.report_location(openid)
    assert fake.violation_rules() == ["bad_passive_reply"]
    assert "LOCATION" in fake.violations[0]["detail"]


def test_location_select_sends_the_picked_location(fake, acc, sim, receiver):
    openid = acc.add_follower()
    event_result, echo = sim.location_select(openid, "STORES", x=31.23, y=121.47, label="人民广场", echo=True)
    assert event_result.ok and echo.ok
    event, message = receiver.unique[-2:]
    assert event["Event"] == "location_select" and event["EventKey"] == "STORES"
    assert event["SendLocationInfo"]["Location_X"] == "31.23"
    assert event["SendLocationInfo"]["Label"] == "人民广场"
    assert message["MsgType"] == "location" and message["Location_Y"] == "121.47"
    kinds = [g["kind"] for g in acc.user(openid).open_grants(fake.now())]
    assert kinds == ["message"], "the picked location's message opens the 48 h quota; the menu event none"


def test_menu_button_types(fake, acc, token):
    ok = {"button": [{"type": "location_select", "name": "附近门店", "key": "STORES"}]}
    assert api_post(fake, "/cgi-bin/menu/create", ok, token)["errcode"] == 0
    unknown = {"button": [{"type": "teleport", "name": "x", "key": "K"}]}
    assert api_post(fake, "/cgi-bin/menu/create", unknown, token)["errcode"] == 40017
    keyless = {"button": [{"name": "门店", "sub_button": [{"type": "location_select", "name": "附近"}]}]}
    assert api_post(fake, "/cgi-bin/menu/create", keyless, token)["errcode"] == 40019


def test_jssdk_get_and_open_location(fake, acc, token):
    openid = acc.add_follower()
    sid = config(fake, acc, ticket(fake, token), fake_openid=openid, jsApiList=["getLocation", "openLocation"])[
        "session"
    ]

    def call(api, **args):
        return js_post(fake, "/_fake/jssdk/call", {"session": sid, "appId": acc.appid, "api": api, "args": args})

    assert call("getLocation", type="gcj02")["errMsg"] == "getLocation:fail auth deny", "no location given yet"
    with session() as s:  # the control endpoint (the demo's): for anyone of the account
        s.post(fake.url + "/_fake/browser_location", json={"appid": acc.appid, "latitude": 30.0, "longitude": 120.0})
    assert (call("getLocation")["latitude"], call("getLocation")["longitude"]) == (30.0, 120.0)
    fake.set_browser_location(acc.appid, 31.23, 121.47, openid=openid)
    res = call("getLocation", type="gcj02")
    assert res["errMsg"] == "getLocation:ok" and (res["latitude"], res["longitude"]) == (31.23, 121.47)
    assert call("openLocation", latitude=31.2287, longitude=121.4547, name="静安店")["errMsg"] == "openLocation:ok"
    assert call("openLocation", latitude="north", longitude=121.4)["errMsg"].startswith("openLocation:fail")
    assert [c["api"] for c in fake.jssdk_calls] == ["getLocation"] * 4 + ["openLocation"] * 2
    assert fake.violations == []


@pytest.mark.fake_violations_expected
def test_jssdk_api_not_declared(fake, acc, token):
    session = config(fake, acc, ticket(fake, token))["session"]  # jsApiList: checkJsApi only
    res = js_post(fake, "/_fake/jssdk/call", {"session": session, "appId": acc.appid, "api": "getLocation", "args": {}})
    assert res["errMsg"].startswith("getLocation:fail")
    assert fake.violation_rules() == ["jssdk_api_not_declared"]
