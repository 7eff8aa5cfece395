from . import wechat_coupon_issue_wizard
from . import wechat_member_import
