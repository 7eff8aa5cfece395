from . import wechat_cs_report
