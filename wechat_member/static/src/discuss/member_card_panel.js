import { threadActionsRegistry } from "@mail/core/common/thread_actions";
import { ActionPanel } from "@mail/discuss/core/common/action_panel";
import { Component, onWillStart, onWillUpdateProps, useState } from "@odoo/owl";

import { _t } from "@web/core/l10n/translation";
import { useService } from "@web/core/utils/hooks";

import { insertPosted, isQuotaError, offerNotice } from "./send_as_notice";

/** The WeChat member beside their conversation: who they are, the quota left, their last purchases. */
export class WeChatMemberCard extends Component {
    static template = "wechat_member.MemberCard";
    static components = { ActionPanel };
    static props = ["thread"];

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.state = useState({ card: null });
        onWillStart(() => this.load(this.props.thread));
        onWillUpdateProps((next) => this.load(next.thread));
    }

    async load(thread) {
        this.state.card = await this.orm.call("wechat.member", "cs_member_card", [[thread.wechat_member_id]]);
    }

    /** Send one of the card's links (member page, store, wallet, offer) as a reply in the conversation. */
    async sendLink(link) {
        const threadId = this.props.thread.id;
        try {
            const data = await this.orm.call("discuss.channel", "wechat_send_link", [[threadId], link.key]);
            insertPosted(this.env, threadId, data);
        } catch (error) {
            if (!isQuotaError(error)) {
                throw error;
            }
            offerNotice(this.env, error, threadId, { link_key: link.key });
        }
        await this.load(this.props.thread);
    }

    openMember() {
        this.action.doAction({
            type: "ir.actions.act_window",
            res_model: "wechat.member",
            res_id: this.props.thread.wechat_member_id,
            views: [[false, "form"]],
        });
    }
}

threadActionsRegistry.add("wechat-member-card", {
    component: WeChatMemberCard,
    condition(component) {
        return (
            component.thread?.model === "discuss.channel" &&
            component.thread.wechat_member_id &&
            (!component.props.chatWindow || component.props.chatWindow.isOpen)
        );
    },
    componentProps(action, component) {
        return { thread: component.thread };
    },
    panelOuterClass: "o-wechat-MemberCard bg-inherit",
    icon: "fa fa-fw fa-weixin",
    iconLarge: "fa fa-fw fa-lg fa-weixin",
    name: _t("WeChat Member"),
    sequence: 5,
    sequenceGroup: 10,
    toggle: true,
});
