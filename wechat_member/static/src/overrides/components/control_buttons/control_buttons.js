import { patch } from "@web/core/utils/patch";
import { ControlButtons } from "@point_of_sale/app/screens/product_screen/control_buttons/control_buttons";
import { WeChatBookingsDialog } from "@wechat_member/app/bookings/bookings_dialog";

patch(ControlButtons.prototype, {
    /** The store has a WeChat account: members may have booked in it (a related record the POS does not load). */
    get wechatTakesBookings() {
        return Boolean(this.pos.config.raw?.wechat_account_id);
    },
    clickWeChatBookings() {
        this.dialog.add(WeChatBookingsDialog, {});
    },
});
