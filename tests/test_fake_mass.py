"""Mass-send rules: audiences, 4 per follower per month, clientmsgid (45065/6/7,
remembered 24 h), 24 h content dedupe, quota, rate, mpnews from drafts, images,
media upload, async MASSSENDJOBFINISH and mass/get statuses; via requests and wechatpy."""

import pytest
from fakewechat.pytest_plugin import DEFAULT_ACCOUNT
from fakewechat.testing import api_post, fetch_token, make_client, session
from wechatpy.exceptions import WeChatClientException


def sendall(fake, token, content, tag_id=None, clientmsgid=None):
    flt = {"is_to_all": True} if tag_id is None else {"is_to_all": False, "tag_id": tag_id}
    body = {"filter": flt, "msgtype": "text", "text": {"content": content}}
    if clientmsgid is not None:
        body["clientmsgid"] = clientmsgid
    return api_post(fake, "/cgi-bin/message/mass/sendall", body, token)


def send(fake, token, openids, content, **extra):
    body = {"touser": openids, "msgtype": "text", "text": {"content": content}} if content is not None else {}
    body = dict(body, touser=openids, **extra)
    return api_post(fake, "/cgi-bin/message/mass/send", body, token)


def finished_events(receiver):
    return [e for e in receiver.unique if e.get("Event") == "MASSSENDJOBFINISH"]


def test_sendall_to_all_and_job_finish_event(fake, acc, token, receiver):
    openids = acc.add_followers(5)
    res = sendall(fake, token, "hello")
    assert res["errcode"] == 0 and res["errmsg"] == "send job submission success" and res["msg_id"]
    assert "msg_data_id" not in res  # only for mpnews
    assert all(acc.received[o] == [res["msg_id"]] for o in openids)
    assert fake.wait_idle(5)
    (event,) = finished_events(receiver)
    assert int(event["MsgID"]) == res["msg_id"] and event["Status"] == "send success"
    assert event["FromUserName"] == "mphelper" and event["ToUserName"] == acc.original_id
    assert [int(event[k]) for k in ("TotalCount", "FilterCount", "SentCount", "ErrorCount")] == [5, 5, 5, 0]
    assert "CheckState" in event["CopyrightCheckResult"]
    status = api_post(fake, "/cgi-bin/message/mass/get", {"msg_id": res["msg_id"]}, token)
    assert status == {"msg_id": res["msg_id"], "msg_status": "SEND_SUCCESS"}
    assert fake.violations == []


def test_sendall_by_tag_and_mpnews(fake, acc, token):
    openids = acc.add_followers(4)
    tag_id = api_post(fake, "/cgi-bin/tags/create", {"tag": {"name": "VIP"}}, token)["tag"]["id"]
    api_post(fake, "/cgi-bin/tags/members/batchtagging", {"tagid": tag_id, "openid_list": openids[:2]}, token)
    body = {
        "filter": {"is_to_all": False, "tag_id": tag_id},
        "msgtype": "mpnews",
        "mpnews": {"media_id": acc.add_draft()},
        "send_ignore_reprint": 0,
    }
    res = api_post(fake, "/cgi-bin/message/mass/sendall", body, token)
    assert res["msg_data_id"]
    assert sorted(o for o in openids if acc.received[o]) == sorted(openids[:2])
    assert acc.mass_jobs[res["msg_id"]].total_count == 2
    assert sendall(fake, token, "x", tag_id=999)["errcode"] == 45159


@pytest.mark.fake_violations_expected
def test_send_list_size_rules(fake, acc, token):
    openids = acc.add_followers(3)
    assert send(fake, token, openids[:1], "one")["errcode"] == 40130
    assert send(fake, token, ["o%027d" % i for i in range(10001)], "many")["errcode"] == 40130
    assert fake.violation_rules() == ["mass_openid_list_size", "mass_openid_list_size"]
    stranger = "o" + "z" * 27
    res = send(fake, token, openids[:2] + [stranger], "ok")
    job = acc.mass_jobs[res["msg_id"]]
    assert (job.total_count, job.filtered_not_follower, job.sent_count) == (2, 1, 2)
    assert stranger not in acc.received


