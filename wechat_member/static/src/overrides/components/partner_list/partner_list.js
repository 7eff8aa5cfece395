import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { AlertDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { PartnerList } from "@point_of_sale/app/screens/partner_list/partner_list";
import { makeAwaitable } from "@point_of_sale/app/store/make_awaitable_dialog";
import { TextInputPopup } from "@point_of_sale/app/utils/input_popups/text_input_popup";

/**
 * Cashier binding: Enter (or "Search more") on a dynamic member code, a
 * member code or a phone number finds the member, also when not loaded in
 * the POS yet, and selects them. A dynamic code (member page, changes every
 * minute) is proof; a member code or a phone needs the cashier to confirm the
 * customer. "New member" creates one from the customer's phone, and never
 * adopts an existing contact without the customer's dynamic code.
 */
patch(PartnerList.prototype, {
    async onEnter() {
        const query = (this.state.query || "").trim();
        const kind = this.pos.wechatQueryKind(query);
        if (kind) {
            let found;
            try {
                found = await this.pos.wechatLookup(query);
            } catch {
                found = null; // offline: search the loaded customers only
            }
            if (found?.error) {
                this.pos.wechatShowError(found.error);
                return;
            }
            const partners = found?.partners;
            if (partners?.length === 1) {
                await this.wechatSelect(partners[0], found.method, found.token);
                return;
            }
            if (partners?.length > 1) {
                this.notification.add(
                    _t('%s customers found for "%s": choose one.', partners.length, query),
                    { type: "info" }
                );
                return;
            }
            if (found && kind === "phone") {
                this.notification.add(
                    _t('No customer with the phone "%s": press "New Member" to create one.', query),
                    { type: "warning" }
                );
                return;
            }
            if (found && kind === "dynamic") {
                this.pos.wechatShowError(
                    _t("This member code is not valid: ask the customer to show their member page again.")
                );
                return;
            }
        }
        return super.onEnter(...arguments);
    },

    async wechatSelect(partner, method, token) {
        if (await this.pos.wechatConfirmCustomer(partner, method, token)) {
            this.clickPartner(partner);
        }
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
        let result;
        try {
            result = await this.pos.wechatCreateMember(phone);
            if (result.existing) {
                result = await this.wechatBindExisting(phone, result.existing);
            }
        } catch (error) {
            if (error?.data?.message) {
                this.dialog.add(AlertDialog, { title: _t("New Member"), body: error.data.message });
                return;
            }
            throw error;
        }
        if (result?.error) {
            this.pos.wechatShowError(result.error);
            return;
        }
        const partner = result?.partners?.[0];
        if (partner) {
            this.notification.add(
                _t("Member %s: %s", partner.wechat_member_code || "", partner.name),
                { type: "success" }
            );
            // Created now from the customer's phone, or proven by their dynamic code: nothing to confirm.
            await this.pos.wechatConfirmCustomer(partner, result.method, result.token, { confirm: false });
            this.clickPartner(partner);
        }
    },

    /**
     * A contact with this phone exists: the cashier sees its masked name and
     * the last 4 phone digits; binding it needs the customer's dynamic member
     * code (from their member page in WeChat).
     */
    async wechatBindExisting(phone, existing) {
        const code = await makeAwaitable(this.dialog, TextInputPopup, {
            title: _t(
                "A customer with this phone exists: %s, phone ending in %s. Scan or type the dynamic code of the customer's member page to bind them.",
                existing.name,
                existing.phone_last4 || "-"
            ),
            placeholder: _t("Dynamic member code (WD…)"),
        });
        if (!(code || "").trim()) {
            return null;
        }
        return this.pos.wechatBindPhone(phone, code);
    },
});
