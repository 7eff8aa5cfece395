from . import test_automation
from . import test_concurrency
from . import test_coupon_campaign
from . import test_self_service
from . import test_wallet_pages
from . import test_pos_tour
from . import test_i18n
from . import test_notify_me_tour
