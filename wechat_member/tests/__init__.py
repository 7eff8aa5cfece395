from . import test_concurrency
from . import test_member_page
from . import test_qr_channel
from . import test_webhook
from . import test_wechat_account
from . import test_wechat_member
