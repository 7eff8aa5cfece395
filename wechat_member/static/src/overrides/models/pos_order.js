import { patch } from "@web/core/utils/patch";
import { PosOrder } from "@point_of_sale/app/models/pos_order";
import { wechatMemberInfo } from "@wechat_member/app/wechat_member_info";

patch(PosOrder.prototype, {
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
});
