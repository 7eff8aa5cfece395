from . import phone
from . import qr_code
from . import wechat_api
from . import wechat_pay_api
from . import wechat_pay_bill
