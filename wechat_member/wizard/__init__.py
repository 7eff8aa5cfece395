from . import base_partner_merge_automatic_wizard
from . import wechat_member_selection_mixin
from . import wechat_member_wizard
from . import wechat_member_import
from . import pos_make_payment
from . import wechat_pay_reconcile_wizard
