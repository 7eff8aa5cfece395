"""Black-box: coupons reach a follower in WeChat and wait in a visitor's wallet (./run test)."""


def test_issue_notify_wallet(odoo, sandbox, fake_wechat):
    account_id, acc, sim = sandbox()
    chatty, silent = acc.add_nonfollower(), acc.add_nonfollower()
    assert sim.follow(openid=chatty).ok  # a follower: the 48 h window is open
    # A visitor of the member page who does not follow: never messaged.
    assert sim.oauth(silent, f"{odoo.url}/wechat/member/{account_id}?lang=en").status_code == 200
    members = odoo.search_read(
        "wechat.member", [("account_id", "=", account_id), ("openid", "in", [chatty, silent])], ["openid"]
    )
    assert len(members) == 2
    program_id = odoo.call(
        "loyalty.program",
        "create",
        {
            "name": "Scenario 10% off",
            "program_type": "coupons",
            "trigger": "with_code",
            "applies_on": "current",
            "rule_ids": [],
            "reward_ids": [
                [
                    0,
                    0,
                    {
                        "reward_type": "discount",
                        "discount": 10,
                        "discount_mode": "percent",
                        "discount_applicability": "order",
                        "required_points": 1,
                    },
                ]
            ],
        },
    )
    campaign_id = odoo.call(
        "wechat.coupon.campaign",
        "create",
        {
            "name": "Scenario campaign",
            "account_id": account_id,
            "program_id": program_id,
            "audience": "members",
            "member_ids": [[6, 0, [m["id"] for m in members]]],
        },
    )
    odoo.call("wechat.coupon.campaign", "action_issue", [campaign_id])
    odoo.call("wechat.coupon.campaign", "action_issue", [campaign_id])  # idempotent
    cards = odoo.search_read("loyalty.card", [("wechat_campaign_id", "=", campaign_id)], ["code", "partner_id"])
    assert len(cards) == 2
    [campaign] = odoo.search_read(
        "wechat.coupon.campaign", [("id", "=", campaign_id)], ["notified_count", "not_notified_count"]
    )
    assert (campaign["notified_count"], campaign["not_notified_count"]) == (1, 1)
    texts = [m for m in acc.cs_messages if m["touser"] == chatty]
    assert any(f"/wechat/coupons/{account_id}/claim/{campaign_id}" in m["text"]["content"] for m in texts)
    assert not [m for m in acc.cs_messages if m["touser"] == silent]
    assert fake_wechat.violations == []
    # The silent member finds the coupon in the wallet.
    resp = sim.oauth(silent, f"{odoo.url}/wechat/coupons/{account_id}?lang=en")
    assert resp.status_code == 200
    assert any(card["code"] in resp.text for card in cards)
