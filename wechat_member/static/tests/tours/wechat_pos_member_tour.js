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

/** The cashier confirms the customer found by member code or phone (masked name, last 4 phone digits). */
function confirmCustomer(maskedName, last4) {
    return [
        {
            content: `the cashier is asked to confirm ${maskedName}, phone ending in ${last4}`,
            trigger: `.modal-body:contains('${maskedName}'):contains('${last4}')`,
        },
        Dialog.confirm("Yes, it is the customer"),
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
            confirmCustomer("L*", "8000"),
            ProductScreen.customerIsSelected("Lily Chen"),
            // A member by phone (no WeChat identity yet) counts like any member: this purchase is counted.
            payCashAndCheckReceipt("WM90000001", { purchases: 1, followQr: true }),
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
            confirmCustomer("W*", "8002"),
            ProductScreen.customerIsSelected("Wang Fang"),
            payCashAndCheckReceipt("WM90000002", { purchases: 1, followQr: true }),
            // 2. A follower: no invitation to follow.
            ProductScreen.addOrderline("Desk Pad", "1"),
            scan_barcode("WM90000003"),
            confirmCustomer("Z*", "8003"),
            ProductScreen.customerIsSelected("Zhao Lei"),
            payCashAndCheckReceipt("WM90000003", { purchases: 1, followQr: false }),
        ].flat(),
});

// The customer shows the dynamic code of their member page (it changes every minute); the test passes
// a fresh code and an old screenshot's one in the URL (wechat_fresh, wechat_old).
registry.category("web_tour.tours").add("WeChatPosMemberDynamicTour", {
    steps: () => {
        const params = new URLSearchParams(window.location.search);
        const fresh = params.get("wechat_fresh");
        const old = params.get("wechat_old");
        return [
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            ProductScreen.addOrderline("Desk Pad", "1"),
            ProductScreen.clickPartnerButton(),
            // 1. An old screenshot, typed in the customer search: refused with a clear message.
            searchCustomer(old),
            {
                content: "an old code: the cashier is told to ask for a refreshed member page",
                trigger: ".modal-body:contains('This member code has expired: ask the customer to refresh their member page.')",
            },
            {
                content: "close the message",
                trigger: ".modal:has(.modal-body:contains('has expired')) .modal-footer .btn-primary",
                run: "click",
            },
            // 2. The fresh code: the customer is bound, no confirmation needed.
            searchCustomer(fresh),
            ProductScreen.customerIsSelected("Wang Fang"),
            payCashAndCheckReceipt("WM90000002", { purchases: 1, followQr: true }),
        ].flat();
    },
});
