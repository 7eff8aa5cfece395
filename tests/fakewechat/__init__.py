"""A fake WeChat platform (Official Account API, OAuth, WeChat Pay v2, callbacks)
for tests and the demo sandbox.  Everything runs on 127.0.0.1; real WeChat
servers are never contacted.

``./run`` installs it in the virtualenv in editable mode (``pip install -e .[test]``;
``setup.cfg`` declares the package), so ``import fakewechat`` works everywhere: the
modules' Odoo tests, pytest, the benchmarks and ``python -m fakewechat serve``
(the demo sandbox).

Quick start::

    fake = FakeWeChat().start()
    acc = fake.add_account(appid='wx0123456789abcdef', secret='s' * 32, token='cbtoken',
                           webhook_url='http://127.0.0.1:8069/wechat/1/callback')
    acc.add_followers(100)
    fake.simulator(acc.appid).follow(scene=42)
    ...
    fake.stop()
"""

from .clock import FakeClock
from .errors import WeChatError
from .fake import FakeWeChat
from .receiver import WebhookReceiver
from .simulator import FollowerSimulator
from .state import FakeAccount, User
from .wechatpy_support import RedirectAdapter, redirect_to_fake
from .webhook import WebhookResult

__all__ = [
    "FakeWeChat",
    "FakeAccount",
    "FollowerSimulator",
    "FakeClock",
    "User",
    "WebhookResult",
    "WebhookReceiver",
    "WeChatError",
    "RedirectAdapter",
    "redirect_to_fake",
]
