import { _t } from "@web/core/l10n/translation";

/** Loyalty points of the partner when pos_loyalty loads loyalty cards, else null. */
export function wechatLoyaltyPoints(models, partner) {
    const cards = models["loyalty.card"];
    if (!partner || !cards) {
        return null;
    }
    const mine = cards.filter(
        (card) =>
            card.partner_id?.id === partner.id &&
            card.program_id?.program_type === "loyalty" &&
            typeof card.id === "number"
    );
    if (!mine.length) {
        return null;
    }
    return Math.round(mine.reduce((sum, card) => sum + (card.points || 0), 0) * 100) / 100;
}

export function wechatActivityLabel(state) {
    return (
        {
            to_activate: _t("To Activate"),
            new: _t("New Member"),
            active: _t("Active Buyer"),
            dormant: _t("Dormant"),
            lost: _t("Lost"),
        }[state] || ""
    );
}

/** The thanks of the WeChat account that took the order's WeChat Pay (scan code) payment, if any. */
export function wechatPayThanks(order) {
    const line = order?.payment_ids?.find(
        (line) => line.payment_method_id?.use_payment_terminal === "wechat_pay" && line.amount > 0
    );
    return line?.payment_method_id?.wechat_thanks_message || false;
}

/**
 * What the receipt and the customer display show about the customer:
 * member code, purchases, level and points; the store's "Follow us" QR
 * code when the customer does not follow the store's WeChat account yet;
 * and, after a WeChat Pay payment, the account's thanks (a payment opens no
 * customer-service window in WeChat: the thanks are shown here in any case).
 */
export function wechatMemberInfo(models, partner, order = null) {
    const config = models["pos.config"].getFirst();
    const accountId = config?.raw?.wechat_account_id || false;
    const follows = partner && partner.wechatFollows(accountId);
    const followQr = (!follows && accountId && config.wechat_follow_qr) || false;
    const thanks = wechatPayThanks(order);
    const info = { code: false, followQr, thanks };
    if (partner?.wechat_member_code) {
        Object.assign(info, {
            code: partner.wechat_member_code,
            purchases: partner.wechat_purchase_count || 0,
            level: wechatActivityLabel(partner.wechat_activity_state),
            points: wechatLoyaltyPoints(models, partner),
        });
    }
    return info.code || info.followQr || info.thanks ? info : false;
}
