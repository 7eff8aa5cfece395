import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { ProductScreen } from "@point_of_sale/app/screens/product_screen/product_screen";

/**
 * The QR code of the member page encodes the dynamic member code (it changes
 * every minute); the static member code still works for manual lookup.
 * Scanned at the till (barcode rules "WeChat (Dynamic) Member Codes", type
 * client), it selects the member as the customer, loading them from the
 * server when needed; a static code needs the cashier's confirmation.
 */
patch(ProductScreen.prototype, {
    async _barcodePartnerAction(code) {
        const value = (code.code || "").trim();
        const kind = this.pos.wechatQueryKind(value);
        if (kind !== "code" && kind !== "dynamic") {
            return super._barcodePartnerAction(...arguments);
        }
        let found;
        try {
            found = await this.pos.wechatLookup(value);
        } catch {
            this.notification.add(
                _t("Odoo could not be reached: the member %s cannot be found offline.", value),
                { type: "warning" }
            );
            return;
        }
        if (found.error) {
            this.pos.wechatShowError(found.error);
            return;
        }
        const partner = found.partners[0];
        if (!partner) {
            this.barcodeReader.showNotFoundNotification(code);
            return;
        }
        if (!(await this.pos.wechatConfirmCustomer(partner, found.method, found.token))) {
            return;
        }
        this.currentOrder.set_partner(partner);
        this.notification.add(_t("Member %s: %s", partner.wechat_member_code, partner.name), {
            type: "success",
        });
    },
});
