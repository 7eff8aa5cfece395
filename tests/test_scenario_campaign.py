"""Black-box: a segmented mass send to 25 000 followers within WeChat's rules."""

import time


def wait_for(predicate, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return False


def test_25000_followers_three_chunks_fault_in_the_second(odoo, sandbox, fake_wechat):
    account_id, acc, sim = sandbox()
    odoo.call("wechat.account", "write", [account_id], {"budget_per_week": 0})
    openids = acc.add_followers(25000)
    odoo.call("wechat.account", "action_import_followers", [account_id])
    assert odoo.call("wechat.member", "search_count", [("account_id", "=", account_id)]) == 25000

    segment_id = odoo.call("wechat.segment", "create", {"name": "Everyone", "account_id": account_id, "domain": "[]"})
    assert odoo.search_read("wechat.segment", [("id", "=", segment_id)], ["member_count"])[0]["member_count"] == 25000

    def campaign(name):
        return odoo.call(
            "wechat.campaign",
            "create",
            {
                "name": name,
                "account_id": account_id,
                "audience": "segment",
                "segment_id": segment_id,
                "text_content": f"{name}: 新品上市 / new arrivals",
            },
        )

    def state_of(campaign_id):
        return odoo.search_read("wechat.campaign", [("id", "=", campaign_id)], ["state"])[0]["state"]

    def send_and_wait(campaign_id, until=("done", "failed", "paused")):
        # Send Now only queues the campaign: the served Odoo's cron worker sends it.
        odoo.call("wechat.campaign", "action_send_now", [campaign_id])
        assert wait_for(lambda: state_of(campaign_id) in until, timeout=180), state_of(campaign_id)
        return state_of(campaign_id)

    first = campaign("March 1")
    fake_wechat.inject("/cgi-bin/message/mass/send", errcode=-1, skip=1, times=1)  # WeChat busy on chunk 2
    assert send_and_wait(first) == "paused"
    [state] = odoo.search_read("wechat.campaign", [("id", "=", first)], ["processed_count", "resume_date"])
    assert state["processed_count"] == 10000 and state["resume_date"], state
    assert send_and_wait(first) == "done"  # resumed at once (the cron resumes it after 5 minutes)
    [result] = odoo.search_read(
        "wechat.campaign", [("id", "=", first)], ["state", "recipient_count", "processed_count"]
    )
    assert result == {"id": first, "state": "done", "recipient_count": 25000, "processed_count": 25000}
    chunks = odoo.search_read(
        "wechat.campaign.chunk", [("campaign_id", "=", first)], ["member_count", "state"], order="sequence"
    )
    assert [c["member_count"] for c in chunks] == [10000, 10000, 5000]
    assert all(len(acc.received[o]) == 1 for o in openids), "exactly 25 000 received it once"

    # Stats arrive through the signed MASSSENDJOBFINISH callbacks.
    assert wait_for(
        lambda: odoo.search_read("wechat.campaign", [("id", "=", first)], ["sent_count"])[0]["sent_count"] == 25000
    )

    # Three more this month, then the fifth is filtered for these followers.
    for name in ("March 8", "March 15", "March 22"):
        fake_wechat.advance(2)
        assert send_and_wait(campaign(name)) == "done"
    fifth = campaign("March 29")
    newcomers = acc.add_followers(2)
    odoo.call("wechat.account", "action_import_followers", [account_id])
    assert send_and_wait(fifth) == "done"
    [result] = odoo.search_read("wechat.campaign", [("id", "=", fifth)], ["excluded_quota_count", "recipient_count"])
    assert result["excluded_quota_count"] == 25000
    assert result["recipient_count"] == 2
    assert len(acc.received[openids[0]]) == 4
    assert all(len(acc.received[o]) == 1 for o in newcomers)
    assert fake_wechat.violations == []
