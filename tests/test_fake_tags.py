"""Tag rules: ids from 100, system tags 0/1/2, 100 per account, 20 per user,
batches of 50, name checks; through requests and wechatpy 1.8.18."""

import pytest
from fakewechat.testing import api_get, api_post, fetch_token, make_client
from wechatpy.exceptions import WeChatClientException


@pytest.fixture
def token(fake_wechat, fake_account):
    return fetch_token(fake_wechat, fake_account)


def post(fake, path, body, token):
    return api_post(fake, "/cgi-bin/" + path, body, token)


def create(fake, token, name):
    return post(fake, "tags/create", {"tag": {"name": name}}, token)


def test_create_get_update_delete(fake_wechat, fake_account, token):
    assert create(fake_wechat, token, "VIP") == {"tag": {"id": 100, "name": "VIP"}}
    assert create(fake_wechat, token, "高价值")["tag"]["id"] == 101
    tags = api_get(fake_wechat, "/cgi-bin/tags/get", token)["tags"]
    assert tags == [
        {"id": 2, "name": "星标组", "count": 0},
        {"id": 100, "name": "VIP", "count": 0},
        {"id": 101, "name": "高价值", "count": 0},
    ]
    assert post(fake_wechat, "tags/update", {"tag": {"id": 100, "name": "VIP+"}}, token)["errcode"] == 0
    assert post(fake_wechat, "tags/delete", {"tag": {"id": 101}}, token)["errcode"] == 0
    names = [t["name"] for t in api_get(fake_wechat, "/cgi-bin/tags/get", token)["tags"]]
    assert names == ["星标组", "VIP+"]
    assert create(fake_wechat, token, "next")["tag"]["id"] == 102  # ids are never reused


def test_name_rules(fake_wechat, fake_account, token):
    create(fake_wechat, token, "VIP")
    assert create(fake_wechat, token, "VIP")["errcode"] == 45157
    assert create(fake_wechat, token, "")["errcode"] == 45157
    assert create(fake_wechat, token, "星标组")["errcode"] == 45157
    assert create(fake_wechat, token, "一" * 10)["tag"]["name"] == "一" * 10  # 30 bytes
    assert create(fake_wechat, token, "二" * 11)["errcode"] == 45158  # 33 bytes
    assert create(fake_wechat, token, "a" * 31)["errcode"] == 45158


def test_system_tags_and_unknown_ids(fake_wechat, fake_account, token):
    for tag_id in (0, 1, 2):
        assert post(fake_wechat, "tags/update", {"tag": {"id": tag_id, "name": "x"}}, token)["errcode"] == 45058
        assert post(fake_wechat, "tags/delete", {"tag": {"id": tag_id}}, token)["errcode"] == 45058
    assert post(fake_wechat, "tags/delete", {"tag": {"id": 555}}, token)["errcode"] == 45159
    assert (
        post(fake_wechat, "tags/members/batchtagging", {"tagid": 555, "openid_list": ["o" * 28]}, token)["errcode"]
        == 45159
    )


def test_at_most_100_tags(fake_wechat, fake_account, token):
    for i in range(100):
        assert "tag" in create(fake_wechat, token, "t%d" % i)
    assert create(fake_wechat, token, "one too many")["errcode"] == 45056


@pytest.mark.fake_violations_expected
def test_batch_tagging_limit_50_with_violation(fake_wechat, fake_account, token):
    openids = fake_account.add_followers(51)
    tag_id = create(fake_wechat, token, "VIP")["tag"]["id"]
    ok = post(fake_wechat, "tags/members/batchtagging", {"tagid": tag_id, "openid_list": openids[:50]}, token)
    assert ok == {"errcode": 0, "errmsg": "ok"}
    assert fake_wechat.violations == []
    over = post(fake_wechat, "tags/members/batchtagging", {"tagid": tag_id, "openid_list": openids}, token)
    assert over["errcode"] == 40032
    assert fake_wechat.violation_rules() == ["batch_tagging_over_50"]
    assert fake_account.user(openids[50]).tagids == []  # all-or-nothing
    tags = {t["id"]: t["count"] for t in api_get(fake_wechat, "/cgi-bin/tags/get", token)["tags"]}
    assert tags[tag_id] == 50


def test_twenty_tags_per_user(fake_wechat, fake_account, token):
    openid = fake_account.add_follower()
    ids = [create(fake_wechat, token, "tag%d" % i)["tag"]["id"] for i in range(21)]
    for tag_id in ids[:20]:
        assert (
            post(fake_wechat, "tags/members/batchtagging", {"tagid": tag_id, "openid_list": [openid]}, token)["errcode"]
            == 0
        )
    over = post(fake_wechat, "tags/members/batchtagging", {"tagid": ids[20], "openid_list": [openid]}, token)
    assert over["errcode"] == 45059
    assert post(fake_wechat, "tags/getidlist", {"openid": openid}, token) == {"tagid_list": ids[:20]}


def test_untag_delete_and_tag_members_paging(fake_wechat, fake_account, token):
    openids = fake_account.add_followers(3)
    tag_id = create(fake_wechat, token, "VIP")["tag"]["id"]
    post(fake_wechat, "tags/members/batchtagging", {"tagid": tag_id, "openid_list": openids}, token)
    post(fake_wechat, "tags/members/batchuntagging", {"tagid": tag_id, "openid_list": openids[:1]}, token)
    members = post(fake_wechat, "user/tag/get", {"tagid": tag_id, "next_openid": ""}, token)
    assert members == {"count": 2, "data": {"openid": openids[1:]}, "next_openid": openids[2]}
    assert post(fake_wechat, "user/tag/get", {"tagid": tag_id, "next_openid": openids[2]}, token) == {
        "count": 0,
        "next_openid": "",
    }
    post(fake_wechat, "tags/delete", {"tag": {"id": tag_id}}, token)
    assert fake_account.user(openids[1]).tagids == []
    assert post(fake_wechat, "tags/getidlist", {"openid": "o" * 28}, token)["errcode"] == 40003


@pytest.mark.fake_violations_expected
def test_tags_through_wechatpy(fake_wechat, fake_account, token):
    client = make_client(fake_wechat, fake_account, token)
    openids = fake_account.add_followers(120)
    tag = client.tag.create("高价值")
    assert tag == {"id": 100, "name": "高价值"}
    for start in range(0, len(openids), 50):  # wechatpy does not chunk: the caller must
        client.tag.tag_user(tag["id"], openids[start : start + 50])
    assert sorted(client.tag.iter_tag_users(tag["id"])) == sorted(openids)
    assert client.tag.get_user_tag(openids[0]) == [tag["id"]]
    with pytest.raises(WeChatClientException) as err:
        client.tag.tag_user(tag["id"], openids[:51])
    assert err.value.errcode == 40032
    with pytest.raises(WeChatClientException) as err:
        client.tag.delete(2)
    assert err.value.errcode == 45058
    assert fake_wechat.violation_rules() == ["batch_tagging_over_50"]
