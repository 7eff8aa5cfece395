import * as PosLoyalty from "@pos_loyalty/../tests/tours/utils/pos_loyalty_util";
import * as ProductScreen from "@point_of_sale/../tests/tours/utils/product_screen_util";
import * as Dialog from "@point_of_sale/../tests/tours/utils/dialog_util";
import * as PaymentScreen from "@point_of_sale/../tests/tours/utils/payment_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/tours/utils/receipt_screen_util";
import { registry } from "@web/core/registry";
import { openRegister } from "@wechat_member/../tests/tours/utils/wechat_member_util";

/** The order's stamp card block: ``filled`` of ``total`` stamps after the order, ``added`` by it. */
function posStampsAre(filled, added, total) {
    return [
        {
            content: `the POS shows the stamp card: ${filled}/${total}, ${added} added by this order`,
            trigger: `.o_wechat_stamp_card[data-after='${filled}'][data-total='${total}']`,
            run() {
                const card = document.querySelector(".o_wechat_stamp_card");
                const count = (cls) => card.querySelectorAll(`.o_wechat_stamp_${cls}`).length;
                const shown = [count("filled") + count("added"), count("added"), count("empty")];
                const expected = [Math.min(filled, total), added, total - Math.min(filled, total)];
                if (shown.join() !== expected.join()) {
                    throw new Error(`stamps shown ${shown}, expected ${expected}`);
                }
            },
        },
    ];
}

function receiptStampsAre(text, count) {
    return [
        {
            content: `the receipt shows the stamps after the order: ${text} ${count}`,
            trigger: `.pos-receipt .o_wechat_stamp_receipt_count:contains('${count}')`,
            run() {
                const shown = document.querySelector(".pos-receipt .o_wechat_stamp_text").textContent.trim();
                if (shown !== text) {
                    throw new Error(`the receipt shows ${shown}, not ${text}`);
                }
            },
        },
    ];
}

// Lily has 1 stamp of 3; a stamp a visit; a full card gives a Desk Organizer.
registry.category("web_tour.tours").add("WeChatStampCardTour", {
    steps: () =>
        [
            openRegister(),
            ProductScreen.clickPartnerButton(),
            ProductScreen.clickCustomer("Lily Stamps"),
            ProductScreen.addOrderline("Desk Organizer", "1"),
            posStampsAre(2, 1, 3),
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod("Cash"),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
            receiptStampsAre("●●○", "2/3"),
            ReceiptScreen.clickNextOrder(),

            ProductScreen.clickPartnerButton(),
            ProductScreen.clickCustomer("Lily Stamps"),
            ProductScreen.addOrderline("Desk Organizer", "1"),
            posStampsAre(3, 1, 3),
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod("Cash"),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
            receiptStampsAre("●●●", "3/3"),
            ReceiptScreen.clickNextOrder(),

            // The full card: the gift through pos_loyalty's reward button.
            ProductScreen.clickPartnerButton(),
            ProductScreen.clickCustomer("Lily Stamps"),
            ProductScreen.addOrderline("Desk Organizer", "2"),
            PosLoyalty.claimReward("Desk Organizer"),
            PosLoyalty.hasRewardLine("Free Product - Desk Organizer", "-5.10"),
            posStampsAre(1, 1, 3),
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod("Cash"),
            PaymentScreen.clickValidate(),
            Dialog.confirm("Yes, it is the customer"),
            ReceiptScreen.isShown(),
            receiptStampsAre("●○○", "1/3"),
            ReceiptScreen.clickNextOrder(),
        ].flat(),
});
