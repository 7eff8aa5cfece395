/** @odoo-module **/

import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("wechat_member_page_tour", {
    steps: () => [
        {
            content: "The member code is shown under its QR code",
            trigger: "#wm-member-card img[alt='QR']",
        },
        {
            content: "The code itself is readable for the cashier",
            trigger: "#wm-member-code:contains('WM')",
        },
        {
            content: "Fill in the city",
            trigger: "#wm-city",
            run: "edit Suzhou",
        },
        {
            content: "Agree to keep the details",
            trigger: "input[name='consent']",
            run: "click",
        },
        {
            content: "Save",
            trigger: "#wm-profile button[type='submit']",
            run: "click",
        },
        {
            content: "Saved message",
            trigger: "#wm-saved",
        },
    ],
});
