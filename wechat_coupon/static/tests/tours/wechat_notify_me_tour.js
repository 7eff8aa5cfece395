/** @odoo-module **/

import { registry } from "@web/core/registry";

// The member asks to be notified before a coupon expires (wx-open-subscribe on the member page).
registry.category("web_tour.tours").add("wechat_notify_me_tour", {
    steps: () => [
        {
            content: "The coupon-expiry notice is offered, with no opt-in yet",
            trigger: "#wm-notify-coupon_expiring .wm-notify-left:contains('0')",
        },
        {
            content: "Tap Notify me once the page is signed (wx.config accepted)",
            trigger: "#wm-notify.wm-wx-ready #wm-notify-coupon_expiring wx-open-subscribe button",
            run: "click",
        },
        {
            content: "The member is told they will be notified",
            trigger: "#wm-notify-coupon_expiring .wm-notify-ok:visible",
        },
    ],
});
