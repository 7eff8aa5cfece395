import { registry } from "@web/core/registry";

function reply(text) {
    return [
        {
            content: `Write "${text}"`,
            trigger: ".o-mail-Composer-input",
            run: `edit ${text}`,
        },
        {
            content: "Send it",
            trigger: ".o-mail-Composer-send:enabled",
            run: "click",
        },
        {
            content: "The reply is in the thread (sent)",
            trigger: `.o-mail-Message-content:not(.opacity-50) .o-mail-Message-body:contains('${text}')`,
        },
    ];
}

registry.category("web_tour.tours").add("wechat_cs_tour", {
    steps: () => [
        {
            content: "The member's text is in the conversation",
            trigger: ".o-mail-Message-body:contains('Where is my parcel?')",
        },
        {
            content: "Their image too, downloaded from WeChat",
            trigger: ".o-mail-AttachmentImage img",
        },
        {
            content: "Open the member card",
            trigger: "button[name='wechat-member-card']",
            run: "click",
        },
        {
            content: "The member card shows the member code and the quota left",
            trigger: ".o-wechat-MemberCard-code:contains('WM')",
        },
        {
            trigger: ".o-wechat-MemberCard-quota:contains('5 message(s) left')",
        },
        ...[1, 2, 3, 4, 5].flatMap((n) => reply(`Answer number ${n}`)),
        {
            content: "Write a sixth reply",
            trigger: ".o-mail-Composer-input",
            run: "edit Answer number 6",
        },
        {
            trigger: ".o-mail-Composer-send:enabled",
            run: "click",
        },
        {
            content: "It is refused before sending, with the reason",
            trigger: ".o_notification:contains('5/5')",
        },
        {
            trigger: ".o_notification:contains('notice router')",
        },
    ],
});
