import { patch } from "@web/core/utils/patch";
import { PosOrder } from "@point_of_sale/app/models/pos_order";
import { PaymentScreen } from "@point_of_sale/app/screens/payment_screen/payment_screen";

/**
 * The customer's stamp cards (loyalty programs with ``wechat_stamp_card``, one point a stamp) in the POS: the
 * stamps on their card, what the order adds and spends (pos_loyalty's ``getLoyaltyPoints``), the stamps after
 * it, and the stamps of a full card (the reward's required points).
 */
export function wechatStampCards(order) {
    const partner = order.get_partner();
    const programs = partner
        ? order.models["loyalty.program"].filter((p) => p.wechat_stamp_card && p.program_type === "loyalty")
        : [];
    if (!programs.length) {
        return [];
    }
    const stats = order.getLoyaltyPoints();
    return programs.map((program) => {
        const card = order.models["loyalty.card"].find(
            (c) => c.partner_id?.id === partner.id && c.program_id?.id === program.id && c.id > 0
        );
        const stat = stats.find((s) => s.program.id === program.id);
        const before = Math.round(card?.points || 0);
        const won = Math.round(stat?.points.won || 0);
        const spent = Math.round(stat?.points.spent || 0);
        const total = Math.max(Math.round(program.reward_ids[0]?.required_points || 0), 1);
        return wechatStampRow(program, total, before, won, spent);
    });
}

/** One card's display: ``filled`` stamps after the order (``added`` of them by the order), ``empty`` left. */
export function wechatStampRow(program, total, before, won, spent) {
    const after = Math.max(before + won - spent, 0);
    const filled = Math.min(after, total);
    const added = Math.min(Math.max(after - Math.max(before - spent, 0), 0), filled);
    return {
        programId: program.id,
        name: program.name,
        total,
        before,
        won,
        spent,
        after,
        filled,
        added,
        kept: filled - added,
        empty: total - filled,
        full: after >= total,
        text: "●".repeat(filled) + "○".repeat(total - filled),
    };
}

patch(PosOrder.prototype, {
    /** The stamp cards shown: once synced, those fixed just before pos_loyalty updated the cards. */
    wechatStampCards() {
        return this.uiState.wechatStampCards || wechatStampCards(this);
    },
    export_for_printing() {
        const result = super.export_for_printing(...arguments);
        result.wechatStampCards = this.wechatStampCards();
        return result;
    },
});

patch(PaymentScreen.prototype, {
    /** The receipt's stamps (this order's included) are fixed before the cards are updated from the server. */
    async _postPushOrderResolve(order) {
        order.uiState.wechatStampCards = wechatStampCards(order);
        return super._postPushOrderResolve(...arguments);
    },
});
