import { Store } from "@mail/core/common/store_service";

import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";

/**
 * A reply WeChat may not take (no customer-service quota left, window closed, WeChat's own refusal) is refused
 * by the server before anything is sent: Discuss shows why, and the reply is not left as a pending message.
 */
patch(Store.prototype, {
    async doMessagePost(params, tmpMessage) {
        if (!tmpMessage?.thread?.wechat_member_id) {
            return super.doMessagePost(...arguments);
        }
        try {
            return await super.doMessagePost(params, undefined);
        } catch (error) {
            tmpMessage.delete();
            this.env.services.notification.add(error.data?.message || error.message, {
                type: "danger",
                sticky: true,
                title: _t("Not sent to WeChat"),
            });
        }
    },
});
