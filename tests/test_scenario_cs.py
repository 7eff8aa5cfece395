"""Black-box: a member writes to the store's account; the staff answers in Discuss within WeChat's quota."""

import pytest
from fakewechat.api_media import TINY_PNG
from odoo_client import OdooError


def conversation(odoo, account_id, openid):
    [member] = odoo.search_read(
        "wechat.member", [("account_id", "=", account_id), ("openid", "=", openid)], ["partner_id"]
    )
    [channel] = odoo.search_read("discuss.channel", [("wechat_member_id", "=", member["id"])], ["description"])
    return member, channel


def comments(odoo, channel_id):
    return odoo.search_read(
        "mail.message",
        [("model", "=", "discuss.channel"), ("res_id", "=", channel_id), ("message_type", "=", "comment")],
        ["body", "author_id", "attachment_ids"],
        order="id",
    )


def reply(odoo, channel_id, text):
    return odoo.call(
        "discuss.channel",
        "message_post",
        [channel_id],
        body=text,
        message_type="comment",
        subtype_xmlid="mail.mt_comment",
    )


def test_member_writes_staff_answers_within_the_quota(odoo, sandbox, fake_wechat):
    account_id, acc, sim = sandbox()
    openid = acc.add_follower()
    first = sim.text(openid, "我的快递到哪了？Where is my parcel?")
    assert first.ok, first.error
    # WeChat delivers the same message again, three times at once: one message in the thread.
    assert [r.status_code for r in sim.post_event(first.event, repeat=3, parallel=True)] == [200] * 3
    assert sim.image(openid, content=TINY_PNG, content_type="image/png").ok
    member, channel = conversation(odoo, account_id, openid)
    messages = comments(odoo, channel["id"])
    assert len(messages) == 2
    assert "Where is my parcel?" in messages[0]["body"]
    assert all(m["author_id"][0] == member["partner_id"][0] for m in messages)
    assert len(messages[1]["attachment_ids"]) == 1, "the image was downloaded with media/get"
    assert "5 message(s) left" in channel["description"]

    for n in range(1, 6):
        reply(odoo, channel["id"], f"Answer {n}")
    received = [m["text"]["content"] for m in acc.cs_messages if m["touser"] == openid]
    assert received == [f"Answer {n}" for n in range(1, 6)]
    with pytest.raises(OdooError, match="5/5"):
        reply(odoo, channel["id"], "Answer 6")
    assert len(comments(odoo, channel["id"])) == 7, "the sixth reply was not posted"
    assert len([m for m in acc.cs_messages if m["touser"] == openid]) == 5, "nor sent"
    assert fake_wechat.violations == []
