import { patch } from "@web/core/utils/patch";
import { roundPrecision } from "@web/core/utils/numbers";
import { PosOrder } from "@point_of_sale/app/models/pos_order";

/** The points multiplier of a customer's member level for ``program``: nominative points programs only. */
export function wechatLevelMultiplier(partner, program) {
    if (
        !partner ||
        program.program_type !== "loyalty" ||
        !program.is_nominative ||
        program.wechat_stamp_card
    ) {
        return 1;
    }
    return partner.wechat_level_multiplier || 1;
}

patch(PosOrder.prototype, {
    /** pos_loyalty's points, times the customer's level multiplier (as ``pos.order._wechat_program_points``). */
    pointsForPrograms(programs) {
        const result = super.pointsForPrograms(...arguments);
        const partner = this.get_partner();
        for (const program of programs) {
            const multiplier = wechatLevelMultiplier(partner, program);
            if (multiplier !== 1 && result[program.id]) {
                result[program.id] = result[program.id].map((entry) => ({
                    ...entry,
                    points: roundPrecision(entry.points * multiplier, 0.01),
                }));
            }
        }
        return result;
    },

    /** The receipt's member block also shows the customer's member level (after this order, once synced). */
    wechatMemberInfo() {
        const info = super.wechatMemberInfo(...arguments);
        const level = this.get_partner()?.wechat_level_name;
        if (info && info.code && level) {
            info.memberLevel = level;
        }
        return info;
    },
});
