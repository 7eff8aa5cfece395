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
        {
            content: "The refused text is back in the composer, not lost",
            trigger: ".o-mail-Composer-input",
            run() {
                const value = document.querySelector(".o-mail-Composer-input").value;
                if (!value.includes("Answer number 6")) {
                    throw new Error(`the composer holds "${value}"`);
                }
            },
        },
        {
            content: "Send it as a notice instead (template message, through the notice router)",
            trigger: ".o_notification button:contains('Send as notice')",
            run: "click",
        },
        {
            trigger: ".o_notification:contains('Sent to the member as Template message')",
        },
        {
            content: "The notice is in the thread, with the way it went",
            trigger: ".o-mail-Message-body:contains('Answer number 6'):contains('Sent as Template message')",
        },
        {
            content: "Send the member page from the member card: no quota left, a notice is offered",
            trigger: ".o-wechat-MemberCard-link[data-key='member_page']",
            run: "click",
        },
        {
            trigger: ".o_notification:contains('5/5') button:contains('Send as notice')",
            run: "click",
        },
        {
            trigger: ".o-mail-Message-body:contains('/wechat/member/'):contains('Sent as Template message')",
        },
    ],
});
