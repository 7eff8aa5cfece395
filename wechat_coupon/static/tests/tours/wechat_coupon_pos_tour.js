import * as PosLoyalty from "@pos_loyalty/../tests/tours/utils/pos_loyalty_util";
import * as ProductScreen from "@point_of_sale/../tests/tours/utils/product_screen_util";
import * as Dialog from "@point_of_sale/../tests/tours/utils/dialog_util";
import * as Notification from "@point_of_sale/../tests/tours/utils/generic_components/notification_util";
import * as PaymentScreen from "@point_of_sale/../tests/tours/utils/payment_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/tours/utils/receipt_screen_util";
import { registry } from "@web/core/registry";
import { openRegister } from "@wechat_member/../tests/tours/utils/wechat_member_util";
import { receiptPointsBalanceIs } from "@wechat_coupon/../tests/tours/utils/wechat_coupon_util";

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

/** Before the order is validated, the member info (as on the customer display) already counts its points. */
function pendingPointsBalanceIs(balance) {
    return [
        {
            content: `before validating, the member info counts this order's points: ${balance}`,
            trigger: ".payment-screen",
            run() {
                const points = window.posmodel.get_order().getCustomerDisplayData().wechatMember?.points;
                if (points !== balance) {
                    throw new Error(`the member info shows ${points} points, not ${balance}`);
                }
            },
        },
    ];
}

/** The receipt's header shows the company: name, address and phone. */
function receiptHeaderShows(...texts) {
    return texts.map((text) => ({
        content: `the receipt header shows "${text}"`,
        trigger: `.pos-receipt .pos-receipt-contact:contains('${text}')`,
    }));
}

// Lily has 250 points; each order earns 10 points (one rule per order). The receipt shows her balance after
// the order: 260 after an order that earns, then 170 after one that earns 10 and spends 100. Mia has no points
// card yet: her first order opens it with 10.
registry.category("web_tour.tours").add("WeChatReceiptPointsTour", {
    steps: () =>
        [
            openRegister(),
            ProductScreen.clickPartnerButton(),
            ProductScreen.clickCustomer("Lily Spender"),
            ProductScreen.addOrderline("Desk Organizer", "1"),
            ProductScreen.clickPayButton(),
            pendingPointsBalanceIs(260),
            PaymentScreen.clickPaymentMethod("Cash"),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
            receiptHeaderShows("Lotus Shop", "1 Lotus Road", "Tel:+86 21 5555 0100"),
            receiptPointsBalanceIs("260"),
            ReceiptScreen.clickNextOrder(),

            ProductScreen.clickPartnerButton(),
            ProductScreen.clickCustomer("Lily Spender"),
            ProductScreen.addOrderline("Desk Organizer", "3"),
            PosLoyalty.claimReward("on your order"),
            ProductScreen.clickPayButton(),
            pendingPointsBalanceIs(170),
            PaymentScreen.clickPaymentMethod("Cash"),
            PaymentScreen.clickValidate(),
            Dialog.confirm("Yes, it is the customer"),
            ReceiptScreen.isShown(),
            receiptPointsBalanceIs("170"),
            ReceiptScreen.clickNextOrder(),

            ProductScreen.clickPartnerButton(),
            ProductScreen.clickCustomer("Mia Newcomer"),
            ProductScreen.addOrderline("Desk Organizer", "1"),
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod("Cash"),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
            receiptPointsBalanceIs("10"),
            ReceiptScreen.clickNextOrder(),
        ].flat(),
});
