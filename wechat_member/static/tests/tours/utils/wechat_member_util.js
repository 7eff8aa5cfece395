/** Steps shared by the WeChat POS tours (as pos_loyalty_util.js for pos_loyalty's). */
import * as Chrome from "@point_of_sale/../tests/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/tours/utils/dialog_util";
import * as PaymentScreen from "@point_of_sale/../tests/tours/utils/payment_screen_util";
import * as ProductScreen from "@point_of_sale/../tests/tours/utils/product_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/tours/utils/receipt_screen_util";
import * as TextInputPopup from "@point_of_sale/../tests/tours/utils/text_input_popup_util";
import * as TicketScreen from "@point_of_sale/../tests/tours/utils/ticket_screen_util";
import * as Order from "@point_of_sale/../tests/tours/utils/generic_components/order_widget_util";
import { inLeftSide } from "@point_of_sale/../tests/tours/utils/common";

/** Every POS tour starts here: the POS is loaded and the register opened. */
export function openRegister() {
    return [Chrome.startPoS(), Dialog.confirm("Open Register")].flat();
}

// ---------------------------------------------------------------- customers

export function searchCustomer(query) {
    return [
        {
            content: `search the customers for "${query}"`,
            trigger: ".modal-dialog .input-group input",
            run: `edit ${query}`,
        },
        {
            content: "ask the server (Enter / Search more)",
            trigger: ".modal .search-more-button > button",
            run: "click",
        },
    ];
}

/** The cashier confirms the customer found by member code or phone (masked name, last 4 phone digits). */
export function confirmCustomer(maskedName, last4) {
    return [
        {
            content: `the cashier is asked to confirm ${maskedName}, phone ending in ${last4}`,
            trigger: `.modal-body:contains('${maskedName}'):contains('${last4}')`,
        },
        Dialog.confirm("Yes, it is the customer"),
    ];
}

export function payCashAndCheckReceipt(code, { purchases, followQr }) {
    const steps = [
        ProductScreen.clickPayButton(),
        PaymentScreen.clickPaymentMethod("Cash"),
        PaymentScreen.clickValidate(),
        ReceiptScreen.isShown(),
        ReceiptScreen.receiptIsThere(),
        {
            content: `the receipt shows the member code ${code}`,
            trigger: `.pos-receipt .o_wechat_member_code:contains('${code}')`,
        },
    ];
    if (purchases !== undefined) {
        steps.push({
            content: `the receipt shows ${purchases} purchase(s), counted by the server`,
            trigger: `.pos-receipt .o_wechat_member_purchases span:contains('${purchases}')`,
        });
    }
    steps.push(
        followQr
            ? {
                  content: "not a follower: the receipt invites to follow the store's account",
                  trigger: ".pos-receipt .o_wechat_follow_qr img[src^='data:image/png']",
              }
            : {
                  content: "a follower: no follow QR code",
                  trigger: ".pos-receipt:not(:has(.o_wechat_follow_qr))",
              }
    );
    steps.push(ReceiptScreen.clickNextOrder());
    return steps.flat();
}

// ---------------------------------------------------------------- WeChat Pay

export function scanPayCode(code) {
    return [
        Dialog.is({ title: "Scan the customer's WeChat payment code" }),
        TextInputPopup.inputText(code),
        Dialog.confirm("Apply"),
    ];
}

/** ``quantity`` Desk Pads, paid with WeChat Pay by the customer's payment code ``code``. */
export function payDeskPadsWithWeChat(quantity, code) {
    return [
        ProductScreen.addOrderline("Desk Pad", quantity),
        ProductScreen.clickPayButton(),
        PaymentScreen.clickPaymentMethod("WeChat Pay"),
        scanPayCode(code),
    ].flat();
}

export function paymentSuccessful() {
    return [
        {
            content: "the WeChat payment line is paid",
            trigger: ".electronic_payment .electronic_status:contains('Payment Successful')",
        },
    ];
}

export function waitingForCustomer() {
    return [
        {
            content: "the payment line waits for the customer to confirm in WeChat",
            trigger: ".electronic_payment .o_wechat_pay_waiting",
        },
        {
            content: "the cashier can cancel meanwhile",
            trigger: ".electronic_payment .send_payment_cancel",
        },
    ];
}

export function finishOrder() {
    return [
        PaymentScreen.clickValidate(),
        ReceiptScreen.isShown(),
        ReceiptScreen.receiptIsThere(),
        ReceiptScreen.clickNextOrder(),
    ].flat();
}

/** Odoo's refund flow: select the paid order ``orderName`` in the ticket screen, refund ``quantity`` of its
 * selected line, then pay the refund back with WeChat Pay (no code to scan: the server finds the charge). */
export function refundWithWeChat(orderName, quantity) {
    return [
        ProductScreen.clickRefund(),
        TicketScreen.selectOrder(orderName),
        inLeftSide(Order.hasLine({ productName: "Desk Pad", withClass: ".selected" })),
        ProductScreen.clickNumpad(quantity),
        TicketScreen.confirmRefund(),
        ProductScreen.isShown(),
        ProductScreen.clickPayButton(),
        PaymentScreen.clickPaymentMethod("WeChat Pay"),
    ].flat();
}
