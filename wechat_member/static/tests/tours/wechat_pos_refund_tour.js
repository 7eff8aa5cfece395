import { registry } from "@web/core/registry";
import * as Dialog from "@point_of_sale/../tests/tours/utils/dialog_util";
import * as PaymentScreen from "@point_of_sale/../tests/tours/utils/payment_screen_util";
import * as ProductScreen from "@point_of_sale/../tests/tours/utils/product_screen_util";
import {
    finishOrder,
    openRegister,
    payDeskPadsWithWeChat,
    paymentSuccessful,
    refundWithWeChat,
    scanPayCode,
} from "@wechat_member/../tests/tours/utils/wechat_member_util";

// Auth codes scripted on the fake WeChat platform by test_pos_wechat_pay_refund.py.
const SALE_1_CODE = "134567890123456791";
const SALE_2_CODE = "134567890123456792";
const SALE_3_CODE = "134567890123456793";

registry.category("web_tour.tours").add("WeChatPosRefundTour", {
    steps: () =>
        [
            openRegister(),
            // 1. A sale paid with WeChat Pay, refunded fully.
            payDeskPadsWithWeChat("1", SALE_1_CODE),
            paymentSuccessful(),
            finishOrder(),
            refundWithWeChat("-0001", "1"),
            paymentSuccessful(),
            finishOrder(),
            // 2. Another sale, refunded in two parts.
            payDeskPadsWithWeChat("2", SALE_2_CODE),
            paymentSuccessful(),
            finishOrder(),
            refundWithWeChat("-0003", "1"),
            paymentSuccessful(),
            finishOrder(),
            refundWithWeChat("-0003", "1"),
            paymentSuccessful(),
            finishOrder(),
        ].flat(),
});

registry.category("web_tour.tours").add("WeChatPosRefundOverTour", {
    steps: () =>
        [
            openRegister(),
            // A sale of two Desk Pads paid half in cash, half with WeChat Pay.
            ProductScreen.addOrderline("Desk Pad", "2"),
            ProductScreen.clickPayButton(),
            PaymentScreen.emptyPaymentlines("3.96"),
            PaymentScreen.clickPaymentMethod("Cash"),
            PaymentScreen.selectedPaymentlineHas("Cash", "3.96"),
            {
                content: "the customer pays 1.98 in cash",
                trigger: ".paymentlines .paymentline.selected:contains('Cash')",
                run: () => {
                    const order = window.posmodel.get_order();
                    order.payment_ids.find((p) => p.payment_method_id.name === "Cash").set_amount(1.98);
                },
            },
            PaymentScreen.remainingIs("1.98"),
            PaymentScreen.clickPaymentMethod("WeChat Pay"),
            scanPayCode(SALE_3_CODE),
            paymentSuccessful(),
            finishOrder(),
            // The first part (the WeChat part) is refunded to WeChat.
            refundWithWeChat("-0001", "1"),
            paymentSuccessful(),
            finishOrder(),
            // The second part is above what is left on WeChat: refused, with the amount left.
            refundWithWeChat("-0001", "1"),
            {
                content: "the cashier is told how much is left to refund with WeChat Pay",
                trigger: ".modal-body:contains('Only'):contains('left to refund with WeChat Pay')",
            },
            Dialog.confirm(),
            PaymentScreen.clickPaymentlineDelButton("WeChat Pay", "-1.98"),
            PaymentScreen.clickPaymentMethod("Cash"),
            finishOrder(),
        ].flat(),
});
