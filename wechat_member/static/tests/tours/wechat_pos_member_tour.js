import { registry } from "@web/core/registry";
import * as Chrome from "@point_of_sale/../tests/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/tours/utils/dialog_util";
import * as PaymentScreen from "@point_of_sale/../tests/tours/utils/payment_screen_util";
import * as ProductScreen from "@point_of_sale/../tests/tours/utils/product_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/tours/utils/receipt_screen_util";
import { scan_barcode } from "@point_of_sale/../tests/tours/utils/common";

// Customers created by test_pos_member.py; none is loaded when the POS starts.

function searchCustomer(query) {
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

function payCashAndCheckReceipt(code, { purchases, followQr }) {
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

registry.category("web_tour.tours").add("WeChatPosMemberPhoneTour", {
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            // 1. A member found by phone (spaces as the customer says it).
            ProductScreen.addOrderline("Desk Pad", "1"),
            ProductScreen.clickPartnerButton(),
            searchCustomer("138 0013 8000"),
            ProductScreen.customerIsSelected("Lily Chen"),
            payCashAndCheckReceipt("WM90000001", { purchases: 0, followQr: true }),
            // 2. An unknown phone: the cashier creates the member from it.
            ProductScreen.addOrderline("Desk Pad", "1"),
            ProductScreen.clickPartnerButton(),
            searchCustomer("13900139000"),
            {
                content: "no customer with this phone: the cashier is told to create one",
                trigger: ".o_notification:contains('New Member')",
            },
            {
                content: "new member from the phone",
                trigger: ".modal .o_wechat_new_member",
                run: "click",
            },
            ProductScreen.customerIsSelected("13900139000"),
            payCashAndCheckReceipt("WM", { followQr: true }),
        ].flat(),
});

registry.category("web_tour.tours").add("WeChatPosMemberScanTour", {
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            // 1. The member QR code of a payer (not a follower) is scanned.
            ProductScreen.addOrderline("Desk Pad", "1"),
            scan_barcode("WM90000002"),
            ProductScreen.customerIsSelected("Wang Fang"),
            payCashAndCheckReceipt("WM90000002", { purchases: 1, followQr: true }),
            // 2. A follower: no invitation to follow.
            ProductScreen.addOrderline("Desk Pad", "1"),
            scan_barcode("WM90000003"),
            ProductScreen.customerIsSelected("Zhao Lei"),
            payCashAndCheckReceipt("WM90000003", { purchases: 1, followQr: false }),
        ].flat(),
});
