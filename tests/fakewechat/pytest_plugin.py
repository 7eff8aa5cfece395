"""pytest fixtures for the fake WeChat platform (enable with
``pytest_plugins = ["fakewechat.pytest_plugin"]``).

- ``fake_wechat``: a started FakeWeChat (real clock; ``fake_wechat.advance(s)``
  moves its time), stopped after the test;
- ``fake_account``: a registered service account with webhook-less defaults
  (appid ``wx1234567890abcdef``, callback token ``callbacktoken``, merchant
  ``1900000109``);
- ``make_fake_wechat``: factory ``make_fake_wechat(**FakeWeChat kwargs)``, started and
  stopped for you (e.g. ``clock=FakeClock()``);
- ``make_webhook_receiver``: factory for a product-like webhook (see receiver.py).

The rule-violation log is asserted empty: a test whose fake logged violations
fails at teardown, listing them.  A test that breaks rules on purpose (to check
the fake records them) opts out with ``@pytest.mark.fake_violations_expected``
or by calling ``fake.expect_violations()``; ``fake.clear_logs()`` after checking
the expected ones works too.
"""

import pytest

from .fake import FakeWeChat
from .receiver import WebhookReceiver

DEFAULT_ACCOUNT = dict(
    appid="wx1234567890abcdef",
    secret="0123456789abcdef0123456789abcdef",
    token="callbacktoken",
    aes_key="abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    encrypt_mode="plain",
    webhook_url=None,
    mch_id="1900000109",
    mch_key="192006250b4c09247ec02edce69f6a2d",
    certified=True,
)


VIOLATIONS_MARKER = "fake_violations_expected"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", f"{VIOLATIONS_MARKER}: the test breaks fake WeChat rules on purpose (no teardown check)"
    )


@pytest.fixture
def make_fake_wechat(request):
    fakes = []

    def factory(**kwargs):
        fake = FakeWeChat(**kwargs).start()
        fakes.append(fake)
        return fake

    yield factory
    for fake in fakes:
        fake.stop()
    if request.node.get_closest_marker(VIOLATIONS_MARKER) is None:
        for fake in fakes:
            if not fake.violations_expected and fake.violations:
                try:
                    fake.assert_no_violations()
                except AssertionError as exc:
                    pytest.fail(f"{exc}\n(mark the test @pytest.mark.{VIOLATIONS_MARKER} if it is on purpose)")


@pytest.fixture
def fake_wechat(make_fake_wechat):
    return make_fake_wechat()


@pytest.fixture
def fake_account(fake_wechat):
    return fake_wechat.add_account(**DEFAULT_ACCOUNT)


@pytest.fixture
def make_webhook_receiver():
    receivers = []

    def factory(token=DEFAULT_ACCOUNT["token"], aes_key=None, appid=None, delay=0.0, reply=None):
        receiver = WebhookReceiver(token, aes_key, appid, delay, reply).start()
        receivers.append(receiver)
        return receiver

    yield factory
    for receiver in receivers:
        receiver.stop()
