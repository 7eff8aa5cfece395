import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { PaymentScreen } from "@point_of_sale/app/screens/payment_screen/payment_screen";

/**
 * Spending the customer's own points (a loyalty or eWallet card, loaded
 * because the customer is set) needs the customer identified: by their
 * dynamic member code, or by the cashier confirming them (masked name and
 * the last 4 phone digits), as when binding a member code or a phone. The
 * server refuses the order otherwise.
 */
patch(PaymentScreen.prototype, {
    async validateOrder(isForceValidate) {
        if (!(await this.wechatConfirmSpending())) {
            return;
        }
        return super.validateOrder(...arguments);
    },

    /** Whether the order's reward lines spend the points of a customer's own card. */
    wechatSpendsOwnPoints(order) {
        return order
            ._get_reward_lines()
            .some(
                (line) =>
                    line.points_cost > 0 &&
                    line.coupon_id?.id > 0 &&
                    line.coupon_id.partner_id &&
                    line.coupon_id.program_id?.is_nominative
            );
    },

    /** The receipt's points balance (this order's points included) is fixed before the cards are updated. */
    async _postPushOrderResolve(order) {
        order.uiState.wechatPointsBalance = order.wechatPointsBalance();
        return super._postPushOrderResolve(...arguments);
    },

    async wechatConfirmSpending() {
        const order = this.currentOrder;
        const partner = order.get_partner();
        if (!partner || order.wechat_bind_method || !this.wechatSpendsOwnPoints(order)) {
            return true;
        }
        const confirmed = await this.pos.wechatAskCustomer(
            partner,
            _t("Confirm the customer before spending points"),
            (name, last4) =>
                _t(
                    "The order spends the points of %s, phone ending in %s. Ask the customer to confirm: is this the customer?",
                    name,
                    last4
                )
        );
        if (confirmed) {
            order.update({ wechat_bind_method: "customer_confirmed" });
        }
        return confirmed;
    },
});
