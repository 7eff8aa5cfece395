import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { AlertDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { PosStore } from "@point_of_sale/app/store/pos_store";
import { ask } from "@point_of_sale/app/store/make_awaitable_dialog";
import {
    DYNAMIC_CODE_RE,
    MEMBER_CODE_RE,
    compactCode,
    phoneDigits,
    wechatMasked,
} from "@wechat_member/overrides/models/res_partner";
import { wechatPendingBind } from "@wechat_member/overrides/models/pos_order";

const PHONE_RE = /^\+?[\d\s\-()]{5,20}$/;

patch(PosStore.prototype, {
    /** "dynamic", "code", "phone" or null: what the cashier typed or scanned. */
    wechatQueryKind(query) {
        const value = (query || "").trim();
        if (DYNAMIC_CODE_RE.test(compactCode(value))) {
            return "dynamic";
        }
        if (MEMBER_CODE_RE.test(value.toUpperCase())) {
            return "code";
        }
        if (PHONE_RE.test(value) && phoneDigits(value).length >= 5) {
            return "phone";
        }
        return null;
    },

    /**
     * What the server says of `query`: `{partners, method, token, error}`.
     * A dynamic member code is always checked by the server (signed, it
     * expires); a member code or a phone is first looked up among the loaded
     * customers, else asked to the server (restricted to the POS company).
     */
    async wechatLookup(query) {
        const value = (query || "").trim();
        const kind = this.wechatQueryKind(value);
        if (!kind) {
            return { partners: [] };
        }
        const method = kind === "code" ? "static_code_confirmed" : "phone_confirmed";
        if (kind !== "dynamic") {
            const partners = this.models["res.partner"].getAll();
            const local =
                kind === "code"
                    ? partners.filter((p) => p.wechat_member_code === value.toUpperCase())
                    : partners.filter((p) => p.exactMatch(value));
            if (local.length) {
                return { partners: local, method };
            }
        }
        const data = await this.data.call("res.partner", "wechat_pos_find_member", [
            this.config.id,
            kind === "dynamic" ? compactCode(value) : value,
        ]);
        return this.wechatResult(data);
    },

    wechatResult(data) {
        const partners = data?.["res.partner"]?.length
            ? this.models.loadData({ "res.partner": data["res.partner"] })["res.partner"] || []
            : [];
        return {
            partners,
            method: data?.wechat_bind_method || false,
            token: data?.wechat_bind_token || false,
            error: data?.wechat_error || false,
            existing: data?.wechat_existing || false,
        };
    },

    /** The contacts whose member code or phone is `query` (dynamic codes: see wechatLookup). */
    async wechatFindMember(query) {
        return (await this.wechatLookup(query)).partners;
    },

    /**
     * Whether `partner` may become the order's customer, found with `method`:
     * a dynamic code is proof; a member code or a phone needs the cashier to
     * confirm the customer (masked name and last 4 phone digits). The
     * confirmed method is recorded on the order when the partner is set.
     */
    async wechatConfirmCustomer(partner, method, token = false, { confirm = true } = {}) {
        if (confirm && (method === "static_code_confirmed" || method === "phone_confirmed")) {
            const confirmed = await this.wechatAskCustomer(partner, _t("Confirm the customer"), (name, last4) =>
                _t("Ask the customer to confirm: %s, phone ending in %s. Is this the customer?", name, last4)
            );
            if (!confirmed) {
                return false;
            }
        }
        wechatPendingBind.value = method ? { partnerId: partner.id, method, token } : null;
        return true;
    },

    /**
     * Ask the cashier to have the customer confirm who they are: `body(name, last4)` says it with the
     * masked name ("王*") and the last 4 phone digits. Resolves to whether they confirmed.
     */
    wechatAskCustomer(partner, title, body) {
        const masked = wechatMasked(partner);
        return ask(this.dialog, {
            title,
            body: body(masked.name, masked.phoneLast4 || "-"),
            confirmLabel: _t("Yes, it is the customer"),
            cancelLabel: _t("No"),
        });
    },

    wechatShowError(message) {
        this.dialog.add(AlertDialog, { title: _t("Member code"), body: message });
    },

    /** "New member from phone": `{partners, existing}`; an existing contact is never adopted silently. */
    async wechatCreateMember(phone) {
        const data = await this.data.call("res.partner", "wechat_pos_create_member", [
            this.config.id,
            (phone || "").trim(),
        ]);
        return this.wechatResult(data);
    },

    /** Bind the existing contact of `phone`, proven by the customer's dynamic member code. */
    async wechatBindPhone(phone, code) {
        const data = await this.data.call("res.partner", "wechat_pos_bind_phone", [
            this.config.id,
            (phone || "").trim(),
            compactCode(code),
        ]);
        return this.wechatResult(data);
    },
});
