import * as PosLoyalty from "@pos_loyalty/../tests/tours/utils/pos_loyalty_util";
import * as ProductScreen from "@point_of_sale/../tests/tours/utils/product_screen_util";
import * as Dialog from "@point_of_sale/../tests/tours/utils/dialog_util";
import * as Notification from "@point_of_sale/../tests/tours/utils/generic_components/notification_util";
import * as PaymentScreen from "@point_of_sale/../tests/tours/utils/payment_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/tours/utils/receipt_screen_util";
import { registry } from "@web/core/registry";
import { openRegister } from "@wechat_member/../tests/tours/utils/wechat_member_util";

registry.category("web_tour.tours").add("WeChatCouponPosTour", {
    steps: () =>
        [
            openRegister(),

            // The member shows the coupon of the wallet: no customer needed, 10% off.
            ProductScreen.addOrderline("Desk Organizer", "2"),
            PosLoyalty.orderTotalIs("10.20"),
            PosLoyalty.enterCode("044WECHATPOS1"),
            PosLoyalty.orderTotalIs("9.18"),
            PosLoyalty.finalizeOrder("Cash", "10"),

            // Second use of the same coupon: refused.
            ProductScreen.addOrderline("Desk Organizer", "1"),
            PosLoyalty.enterCode("044WECHATPOS1"),
            Notification.has("already been used"),
            PosLoyalty.orderTotalIs("5.10"),
        ].flat(),
});

// The cashier picks the customer from the list (no member code, no phone confirmed) and spends their points:
// the POS asks to confirm the customer first; "No" keeps the order on the payment screen.
registry.category("web_tour.tours").add("WeChatSpendPointsTour", {
    steps: () =>
        [
            openRegister(),
            ProductScreen.clickPartnerButton(),
            ProductScreen.clickCustomer("Lily Spender"),
            ProductScreen.addOrderline("Desk Organizer", "3"),
            PosLoyalty.claimReward("on your order"),
            PosLoyalty.orderTotalIs("5.30"),
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod("Cash"),
            PaymentScreen.clickValidate(),
            Dialog.is({ title: "Confirm the customer before spending points" }),
            Dialog.bodyIs("phone ending in 8000"),
            Dialog.confirm("No", ".btn-secondary"),
            PaymentScreen.isShown(),
            PaymentScreen.clickValidate(),
            Dialog.confirm("Yes, it is the customer"),
            ReceiptScreen.isShown(),
        ].flat(),
});
