import { Store } from "@mail/core/common/store_service";

import { patch } from "@web/core/utils/patch";

import { isQuotaError, notifyNotSent, offerNotice } from "./send_as_notice";

/** The plain text of a posted body (the composer gets it back when WeChat cannot take it). */
function bodyText(body) {
    const html = new DOMParser().parseFromString(body || "", "text/html");
    html.querySelectorAll("br").forEach((br) => br.replaceWith("\n"));
    return html.body.textContent;
}

/**
 * A reply WeChat may not take (no customer-service quota left, window closed, WeChat's own refusal) is refused
 * by the server before anything is sent: Discuss shows why, the reply is not left as a pending message and its
 * text goes back to the composer; when the quota is the reason, Discuss offers to send it as a notice instead.
 */
patch(Store.prototype, {
    async doMessagePost(params, tmpMessage) {
        if (!tmpMessage?.thread?.wechat_member_id) {
            return super.doMessagePost(...arguments);
        }
        try {
            return await super.doMessagePost(params, undefined);
        } catch (error) {
            const thread = tmpMessage.thread;
            const body = params.post_data?.body || "";
            tmpMessage.delete();
            if (thread.composer && !thread.composer.text) {
                thread.composer.text = bodyText(body);
            }
            if (isQuotaError(error)) {
                offerNotice(this.env, error, thread.id, { body });
                return;
            }
            notifyNotSent(this.env, error);
        }
    },
});
