import { registry } from "@web/core/registry";
import * as Dialog from "@point_of_sale/../tests/tours/utils/dialog_util";
import * as PaymentScreen from "@point_of_sale/../tests/tours/utils/payment_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/tours/utils/receipt_screen_util";
import {
    finishOrder,
    openRegister,
    payDeskPadsWithWeChat,
    paymentSuccessful,
    scanPayCode,
    waitingForCustomer,
} from "@wechat_member/../tests/tours/utils/wechat_member_util";

// Auth codes scripted on the fake WeChat platform by test_pos_wechat_pay.py.
const SUCCESS_CODE = "134567890123456781";
const USERPAYING_CODE = "134567890123456782";
const NOTENOUGH_CODE = "134567890123456783";
const RETRY_CODE = "134567890123456784";
const NEVER_PAID_CODE = "134567890123456785";
const TIMEOUT_CODE = "134567890123456786";

registry.category("web_tour.tours").add("WeChatPosPayTour", {
    steps: () =>
        [
            openRegister(),
            // 1. The customer pays at once.
            payDeskPadsWithWeChat("1", SUCCESS_CODE),
            paymentSuccessful(),
            PaymentScreen.remainingIs("0.0"),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
            {
                content: "the receipt thanks the WeChat payer (WeChat opens no service window after a payment)",
                trigger: ".pos-receipt .o_wechat_thanks:contains('Thank you for your purchase!')",
            },
            ReceiptScreen.clickNextOrder(),
            // 2. The customer has to confirm with a password first (USERPAYING).
            payDeskPadsWithWeChat("2", USERPAYING_CODE),
            waitingForCustomer(),
            paymentSuccessful(),
            finishOrder(),
        ].flat(),
});

registry.category("web_tour.tours").add("WeChatPosPayFailureTour", {
    steps: () =>
        [
            openRegister(),
            payDeskPadsWithWeChat("1", NOTENOUGH_CODE),
            {
                content: "the cashier is told why, in plain words",
                trigger: ".modal-body:contains('balance is not enough')",
            },
            Dialog.confirm(),
            {
                content: "the cashier retries with a new code",
                trigger: ".electronic_payment .send_payment_request:contains('Retry')",
                run: "click",
            },
            scanPayCode(RETRY_CODE),
            paymentSuccessful(),
            finishOrder(),
        ].flat(),
});

registry.category("web_tour.tours").add("WeChatPosPayCancelTour", {
    steps: () =>
        [
            openRegister(),
            payDeskPadsWithWeChat("1", NEVER_PAID_CODE),
            waitingForCustomer(),
            {
                content: "the customer gives up: the cashier cancels",
                trigger: ".electronic_payment .send_payment_cancel",
                run: "click",
            },
            {
                content: "the charge is reversed (WeChat accepts it 15 s after the order)",
                trigger: ".electronic_payment .send_payment_request:contains('Retry')",
                timeout: 40000,
            },
            PaymentScreen.remainingIs("1.98"),
        ].flat(),
});

registry.category("web_tour.tours").add("WeChatPosPayTimeoutTour", {
    steps: () =>
        [
            openRegister(),
            {
                content: "wait 2 s for the customer instead of 30 s",
                trigger: "body",
                run: () => {
                    const method = window.posmodel.models["pos.payment.method"].find(
                        (pm) => pm.use_payment_terminal === "wechat_pay"
                    );
                    method.payment_terminal.pollInterval = 500;
                    method.payment_terminal.pollTimeout = 2000;
                },
            },
            payDeskPadsWithWeChat("1", TIMEOUT_CODE),
            {
                content: "the customer never confirmed: the charge is cancelled and the cashier told so",
                trigger: ".modal-body:contains('did not confirm the payment in time')",
                timeout: 40000,
            },
            Dialog.confirm(),
            {
                content: "the line can be retried",
                trigger: ".electronic_payment .send_payment_request:contains('Retry')",
            },
        ].flat(),
});
