import * as PaymentScreen from "@point_of_sale/../tests/tours/utils/payment_screen_util";
import * as ProductScreen from "@point_of_sale/../tests/tours/utils/product_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/tours/utils/receipt_screen_util";
import * as TicketScreen from "@point_of_sale/../tests/tours/utils/ticket_screen_util";
import * as Order from "@point_of_sale/../tests/tours/utils/generic_components/order_widget_util";
import { inLeftSide } from "@point_of_sale/../tests/tours/utils/common";
import { registry } from "@web/core/registry";
import { openRegister } from "@wechat_member/../tests/tours/utils/wechat_member_util";
import { receiptPointsBalanceIs } from "@wechat_coupon/../tests/tours/utils/wechat_coupon_util";

/** The receipt's stamp card after the order (wechat_coupon's stamp block), e.g. ``1/10``. */
function receiptStampsAre(count) {
    return [
        {
            content: `the receipt shows the stamps after the order: ${count}`,
            trigger: `.pos-receipt .o_wechat_stamp_receipt_count:contains('${count}')`,
        },
    ];
}

registry.category("web_tour.tours").add("WeChatRefundPointsTour", {
    steps: () =>
        [
            openRegister(),
            // Two scarves: 200 points (250 + 200) and 2 stamps (shown apart, as stamps).
            ProductScreen.clickPartnerButton(),
            ProductScreen.clickCustomer("Lily Refund"),
            ProductScreen.addOrderline("Lotus Scarf", "2"),
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod("Cash"),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
            receiptPointsBalanceIs("450"),
            receiptStampsAre("2/10"),
            ReceiptScreen.clickNextOrder(),

            // One scarf refunded: the server takes back 100 points and a stamp; the receipt shows 350 points and 1 stamp.
            ProductScreen.clickRefund(),
            TicketScreen.selectOrder("-0001"),
            inLeftSide(Order.hasLine({ productName: "Lotus Scarf", withClass: ".selected" })),
            ProductScreen.clickNumpad("1"),
            TicketScreen.confirmRefund(),
            ProductScreen.isShown(),
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod("Cash"),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
            receiptPointsBalanceIs("350"),
            receiptStampsAre("1/10"),
            ReceiptScreen.clickNextOrder(),
        ].flat(),
});
