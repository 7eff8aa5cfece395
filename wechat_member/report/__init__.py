from . import wechat_cs_report
from . import wechat_preorder_report
