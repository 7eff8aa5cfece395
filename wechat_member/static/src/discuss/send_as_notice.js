import { _t } from "@web/core/l10n/translation";

/** Show the message the server posted (``Store`` data) in its thread, as Discuss does for a post. */
export function insertPosted(env, threadId, data) {
    const store = env.services["mail.store"];
    const { Message: messages = [] } = store.insert(data, { html: true });
    const thread = store.Thread.get({ model: "discuss.channel", id: threadId });
    if (thread && messages[0]) {
        thread.addOrReplaceMessage(messages[0]);
    }
    return thread;
}

/** Tell the agent that WeChat did not get the message, and why. */
export function notifyNotSent(env, error) {
    env.services.notification.add(error.data?.message || error.message, {
        type: "danger",
        sticky: true,
        title: _t("Not sent to WeChat"),
    });
}

/** The server refused a reply the customer-service quota cannot carry (``WeChatCSQuotaError``). */
export function isQuotaError(error) {
    return Boolean(error?.data?.name?.endsWith(".WeChatCSQuotaError"));
}

/**
 * Tell the agent why the reply was not sent and offer to send it as a notice instead (template message or
 * subscribe notice, through the notice router): ``what`` is ``{ body }`` (the reply typed) or ``{ link_key }``.
 */
export function offerNotice(env, error, threadId, what) {
    const notification = env.services.notification;
    const orm = env.services.orm;
    const close = notification.add(error.data?.message || error.message, {
        type: "warning",
        sticky: true,
        title: _t("Not sent as a customer-service message"),
        buttons: [
            {
                name: _t("Send as notice"),
                primary: true,
                onClick: async () => {
                    close();
                    try {
                        const result = await orm.call("discuss.channel", "wechat_send_as_notice", [[threadId]], what);
                        const thread = insertPosted(env, threadId, result.store_data);
                        if (what.body && thread?.composer) {
                            thread.composer.text = ""; // sent: the text the refusal gave back goes
                        }
                        notification.add(_t("Sent to the member as %s.", result.channel), { type: "success" });
                    } catch (failure) {
                        notifyNotSent(env, failure);
                    }
                },
            },
        ],
    });
}
