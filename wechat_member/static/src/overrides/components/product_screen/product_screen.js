import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { ProductScreen } from "@point_of_sale/app/screens/product_screen/product_screen";
import { MEMBER_CODE_RE } from "@wechat_member/overrides/models/res_partner";

/**
 * The member QR code of the member page encodes the member code: scanned at
 * the till (barcode rule "WeChat Member Codes", type client), it selects the
 * member as the customer, loading them from the server when needed.
 */
patch(ProductScreen.prototype, {
    async _barcodePartnerAction(code) {
        const value = (code.code || "").trim().toUpperCase();
        if (!MEMBER_CODE_RE.test(value)) {
            return super._barcodePartnerAction(...arguments);
        }
        let partners;
        try {
            partners = await this.pos.wechatFindMember(value);
        } catch {
            this.notification.add(
                _t("Odoo could not be reached: the member %s cannot be found offline.", value),
                { type: "warning" }
            );
            return;
        }
        const partner = partners[0];
        if (!partner) {
            this.barcodeReader.showNotFoundNotification(code);
            return;
        }
        if (this.currentOrder.get_partner() !== partner) {
            this.currentOrder.set_partner(partner);
        }
        this.notification.add(_t("Member %s: %s", partner.wechat_member_code, partner.name), {
            type: "success",
        });
    },
});