def test_four_mass_messages_per_follower_per_month(fake, acc, token, receiver, clock):
    openids = acc.add_followers(3)
    msg_ids = [sendall(fake, token, "news %d" % i)["msg_id"] for i in range(5)]
    assert all(acc.received[o] == msg_ids[:4] for o in openids)
    fifth = acc.mass_jobs[msg_ids[4]]
    assert (fifth.total_count, fifth.filtered_quota, fifth.filter_count, fifth.sent_count) == (3, 3, 0, 0)
    assert fake.violations == []  # WeChat filters by itself: not a product violation
    fake.wait_idle(5)
    last = [e for e in finished_events(receiver) if int(e["MsgID"]) == msg_ids[4]][0]
    assert (last["TotalCount"], last["FilterCount"], last["SentCount"]) == ("3", "0", "0")
    clock.advance(32 * 86400)  # next calendar month
    assert sendall(fake, token, "new month")["errcode"] == 42001
    res = sendall(fake, fetch_token(fake, acc), "new month")
    assert all(acc.received[o][-1] == res["msg_id"] for o in openids)


def test_clientmsgid_dedupe(fake, acc, token, clock):
    openids = acc.add_followers(2)
    first = sendall(fake, token, "promo", clientmsgid="campaign-1")
    too_fast = sendall(fake, token, "promo", clientmsgid="campaign-1")
    assert too_fast["errcode"] == 45066
    clock.advance(2)
    again = sendall(fake, token, "promo", clientmsgid="campaign-1")
    assert again["errcode"] == 45065 and again["msg_id"] == first["msg_id"]
    assert sendall(fake, token, "promo", clientmsgid="x" * 65)["errcode"] == 45067
    assert all(acc.received[o] == [first["msg_id"]] for o in openids)
    assert fake.violations == []


def test_clientmsgid_is_remembered_for_24_hours_only(fake, acc, token, clock):
    openids = acc.add_followers(2)
    first = sendall(fake, token, "monthly", clientmsgid="chunk-1")
    clock.advance(86399)
    token = fetch_token(fake, acc)
    assert sendall(fake, token, "monthly", clientmsgid="chunk-1")["errcode"] == 45065
    clock.advance(2)  # 24 h after the first send: forgotten
    again = sendall(fake, token, "monthly", clientmsgid="chunk-1")
    assert again["errcode"] == 0 and again["msg_id"] != first["msg_id"]
    assert all(acc.received[o] == [first["msg_id"], again["msg_id"]] for o in openids)


def _multipart(field="media", filename="a.jpg"):
    boundary = "fakeboundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
        f"Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff\r\n--{boundary}--\r\n"
    ).encode("latin-1")
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def _upload(fake, token, path, media_type, field="media"):
    body, headers = _multipart(field)
    with session() as s:
        url = fake.url + path
        return s.post(url, params={"access_token": token, "type": media_type}, data=body, headers=headers).json()


def test_media_upload_draft_and_mpnews(fake, acc, token):
    openids = acc.add_followers(2)
    assert _upload(fake, token, "/cgi-bin/material/add_material", "image", field="file")["errcode"] == 41005
    assert _upload(fake, token, "/cgi-bin/material/add_material", "gif")["errcode"] == 40004
    thumb = _upload(fake, token, "/cgi-bin/material/add_material", "image")
    assert thumb["media_id"] and thumb["url"]
    temp = _upload(fake, token, "/cgi-bin/media/upload", "image")
    assert temp["type"] == "image" and temp["media_id"] in acc.media
    article = {"title": "Spring offers", "content": "<p>new season</p>", "thumb_media_id": temp["media_id"]}
    assert api_post(fake, "/cgi-bin/draft/add", {"articles": [article]}, token)["errcode"] == 40007  # not permanent
    assert api_post(fake, "/cgi-bin/draft/add", {"articles": []}, token)["errcode"] == 44003
    article["thumb_media_id"] = thumb["media_id"]
    draft = api_post(fake, "/cgi-bin/draft/add", {"articles": [article]}, token)
    assert draft["media_id"] in acc.drafts
    res = send(fake, token, openids, None, msgtype="mpnews", mpnews={"media_id": draft["media_id"]})
    assert res["errcode"] == 0 and res["msg_data_id"]
    assert fake.violations == []


