"""Media of customer-service conversations: ``media/get`` serves what users send (image, voice) and what the
account uploaded (``media/upload``), a video as its ``video_url``, 40007 for an unknown or expired media; a CS
image message needs an uploaded image; via requests and wechatpy 1.8.18."""

import requests
from fakewechat.api_media import TINY_PNG
from fakewechat.testing import api_post, fetch_token, make_client


def media_get(fake, token, media_id):
    session = requests.Session()
    session.trust_env = False
    with session:
        return session.get(
            f"{fake.url}/cgi-bin/media/get", params={"access_token": token, "media_id": media_id}, timeout=5
        )


def test_user_media_served_by_media_get(fake, acc, token, sim, receiver):
    openid = acc.add_follower()
    sim.image(openid, content=b"\x89PNG-user-photo", content_type="image/png")
    sim.voice(openid, recognition="我的积分")
    sim.video(openid)
    image, voice, video = receiver.unique
    assert image["MsgType"] == "image" and image["PicUrl"] and image["MediaId"]
    resp = media_get(fake, token, image["MediaId"])
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "image/png"
    assert resp.content == b"\x89PNG-user-photo"
    assert voice["Format"] == "amr" and voice["Recognition"] == "我的积分"
    resp = media_get(fake, token, voice["MediaId"])
    assert resp.headers["Content-Type"] == "audio/amr" and resp.content.startswith(b"#!AMR")
    assert media_get(fake, token, video["MediaId"]).json()["video_url"].startswith("http://")
    assert media_get(fake, token, "unknown-media").json()["errcode"] == 40007
    assert fake.violations == []


def test_temporary_media_expire_after_3_days(fake, acc, token, sim, receiver, clock):
    openid = acc.add_follower()
    sim.image(openid)
    (image,) = receiver.unique
    assert media_get(fake, token, image["MediaId"]).content == TINY_PNG
    clock.advance(3 * 24 * 3600 + 1)
    assert media_get(fake, fetch_token(fake, acc), image["MediaId"]).json()["errcode"] == 40007


def test_upload_then_cs_image(fake, acc, token, sim):
    openid = acc.add_follower()
    client = make_client(fake, acc, token)
    answer = client.media.upload("image", ("photo.png", TINY_PNG, "image/png"))
    media_id = answer["media_id"]
    assert answer["type"] == "image"
    assert media_get(fake, token, media_id).content == TINY_PNG
    body = {"touser": openid, "msgtype": "image", "image": {"media_id": media_id}}
    assert api_post(fake, "/cgi-bin/message/custom/send", body, token)["errcode"] == 45015  # no grant yet
    fake.clear_logs()
    sim.text(openid, "hello")
    assert api_post(fake, "/cgi-bin/message/custom/send", body, token)["errcode"] == 0
    assert acc.cs_messages[-1]["image"] == {"media_id": media_id}
    body["image"]["media_id"] = "never-uploaded"
    assert api_post(fake, "/cgi-bin/message/custom/send", body, token)["errcode"] == 40007
    assert fake.violations == []
