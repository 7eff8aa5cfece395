import { registry } from "@web/core/registry";
import * as PaymentScreen from "@point_of_sale/../tests/tours/utils/payment_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/tours/utils/receipt_screen_util";
import {
    openRegister,
    payDeskPadsWithWeChat,
    paymentSuccessful,
} from "@wechat_member/../tests/tours/utils/wechat_member_util";
import { receiptPointsBalanceIs } from "@wechat_coupon/../tests/tours/utils/wechat_coupon_util";

// Scripted on the fake WeChat platform by test_pos_payer_points.py: a payer who is nobody's customer yet.
const PAYER_CODE = "134567890123456791";

registry.category("web_tour.tours").add("WeChatPayerPointsTour", {
    steps: () =>
        [
            openRegister(),
            // No customer chosen: the WeChat payer becomes the member and the customer at the sync.
            payDeskPadsWithWeChat("10", PAYER_CODE),
            paymentSuccessful(),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
            {
                content: "the receipt names the payer as the member",
                trigger: ".pos-receipt .o_wechat_member_receipt .o_wechat_member_code:contains('WM')",
            },
            // 10 desk pads at 1.98: 19.8 points earned by this order, the balance after it.
            receiptPointsBalanceIs("19.8"),
            ReceiptScreen.clickNextOrder(),
        ].flat(),
});
