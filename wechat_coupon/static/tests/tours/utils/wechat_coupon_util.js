/** Tour steps shared by the wechat_coupon POS tours. */

/** The receipt's member block shows ``balance`` points (the balance after the order). */
export function receiptPointsBalanceIs(balance) {
    return [
        {
            content: "log the receipt (to read a failure)",
            trigger: ".pos-receipt .o_wechat_member_receipt .o_wechat_member_points",
            run() {
                console.info(document.querySelector(".pos-receipt").innerText.replace(/\s+/g, " "));
            },
        },
        {
            content: `the member block shows the balance after this order: ${balance} points`,
            trigger: ".pos-receipt .o_wechat_member_receipt .o_wechat_member_points > span",
            run() {
                const shown = document
                    .querySelector(".pos-receipt .o_wechat_member_receipt .o_wechat_member_points > span")
                    .textContent.trim();
                if (shown !== balance) {
                    throw new Error(`the member block shows ${shown} points, not ${balance}`);
                }
            },
        },
    ];
}