@pytest.mark.fake_violations_expected
def test_mpnews_needs_a_draft_media_id(fake, acc, token):
    openids = acc.add_followers(2)
    image = acc.add_media("image")
    res = send(fake, token, openids, None, msgtype="mpnews", mpnews={"media_id": image})
    assert res["errcode"] == 40007
    assert fake.violation_rules() == ["mass_mpnews_not_draft"]
    assert not any(acc.received[o] for o in openids)


def test_images_mass_send(fake, acc, token):
    openids = acc.add_followers(2)
    image = acc.add_media("image")
    assert send(fake, token, openids, None, msgtype="image", image={"media_id": image})["errcode"] == 44004
    assert send(fake, token, openids, None, msgtype="image", images={"media_ids": []})["errcode"] == 44004
    assert send(fake, token, openids, None, msgtype="image", images={"media_ids": ["nope"]})["errcode"] == 40007
    res = send(fake, token, openids, None, msgtype="image", images={"media_ids": [image], "recommend": "new"})
    assert res["errcode"] == 0 and acc.mass_jobs[res["msg_id"]].content["media_ids"] == [image]
    assert fake.violations == []


def test_identical_content_deduped_for_24h_without_clientmsgid(fake, acc, token, clock):
    openids = acc.add_followers(2)
    first = send(fake, token, openids, "same text")
    assert send(fake, token, list(reversed(openids)), "same text")["msg_id"] == first["msg_id"]
    assert all(acc.received[o] == [first["msg_id"]] for o in openids)
    other = send(fake, token, openids, "other text")
    assert other["msg_id"] != first["msg_id"]
    clock.advance(86400)
    later = send(fake, fetch_token(fake, acc), openids, "same text")
    assert later["msg_id"] not in (first["msg_id"], other["msg_id"])
    assert len(acc.received[openids[0]]) == 3


@pytest.mark.fake_violations_expected
def test_quota_and_rate_limits(fake, acc, token, clock):
    acc.add_followers(2)
    acc.mass_quota_remaining = 1
    assert sendall(fake, token, "a")["errcode"] == 0
    assert sendall(fake, token, "b")["errcode"] == 45028
    assert fake.violation_rules() == ["mass_quota"]
    acc.mass_quota_remaining = None
    fake.clear_logs()
    acc.mass_rate_per_minute = 3
    clock.advance(61)
    assert [sendall(fake, token, "r%d" % i)["errcode"] for i in range(4)] == [0, 0, 0, 45011]
    assert fake.violation_rules() == ["rate_limit"]
    clock.advance(60)
    assert sendall(fake, token, "after a minute")["errcode"] == 0


def test_error_count_and_delete(fake, acc, token, receiver):
    openids = acc.add_followers(3)
    acc.mass_fail_openids.add(openids[0])
    res = sendall(fake, token, "hi")
    fake.wait_idle(5)
    (event,) = finished_events(receiver)
    assert [int(event[k]) for k in ("TotalCount", "FilterCount", "SentCount", "ErrorCount")] == [3, 3, 2, 1]
    assert api_post(fake, "/cgi-bin/message/mass/delete", {"msg_id": res["msg_id"]}, token)["errcode"] == 0
    assert api_post(fake, "/cgi-bin/message/mass/get", {"msg_id": res["msg_id"]}, token)["msg_status"] == "DELETE"
    assert api_post(fake, "/cgi-bin/message/mass/get", {"msg_id": 1}, token)["errcode"] == 40007


