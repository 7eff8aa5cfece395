"""A fake WeChat platform (Official Account API, OAuth, WeChat Pay v2, callbacks)
for tests and the demo sandbox.  Everything runs on 127.0.0.1; real WeChat
servers are never contacted.

Import it with ``tests/`` on ``sys.path`` (``import fakewechat``) or by file path::

    import importlib.util, sys
    spec = importlib.util.spec_from_file_location('fakewechat', '<repo>/tests/fakewechat/__init__.py')
    module = importlib.util.module_from_spec(spec)
    sys.modules['fakewechat'] = module      # needed before exec: the package uses relative imports
    spec.loader.exec_module(module)

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
