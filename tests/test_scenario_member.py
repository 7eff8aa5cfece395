"""Black-box: a shopper meets the store's WeChat account (Odoo served with --workers=2)."""

import concurrent.futures
import time


def member_of(odoo, account_id, openid):
    return odoo.search_read(
        "wechat.member",
        [("account_id", "=", account_id), ("openid", "=", openid)],
        ["state", "channel_id", "member_code", "partner_id"],
    )


def test_scan_follow_ask_points_replay_unfollow(odoo, sandbox, fake_wechat):
    account_id, acc, sim = sandbox()
    channel_id = odoo.call(
        "wechat.qr.channel", "create", {"name": "Store counter", "account_id": account_id, "scene": "store_1"}
    )
    odoo.call("wechat.qr.channel", "action_generate_qr", [channel_id])
    ticket = odoo.search_read("wechat.qr.channel", [("id", "=", channel_id)], ["ticket"])[0]["ticket"]

    openid = acc.add_nonfollower()
    result = sim.follow(openid=openid, ticket=ticket)  # scans the store QR and follows
    assert result.ok, result.error
    assert "Welcome" in result.reply["Content"]
    [member] = member_of(odoo, account_id, openid)
    assert member["state"] == "follower"
    assert member["channel_id"][0] == channel_id

    result = sim.text(openid, "积分")
    assert member["member_code"] in result.reply["Content"]

    # WeChat's retries of one event (the same MsgId) are answered once.
    results = sim.post_event(result.event, repeat=3)
    assert [r.text for r in results] == ["success"] * 3
    assert odoo.call("wechat.event", "search_count", [("openid", "=", openid), ("msg_type", "=", "text")]) == 1

    fake_wechat.advance(2)
    assert sim.unfollow(openid).text == "success"
    [member] = member_of(odoo, account_id, openid)
    assert member["state"] == "unfollowed", "the member is kept"
    assert fake_wechat.violations == []


def test_same_event_delivered_many_times_in_parallel(odoo, sandbox):
    account_id, acc, sim = sandbox()
    openid = acc.add_nonfollower()
    event = {
        "ToUserName": acc.original_id,
        "FromUserName": openid,
        "CreateTime": int(time.time()),
        "MsgType": "event",
        "Event": "subscribe",
        "EventKey": "",
    }
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda __: sim.post_event(dict(event), retries_on_slow=False), range(1000)))
    assert all(r.status_code == 200 for r in results), {r.status_code for r in results}
    assert len(member_of(odoo, account_id, openid)) == 1
    assert odoo.call("wechat.event", "search_count", [("openid", "=", openid)]) == 1
    replies = [r for r in results if r.reply]
    assert len(replies) == 1, "one welcome, the duplicates get 'success'"


def test_safe_mode_and_bad_input(odoo, sandbox):
    import requests

    account_id, acc, sim = sandbox(encrypt_mode="safe")
    openid = acc.add_nonfollower()
    result = sim.follow(openid=openid)
    assert "<Encrypt>" in result.text
    assert "Welcome" in result.reply["Content"]
    url = f"{odoo.url}/wechat/callback/{account_id}"
    assert requests.post(url, data=b"<xml/>", timeout=10).status_code == 403
    assert requests.post(f"{odoo.url}/wechat/callback/99999999", data=b"<xml/>", timeout=10).status_code == 404


def test_manager_sends_a_customer_service_text_from_the_member_list(odoo, sandbox, fake_wechat):
    """The member wizard's message goes out and its notice is kept, sent from a transaction of
    its own (the manager's request commits nothing itself); a member with no window is counted."""
    account_id, acc, sim = sandbox()
    talking, silent = acc.add_nonfollower(), acc.add_nonfollower()
    assert sim.follow(openid=talking).ok and sim.follow(openid=silent).ok
    assert sim.text(talking, "你好").ok  # a message opens 48 hours of customer service
    assert sim.unfollow(silent).text == "success"  # unfollowed: nothing can reach them
    member_ids = [m["id"] for m in member_of(odoo, account_id, talking) + member_of(odoo, account_id, silent)]
    wizard_id = odoo.call(
        "wechat.member.wizard",
        "create",
        {"action": "message", "message": "您的订单已备好", "member_ids": [(6, 0, member_ids)]},
    )
    action = odoo.call("wechat.member.wizard", "action_apply", [wizard_id])
    assert action["params"]["message"].startswith("1 sent, 1 not reachable"), action
    assert [m["touser"] for m in acc.cs_messages if m["msgtype"] == "text" and "订单" in m["text"]["content"]] == [
        talking
    ]
    notices = odoo.search_read(
        "wechat.notice", [("account_id", "=", account_id), ("kind_id.code", "=", "service_message")], ["state"]
    )
    assert [n["state"] for n in notices].count("sent") == 1, notices
    assert fake_wechat.violations == []
