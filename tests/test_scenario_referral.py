"""Black-box: a member invites a friend through the personal referral QR code."""


def test_referral_qr_follow_and_invite_keyword(odoo, sandbox, fake_wechat):
    account_id, acc, sim = sandbox()
    [account] = odoo.search_read("wechat.account", [("id", "=", account_id)], ["company_id"])
    company_id = account["company_id"][0]
    points_id = odoo.call(
        "loyalty.program", "create", {"name": "Scenario points", "program_type": "loyalty", "company_id": company_id}
    )
    welcome_id = odoo.call(
        "loyalty.program", "create", {"name": "Scenario 10% off", "program_type": "coupons", "company_id": company_id}
    )
    program_id = odoo.call(
        "wechat.referral.program",
        "create",
        {
            "name": "Invite a friend",
            "account_id": account_id,
            "points_program_id": points_id,
            "welcome_program_id": welcome_id,
            "points_per_referral": 50,
        },
    )
    try:
        referrer = acc.add_nonfollower()
        assert sim.follow(openid=referrer).ok
        [member] = odoo.search_read(
            "wechat.member", [("account_id", "=", account_id), ("openid", "=", referrer)], ["id"]
        )
        action = odoo.call("wechat.member", "action_referral_qr", [member["id"]])
        [channel] = odoo.search_read(
            "wechat.qr.channel", [("id", "=", action["res_id"])], ["ticket", "channel_type", "referrer_member_id"]
        )
        assert channel["channel_type"] == "member"
        assert channel["referrer_member_id"][0] == member["id"]

        friend = acc.add_nonfollower()
        result = sim.follow(openid=friend, ticket=channel["ticket"])  # scans the referral QR and follows
        assert result.ok, result.error
        [referral] = odoo.search_read(
            "wechat.referral", [("referrer_member_id", "=", member["id"])], ["state", "welcome_card_id"]
        )
        assert referral["state"] == "pending"
        [card] = odoo.search_read("loyalty.card", [("id", "=", referral["welcome_card_id"][0])], ["code", "points"])
        assert card["code"] in result.reply["Content"], "the friend hears of the welcome perk"

        reply = sim.text(referrer, "邀请").reply["Content"]
        assert f"/wechat/r/{account_id}/" in reply
        assert fake_wechat.violations == []
    finally:  # leave no active loyalty program to the other scenarios' tills
        odoo.call("wechat.referral.program", "write", [program_id], {"active": False})
        odoo.call("loyalty.program", "write", [points_id, welcome_id], {"active": False})
