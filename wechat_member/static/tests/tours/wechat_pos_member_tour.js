import { registry } from "@web/core/registry";
import * as ProductScreen from "@point_of_sale/../tests/tours/utils/product_screen_util";
import { scan_barcode } from "@point_of_sale/../tests/tours/utils/common";
import {
    confirmCustomer,
    openRegister,
    payCashAndCheckReceipt,
    searchCustomer,
} from "@wechat_member/../tests/tours/utils/wechat_member_util";

// Customers created by test_pos_member.py; none is loaded when the POS starts.

registry.category("web_tour.tours").add("WeChatPosMemberPhoneTour", {
    steps: () =>
        [
            openRegister(),
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
            openRegister(),
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
            openRegister(),
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
