"""Access-token rules: 7200 s life, grace after renewal, 40001/41001/42001,
daily limits, stable_token; through requests and wechatpy 1.8.18."""

import pytest
from fakewechat.pytest_plugin import DEFAULT_ACCOUNT
from fakewechat.testing import api_get, api_post, fetch_token, make_client
from fakewechat.wechatpy_support import redirect_to_fake
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException


def tags_errcode(fake, token):
    return api_get(fake, "/cgi-bin/tags/get", token).get("errcode", 0)


def stable(fake, acc, force=None):
    body = {"grant_type": "client_credential", "appid": acc.appid, "secret": acc.secret}
    if force is not None:
        body["force_refresh"] = force
    return api_post(fake, "/cgi-bin/stable_token", body)


def test_token_is_issued_and_accepted(fake, acc):
    data = api_get(fake, "/cgi-bin/token", grant_type="client_credential", appid=acc.appid, secret=acc.secret)
    assert data["expires_in"] == 7200
    assert len(data["access_token"]) > 100
    assert tags_errcode(fake, data["access_token"]) == 0
    assert fake.calls[-1]["appid"] == acc.appid and fake.calls[-1]["errcode"] == 0
    assert fake.violations == []


def test_bad_credentials(fake, acc):
    base = {"grant_type": "client_credential", "appid": acc.appid, "secret": acc.secret}
    assert api_get(fake, "/cgi-bin/token", **dict(base, appid="wxnope"))["errcode"] == 40013
    assert api_get(fake, "/cgi-bin/token", **dict(base, secret="wrong"))["errcode"] == 40125
    assert api_get(fake, "/cgi-bin/token", **dict(base, grant_type="x"))["errcode"] == 40002


def test_missing_and_unknown_token(fake, acc):
    assert api_get(fake, "/cgi-bin/tags/get")["errcode"] == 41001
    assert tags_errcode(fake, "not-a-token") == 40001
    assert fake.violations == []


@pytest.mark.fake_violations_expected
def test_previous_token_valid_for_grace_then_40001_with_violation(fake, acc, clock):
    old = fetch_token(fake, acc)
    new = fetch_token(fake, acc)
    assert old != new
    assert tags_errcode(fake, old) == 0
    clock.advance(299)
    assert tags_errcode(fake, old) == 0
    assert fake.violations == []
    clock.advance(2)
    assert tags_errcode(fake, old) == 40001
    assert [v["rule"] for v in fake.violations] == ["stale_token"]
    assert tags_errcode(fake, new) == 0


@pytest.mark.fake_violations_expected
def test_grace_is_configurable(make_fake_wechat, clock):
    fake = make_fake_wechat(clock=clock, token_grace_seconds=10)
    acc = fake.add_account(**DEFAULT_ACCOUNT)
    old = fetch_token(fake, acc)
    fetch_token(fake, acc)
    clock.advance(11)
    assert tags_errcode(fake, old) == 40001


def test_expired_token_answers_42001(fake, acc, clock):
    token = fetch_token(fake, acc)
    clock.advance(7199)
    assert tags_errcode(fake, token) == 0
    clock.advance(1)
    assert tags_errcode(fake, token) == 42001
    assert fake.violations == []


@pytest.mark.fake_violations_expected
def test_token_daily_limit(fake, acc, clock):
    acc.token_daily_limit = 3
    for _ in range(3):
        fetch_token(fake, acc)
    data = api_get(fake, "/cgi-bin/token", grant_type="client_credential", appid=acc.appid, secret=acc.secret)
    assert data["errcode"] == 45009
    assert fake.violation_rules() == ["token_daily_limit"]
    clock.advance(86400)
    assert fetch_token(fake, acc)


def test_stable_token_same_until_five_minutes_before_expiry(fake, acc, clock):
    first = stable(fake, acc)
    assert first["expires_in"] == 7200
    clock.advance(1000)
    again = stable(fake, acc)
    assert again["access_token"] == first["access_token"] and again["expires_in"] == 6200
    clock.advance(6200 - 300)
    low = stable(fake, acc)
    assert low["access_token"] == first["access_token"] and low["expires_in"] == 300
    clock.advance(1)
    renewed = stable(fake, acc)
    assert renewed["access_token"] != first["access_token"] and renewed["expires_in"] == 7200
    assert tags_errcode(fake, renewed["access_token"]) == 0
    assert tags_errcode(fake, first["access_token"]) == 0  # still inside its life and the grace period


def test_stable_and_classic_tokens_are_independent(fake, acc):
    st = stable(fake, acc)["access_token"]
    classic = fetch_token(fake, acc)
    fetch_token(fake, acc)
    assert stable(fake, acc)["access_token"] == st
    assert tags_errcode(fake, st) == 0 and tags_errcode(fake, classic) == 0


@pytest.mark.fake_violations_expected
def test_stable_force_refresh_limit_and_invalidation(fake, acc, clock):
    acc.stable_force_daily_limit = 20
    tokens = [stable(fake, acc, force=True)["access_token"] for _ in range(20)]
    assert len(set(tokens)) == 20
    over = stable(fake, acc, force=True)
    assert over["errcode"] == 45009
    assert fake.violation_rules() == ["token_daily_limit"]
    clock.advance(301)
    assert tags_errcode(fake, tokens[0]) == 40001
    assert tags_errcode(fake, tokens[-1]) == 0


def test_stable_token_errors(fake, acc):
    assert stable(fake, acc).get("errcode") is None
    bad = api_post(
        fake, "/cgi-bin/stable_token", {"grant_type": "client_credential", "appid": acc.appid, "secret": "nope"}
    )
    assert bad["errcode"] == 40125
    assert api_post(fake, "/cgi-bin/stable_token", b"not json")["errcode"] == 47001


def test_wechatpy_fetch_access_token_through_adapter(fake, acc):
    client = WeChatClient(acc.appid, acc.secret, auto_retry=False, timeout=5)
    client.API_BASE_URL = fake.url + "/cgi-bin/"
    redirect_to_fake(client, fake.url)
    result = client.fetch_access_token()
    assert result["expires_in"] == 7200
    assert fake.calls[-1]["path"] == "/cgi-bin/token"
    assert client.tag.get() == [{"id": 2, "name": "星标组", "count": 0}]


@pytest.mark.fake_violations_expected
def test_wechatpy_stale_token_raises_once_without_refetch(fake, acc, clock):
    client = make_client(fake, acc)
    fetch_token(fake, acc)  # another worker renewed the token
    clock.advance(301)
    token_calls = len(fake.calls_to("/cgi-bin/token"))
    with pytest.raises(WeChatClientException) as err:
        client.tag.get()
    assert err.value.errcode == 40001
    assert len(fake.calls_to("/cgi-bin/token")) == token_calls  # no stampede with auto_retry=False
    assert fake.violation_rules() == ["stale_token"]


@pytest.mark.fake_violations_expected
def test_wechatpy_auto_retry_refetches_tokens(fake, acc, clock):
    """The pitfall the design warns about: auto_retry=True silently renews the token."""
    client = WeChatClient(acc.appid, acc.secret, access_token=fetch_token(fake, acc), timeout=5)
    client.API_BASE_URL = fake.url + "/cgi-bin/"
    redirect_to_fake(client, fake.url)
    fetch_token(fake, acc)
    clock.advance(301)
    before = len(fake.calls_to("/cgi-bin/token"))
    client.tag.get()
    assert len(fake.calls_to("/cgi-bin/token")) == before + 1