def test_mass_get_statuses(fake, acc, token, receiver):
    openids = acc.add_followers(2)
    fake.async_delay = 0.5  # the job stays SENDING until the finish event
    ok = sendall(fake, token, "hello")
    assert api_post(fake, "/cgi-bin/message/mass/get", {"msg_id": ok["msg_id"]}, token)["msg_status"] == "SENDING"
    acc.mass_fail_openids.update(openids)
    failed = sendall(fake, token, "everyone fails")
    assert fake.wait_idle(5)
    get = {
        m: api_post(fake, "/cgi-bin/message/mass/get", {"msg_id": m}, token)["msg_status"]
        for m in (ok["msg_id"], failed["msg_id"])
    }
    assert get == {ok["msg_id"]: "SEND_SUCCESS", failed["msg_id"]: "SEND_FAIL"}
    statuses = {int(e["MsgID"]): e["Status"] for e in finished_events(receiver)}
    assert statuses == {ok["msg_id"]: "send success", failed["msg_id"]: "send fail"}


def test_preview(fake, acc, token):
    openid = acc.add_follower()
    body = {"touser": openid, "msgtype": "text", "text": {"content": "preview"}}
    res = api_post(fake, "/cgi-bin/message/mass/preview", body, token)
    assert res["errcode"] == 0 and res["errmsg"] == "preview success"
    assert acc.received[openid] == [] and acc.previews[0]["touser"] == openid
    body = {"towxname": "some_wechat_id", "msgtype": "text", "text": {"content": "preview"}}
    assert api_post(fake, "/cgi-bin/message/mass/preview", body, token)["errcode"] == 0
    body = {"touser": "o" + "q" * 27, "msgtype": "text", "text": {"content": "x"}}
    assert api_post(fake, "/cgi-bin/message/mass/preview", body, token)["errcode"] == 40003


def test_job_finish_event_in_safe_mode(make_fake_wechat, make_webhook_receiver):
    fake = make_fake_wechat(async_delay=0.01)
    receiver = make_webhook_receiver(aes_key=DEFAULT_ACCOUNT["aes_key"], appid=DEFAULT_ACCOUNT["appid"])
    acc = fake.add_account(**dict(DEFAULT_ACCOUNT, encrypt_mode="safe", webhook_url=receiver.url))
    acc.add_followers(2)
    res = sendall(fake, fetch_token(fake, acc), "secret news")
    assert fake.wait_idle(5)
    query, body = receiver.raw[0]
    assert query["encrypt_type"] == "aes" and b"<Encrypt>" in body and b"MASSSENDJOBFINISH" not in body
    assert int(receiver.unique[0]["MsgID"]) == res["msg_id"]
    assert receiver.rejected == []


@pytest.mark.fake_violations_expected
def test_mass_through_wechatpy(fake, acc, token):
    client = make_client(fake, acc, token)
    openids = acc.add_followers(3)
    tag = client.tag.create("VIP")
    client.tag.tag_user(tag["id"], openids[:2])
    # wechatpy 1.8.18 sends the retired filter.group_id: refused
    with pytest.raises(WeChatClientException) as err:
        client.message.send_mass_text(tag["id"], "by group")
    assert err.value.errcode == 40050
    assert fake.violation_rules() == ["mass_group_id"]
    # the design's workaround: post tag_id yourself
    res = client.post(
        "message/mass/sendall",
        data={
            "filter": {"is_to_all": False, "tag_id": tag["id"]},
            "msgtype": "text",
            "text": {"content": "by tag"},
            "clientmsgid": "k1",
        },
    )
    assert sorted(o for o in openids if acc.received[o]) == sorted(openids[:2])
    by_list = client.message.send_mass_text(openids, "by list", client_msg_id="k2")
    assert client.message.get_mass(by_list["msg_id"])["msg_status"] in ("SENDING", "SEND_SUCCESS")
    client.message.send_mass_text(openids[0], "preview", preview=True)  # 28-char openid -> touser
    assert acc.previews[-1]["touser"] == openids[0]
    with pytest.raises(WeChatClientException) as err:
        client.post(
            "message/mass/sendall",
            data={
                "filter": {"is_to_all": False, "tag_id": tag["id"]},
                "msgtype": "text",
                "text": {"content": "by tag"},
                "clientmsgid": "k1",
            },
        )
    assert err.value.errcode in (45065, 45066)
    assert res["msg_id"] != by_list["msg_id"]
