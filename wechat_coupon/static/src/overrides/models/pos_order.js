import { patch } from "@web/core/utils/patch";
import { PosOrder } from "@point_of_sale/app/models/pos_order";
import { wechatLoyaltyPoints } from "@wechat_member/app/wechat_member_info";

patch(PosOrder.prototype, {
    /**
     * The customer's points balance after this order: their points cards plus the points the order
     * earns minus those it spends on them (pos_loyalty's `getLoyaltyPoints`, computed in the POS). Once
     * the order is synced, the balance fixed just before pos_loyalty updates the cards from the server
     * (see the payment screen): the cards then already hold the order's points, or, for a card the
     * order opened, are replaced. The sync sends back the customer's cards as the server has them (a
     * refund's points taken back, the points the server credited to a WeChat Pay payer it bound as the
     * customer included); for such a payer, the server's cards are the balance (the POS computed nothing).
     */
    wechatPointsBalance() {
        if (this.uiState.wechatPointsBalance !== undefined) {
            return this.uiState.wechatPointsBalance;
        }
        const partner = this.get_partner();
        if (partner && this.wechat_bind_method === "payer") {
            return wechatLoyaltyPoints(this.models, partner);
        }
        const stats = partner ? this.getLoyaltyPoints().filter((stat) => stat.program.program_type === "loyalty" && !stat.program.wechat_stamp_card) : [];
        if (!stats.length) {
            return super.wechatPointsBalance(...arguments);
        }
        const pending = stats.reduce((sum, stat) => sum + stat.points.won - stat.points.spent, 0);
        return wechatLoyaltyPoints(this.models, partner, pending);
    },
});
