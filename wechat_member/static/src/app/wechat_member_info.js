import { _t } from "@web/core/l10n/translation";

/**
 * The partner's points cards loaded in the POS, as ``res.partner._wechat_points_cards`` (the cards of
 * the loyalty programs, not the stamp cards): pos_loyalty loads ``loyalty.card``, else there are none.
 */
export function wechatPointsCards(models, partner) {
    const cards = models["loyalty.card"];
    if (!partner || !cards) {
        return [];
    }
    return cards.filter(
        (card) =>
            card.partner_id?.id === partner.id &&
            card.program_id?.program_type === "loyalty" &&
            !card.program_id.wechat_stamp_card &&
            typeof card.id === "number"
    );
}

/**
 * The partner's points balance when pos_loyalty loads loyalty cards, else null: the points of
 * their cards, plus ``pending`` (the points the current order earns minus those it spends, not on
 * the cards yet).
 */
export function wechatLoyaltyPoints(models, partner, pending = null) {
    const mine = wechatPointsCards(models, partner);
    if (!mine.length && pending === null) {
        return null;
    }
    const points = mine.reduce((sum, card) => sum + (card.points || 0), 0) + (pending || 0);
    return Math.round(points * 100) / 100;
}

export function wechatActivityLabel(state) {
    return (
        {
            to_activate: _t("To Activate"),
            new: _t("New Buyer"),
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
 * member code, purchases, activity state and points balance (after the
 * order, when there is one); the store's "Follow us" QR
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
            points: order ? order.wechatPointsBalance() : wechatLoyaltyPoints(models, partner),
        });
    }
    return info.code || info.followQr || info.thanks ? info : false;
}
