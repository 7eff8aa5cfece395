import { patch } from "@web/core/utils/patch";
import { ResPartner } from "@point_of_sale/app/models/res_partner";

export const MEMBER_CODE_RE = /^WM\d{4,}$/;
/** The dynamic member code of the member page: WD + 8 signed digits + 4 time-slot digits + member id. */
export const DYNAMIC_CODE_RE = /^WD\d{13,24}$/;

/** Digits of a phone number, for comparisons ("138 0013-8000" = "13800138000"). */
export function phoneDigits(phone) {
    return (phone || "").replace(/[^\d]/g, "");
}

/** A code as typed from the member page ("WD 1234 5678 …"): no spaces, upper case. */
export function compactCode(code) {
    return (code || "").replace(/\s+/g, "").toUpperCase();
}

/** What the cashier sees before the customer confirms: "王*" and the last 4 phone digits. */
export function wechatMasked(partner) {
    const name = (partner?.name || "").trim();
    return {
        name: name ? `${name[0]}*` : "*",
        phoneLast4: phoneDigits(partner?.phone || partner?.mobile).slice(-4),
    };
}

patch(ResPartner.prototype, {
    get searchString() {
        const result = super.searchString;
        return this.wechat_member_code ? `${result} ${this.wechat_member_code}` : result;
    },

    exactMatch(searchWord) {
        if (super.exactMatch(searchWord)) {
            return true;
        }
        const word = (searchWord || "").trim();
        if (this.wechat_member_code && this.wechat_member_code === word.toUpperCase()) {
            return true;
        }
        const digits = phoneDigits(word);
        return (
            digits.length >= 5 &&
            digits.length === word.replace(/[\s\-()+]/g, "").length &&
            [this.phone, this.mobile].some((phone) => phone && phoneDigits(phone) === digits)
        );
    },

    /** Whether the contact follows the WeChat account (a member in state follower). */
    wechatFollows(accountId) {
        return Boolean(accountId && (this.wechat_follower_account_ids || []).includes(accountId));
    },
});
