import { patch } from "@web/core/utils/patch";
import { PosOrder } from "@point_of_sale/app/models/pos_order";
import { wechatLoyaltyPoints, wechatMemberInfo } from "@wechat_member/app/wechat_member_info";

/**
 * How the next customer set on an order was identified (dynamic code,
 * confirmed member code or phone) with the server's signed proof: set by the
 * lookups just before the customer is chosen, used once by `set_partner`.
 */
export const wechatPendingBind = { value: null };

patch(PosOrder.prototype, {
    set_partner(partner) {
        super.set_partner(...arguments);
        const pending = wechatPendingBind.value;
        wechatPendingBind.value = null;
        const bound = partner && pending && pending.partnerId === partner.id;
        this.update({ wechat_bind_method: bound ? pending.method : false });
        this.uiState.wechatBindToken = (bound && pending.token) || false;
    },

    serialize(options = {}) {
        const result = super.serialize(...arguments);
        if (options.orm && this.uiState?.wechatBindToken) {
            result.wechat_bind_token = this.uiState.wechatBindToken;
        }
        return result;
    },

    export_for_printing() {
        const result = super.export_for_printing(...arguments);
        result.wechatMember = this.wechatMemberInfo();
        return result;
    },

    getCustomerDisplayData() {
        return {
            ...super.getCustomerDisplayData(...arguments),
            wechatMember: this.wechatMemberInfo(),
        };
    },

    wechatMemberInfo() {
        return wechatMemberInfo(this.models, this.get_partner(), this);
    },

    /** The customer's points balance after this order (null without points cards); see wechat_coupon. */
    wechatPointsBalance() {
        return wechatLoyaltyPoints(this.models, this.get_partner());
    },
});
