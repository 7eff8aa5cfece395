import { registry } from "@web/core/registry";
import * as Chrome from "@point_of_sale/../tests/tours/utils/chrome_util";
import * as ProductScreen from "@point_of_sale/../tests/tours/utils/product_screen_util";
import { openRegister } from "@wechat_member/../tests/tours/utils/wechat_member_util";

/** The member books a mooncake box in WeChat (phone-sized page) and pays it with the fake's chooseWXPay. */
registry.category("web_tour.tours").add("wechat_booking_tour", {
    steps: () => [
        {
            content: "the booking page offers the mooncake box",
            trigger: ".wm-bookable a:contains('Mooncake Box')",
            run: "click",
        },
        {
            content: "the member picks the first day with places left",
            trigger: "#wm-book-form input[name='slot']:not([disabled])",
            run: "click",
        },
        { content: "book it", trigger: "#wm-book-submit", run: "click" },
        { content: "the booking waits for its payment", trigger: "#wm-booking[data-state='pending']" },
        { content: "WeChat's JS-SDK is configured", trigger: "#wm-jssdk.wm-wx-ready:not(:visible)" },
        { content: "pay with WeChat Pay", trigger: "#wm-pay", run: "click" },
        {
            content: "WeChat's notification confirmed it: the booking QR to show at the till",
            trigger: "#wm-booking[data-state='confirmed'] ~ #wm-booking-qr img",
        },
    ],
});

/** The cashier finds the booking by scanning its QR into the bookings dialog and hands it over. */
registry.category("web_tour.tours").add("WeChatBookingCollectTour", {
    steps: () =>
        [
            openRegister(),
            ProductScreen.clickControlButton("WeChat Bookings"),
            {
                content: "the paid booking is listed",
                trigger: ".modal .wm-booking",
            },
            {
                content: "the booking QR on the member's phone is scanned into the search",
                trigger: ".modal .wm-bookings-search",
                run: "edit WBTOURSCANNED001",
            },
            { content: "search", trigger: ".modal .wm-bookings-find", run: "click" },
            { content: "found", trigger: ".modal .wm-booking .wm-booking-ready" },
            { content: "the store has it ready", trigger: ".modal .wm-booking-ready", run: "click" },
            {
                content: "the member was told: ready for pick-up",
                trigger: ".modal .wm-booking:contains('Ready for pick-up')",
            },
            { content: "hand it over", trigger: ".modal .wm-booking-collect", run: "click" },
            { content: "nothing left to collect", trigger: ".modal .wm-bookings-none" },
            Chrome.endTour(),
        ].flat(),
});
