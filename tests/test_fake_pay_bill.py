"""WeChat Pay v2 trade bills of the fake (``/pay/downloadbill``): built from its own ledger, in WeChat's
format, with the day rules (no bill of today, none before 09:00 the next day, "No Bill Exist")."""

import datetime

import pytest
from fakewechat.pay_bill import bill_ready_at
from fakewechat.testing import make_pay, pay_post
from wechatpy.exceptions import WeChatPayException

HEADER_START = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号"


@pytest.fixture
def pay(fake, acc):
    return make_pay(fake, acc)


def beijing_day(fake):
    return datetime.datetime.fromtimestamp(fake.now() + 8 * 3600, datetime.timezone.utc).date()


def micropay(pay, fake, out_trade_no, total_fee=1000):
    return pay.micropay.create(
        body="Store 1",
        total_fee=total_fee,
        auth_code=fake.auth_code(),
        client_ip="127.0.0.1",
        out_trade_no=out_trade_no,
    )


def refused(pay, day):
    with pytest.raises(WeChatPayException) as err:
        pay.tools.download_bill(day)
    return err.value.return_msg


def lines(text):
    return [line for line in text.splitlines() if line]


def test_bill_of_the_day_from_the_ledger(fake, acc, pay, clock):
    day = beijing_day(fake)
    paid = micropay(pay, fake, "T1", 1234)
    micropay(pay, fake, "T2", 500)
    clock.advance(20)
    pay.order.reverse(out_trade_no="T2")  # paid then reversed: REVOKED in the bill
    pay_post(
        fake,
        acc,
        "/secapi/pay/refund",
        {"out_trade_no": "T1", "out_refund_no": "R1", "total_fee": 1234, "refund_fee": 300},
    )
    assert refused(pay, day) == "invalid bill_date"  # no bill of today
    clock.set(bill_ready_at(day, hour=8, minute=59))
    assert refused(pay, day) == "No Bill Exist"  # not published before 09:00 the next day
    clock.set(bill_ready_at(day))
    text = pay.tools.download_bill(day)
    rows = lines(text)
    assert rows[0].startswith(HEADER_START) and rows[0].endswith("订单金额,申请退款金额,费率备注")
    assert all(value.startswith("`") for value in rows[1].split(","))
    details = [row[1:].split(",`") for row in rows[1:-2]]
    assert [(d[6], d[9]) for d in details] == [("T1", "SUCCESS"), ("T2", "REVOKED"), ("T1", "REFUND")]
    assert details[0][5] == paid["transaction_id"] and details[0][12] == "12.34" and details[0][24] == "12.34"
    assert details[2][15] == "R1" and details[2][16] == "3.00" and details[2][25] == "3.00"
    assert details[2][14].startswith("5")
    assert rows[-2].startswith("总交易单数,") and rows[-1].startswith("`3,`12.34,`3.00")
    assert refused(pay, day - datetime.timedelta(days=1)) == "No Bill Exist"  # a day without trade


def test_bill_controls_omit_and_amount(fake, acc, pay, clock):
    day = beijing_day(fake)
    micropay(pay, fake, "T1")
    micropay(pay, fake, "T2")
    fake.pay_bill_omit("T1")
    fake.pay_bill_amount("T2", 999)
    clock.set(bill_ready_at(day))
    details = [row[1:].split(",`") for row in lines(fake.trade_bill(acc.mch_id, day))[1:-2]]
    assert [(d[6], d[24]) for d in details] == [("T2", "9.99")]


def test_bill_request_is_signed(fake, acc, pay, clock):
    day = beijing_day(fake)
    micropay(pay, fake, "T1")
    clock.set(bill_ready_at(day))
    answer = pay_post(
        fake, acc, "/pay/downloadbill", {"bill_date": day.strftime("%Y%m%d"), "bill_type": "ALL"}, key="x" * 32
    )
    assert answer["return_code"] == "FAIL" and answer["return_msg"] == "sign error"
