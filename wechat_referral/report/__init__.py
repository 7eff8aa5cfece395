from . import wechat_referral_funnel
