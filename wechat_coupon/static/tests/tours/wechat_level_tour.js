import * as ProductScreen from "@point_of_sale/../tests/tours/utils/product_screen_util";
import * as PaymentScreen from "@point_of_sale/../tests/tours/utils/payment_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/tours/utils/receipt_screen_util";
import { registry } from "@web/core/registry";
import { openRegister } from "@wechat_member/../tests/tours/utils/wechat_member_util";

// Lily is 普通会员 (entry level); 金卡 starts at 10.00 of spend. One sale of 15.30 crosses it: the partner list
// showed her level before, the receipt shows 金卡 after the order.
registry.category("web_tour.tours").add("WeChatLevelUpgradeTour", {
    steps: () =>
        [
            openRegister(),
            ProductScreen.clickPartnerButton(),
            {
                content: "the partner list shows Lily's level",
                trigger: ".partner-line:contains('Lily Level') .o_wechat_partner_level:contains('普通会员')",
            },
            ProductScreen.clickCustomer("Lily Level"),
            ProductScreen.addOrderline("Desk Organizer", "3"),
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod("Cash"),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
            {
                content: "log the receipt (to read a failure)",
                trigger: ".pos-receipt .o_wechat_member_receipt",
                run() {
                    console.info(document.querySelector(".pos-receipt").innerText.replace(/\s+/g, " "));
                },
            },
            {
                content: "the receipt shows the new level: 金卡",
                trigger: ".pos-receipt .o_wechat_member_level span:contains('金卡')",
            },
        ].flat(),
});
