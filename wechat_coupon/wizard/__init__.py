from . import wechat_coupon_issue_wizard
