import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { AlertDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { PartnerList } from "@point_of_sale/app/screens/partner_list/partner_list";
import { makeAwaitable } from "@point_of_sale/app/store/make_awaitable_dialog";
import { TextInputPopup } from "@point_of_sale/app/utils/input_popups/text_input_popup";

/**
 * Cashier binding: Enter (or "Search more") on a member code or a phone
 * number finds the member, also when not loaded in the POS yet, and selects
 * them; "New member" creates one from the customer's phone.
 */
patch(PartnerList.prototype, {
    async onEnter() {
        const query = (this.state.query || "").trim();
        if (this.pos.wechatQueryKind(query)) {
            let partners;
            try {
                partners = await this.pos.wechatFindMember(query);
            } catch {
                partners = null; // offline: search the loaded customers only
            }
            if (partners?.length === 1) {
                this.clickPartner(partners[0]);
                return;
            }
            if (partners?.length > 1) {
                this.notification.add(
                    _t('%s customers found for "%s": choose one.', partners.length, query),
                    { type: "info" }
                );
                return;
            }
            if (partners && this.pos.wechatQueryKind(query) === "phone") {
                this.notification.add(
                    _t('No customer with the phone "%s": press "New Member" to create one.', query),
                    { type: "warning" }
                );
                return;
            }
        }
        return super.onEnter(...arguments);
    },

    async wechatNewMember() {
        let phone = (this.state.query || "").trim();
        if (this.pos.wechatQueryKind(phone) !== "phone") {
            phone = await makeAwaitable(this.dialog, TextInputPopup, {
                title: _t("New member: the customer's mobile phone"),
                placeholder: _t("e.g. 13800138000"),
            });
            phone = (phone || "").trim();
            if (!phone) {
                return;
            }
        }
        if (this.pos.wechatQueryKind(phone) !== "phone") {
            this.dialog.add(AlertDialog, {
                title: _t("New Member"),
                body: _t("Enter the customer's mobile phone number (digits only) to create a member."),
            });
            return;
        }
        let partner;
        try {
            partner = await this.pos.wechatCreateMember(phone);
        } catch (error) {
            if (error?.data?.message) {
                this.dialog.add(AlertDialog, { title: _t("New Member"), body: error.data.message });
                return;
            }
            throw error;
        }
        if (partner) {
            this.notification.add(
                _t("Member %s: %s", partner.wechat_member_code || "", partner.name),
                { type: "success" }
            );
            this.clickPartner(partner);
        }
    },
});
