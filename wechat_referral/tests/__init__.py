from . import test_menus
from . import test_i18n
from . import test_referral
from . import test_fraud
from . import test_funnel
from . import test_member_page
from . import test_security
from . import test_concurrency
