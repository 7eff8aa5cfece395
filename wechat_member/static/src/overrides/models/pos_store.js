import { patch } from "@web/core/utils/patch";
import { PosStore } from "@point_of_sale/app/store/pos_store";
import { MEMBER_CODE_RE, phoneDigits } from "@wechat_member/overrides/models/res_partner";

const PHONE_RE = /^\+?[\d\s\-()]{5,20}$/;

patch(PosStore.prototype, {
    /** "code", "phone" or null: what the cashier typed or scanned. */
    wechatQueryKind(query) {
        const value = (query || "").trim();
        if (MEMBER_CODE_RE.test(value.toUpperCase())) {
            return "code";
        }
        if (PHONE_RE.test(value) && phoneDigits(value).length >= 5) {
            return "phone";
        }
        return null;
    },

    /**
     * The contacts whose member code or phone is `query`: the loaded ones,
     * else asked to the server (restricted to the POS company) and loaded.
     */
    async wechatFindMember(query) {
        const value = (query || "").trim();
        const kind = this.wechatQueryKind(value);
        if (!kind) {
            return [];
        }
        const partners = this.models["res.partner"].getAll();
        const local =
            kind === "code"
                ? partners.filter((p) => p.wechat_member_code === value.toUpperCase())
                : partners.filter((p) => p.exactMatch(value));
        if (local.length) {
            return local;
        }
        const data = await this.data.call("res.partner", "wechat_pos_find_member", [
            this.config.id,
            value,
        ]);
        if (!data?.["res.partner"]?.length) {
            return [];
        }
        return this.models.loadData(data)["res.partner"] || [];
    },

    /** "New member from phone": the contact with this phone and a member code, loaded. */
    async wechatCreateMember(phone) {
        const data = await this.data.call("res.partner", "wechat_pos_create_member", [
            this.config.id,
            (phone || "").trim(),
        ]);
        return (this.models.loadData(data)["res.partner"] || [])[0];
    },
});
