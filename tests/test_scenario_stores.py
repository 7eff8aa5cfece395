"""Black-box: a member looks for the nearest store from WeChat: a location sent, picked from the menu, the
location reported on entering the chat, and the stores page."""

import re

import requests

# Shanghai (GCJ-02); the member stands near People's Square.
MEMBER = (31.2300, 121.4700)
STORES = (
    ("Jing'an", 31.2287, 121.4547),  # 1.5 km
    ("Xujiahui", 31.1955, 121.4365),  # 5.0 km
    ("Lujiazui", 31.2397, 121.4998),  # 3.0 km
    ("Pudong Airport", 31.1443, 121.8083),  # 33.6 km: the fourth, left out of the three nearest
)


def test_member_finds_the_nearest_stores(odoo, sandbox, fake_wechat):
    account_id, acc, sim = sandbox()
    tag = acc.appid[-6:]
    ids = {}
    for name, lat, lng in STORES:
        ids[name] = odoo.call(
            "pos.config",
            "create",
            {
                "name": f"{name} {tag}",
                "wechat_account_id": account_id,
                "wechat_latitude": lat,
                "wechat_longitude": lng,
                # open around the clock: the answer does not depend on the hour the scenario runs
                "wechat_open_time": 0.0,
                "wechat_close_time": 0.0,
            },
        )
    unlocated = odoo.call("pos.config", "create", {"name": f"Hangzhou {tag}", "wechat_account_id": account_id})
    [warning] = odoo.search_read("pos.config", [("id", "=", unlocated)], ["wechat_store_warning"])
    assert "no coordinates" in warning["wechat_store_warning"]

    openid = acc.add_follower()
    reply = sim.location(openid, x=MEMBER[0], y=MEMBER[1], label="人民广场").reply["Content"]
    order = [
        name for name in ("Jing'an", "Lujiazui", "Xujiahui", "Pudong Airport", "Hangzhou") if f"{name} {tag}" in reply
    ]
    assert order == ["Jing'an", "Lujiazui", "Xujiahui"], reply
    assert reply.index(f"Jing'an {tag}") < reply.index(f"Lujiazui {tag}") < reply.index(f"Xujiahui {tag}")
    nearest = ids["Jing'an"]
    assert f"/wechat/store/{account_id}/{nearest}" in reply

    # Entering the chat reports the location: answered "success" only (the fake logs a violation otherwise).
    report = sim.report_location(openid, latitude=31.1955, longitude=121.4365)
    assert report.ok and report.reply is None

    # The stores page, sorted from the location the page got from wx.getLocation.
    page = requests.get(
        f"{odoo.url}/wechat/stores/{account_id}", params={"lat": MEMBER[0], "lng": MEMBER[1], "lang": "en"}, timeout=10
    )
    assert page.status_code == 200
    listed = [int(i) for i in re.findall(r'id="wm-store-(\d+)"', page.text)]
    assert listed == [ids["Jing'an"], ids["Lujiazui"], ids["Xujiahui"], ids["Pudong Airport"], unlocated]
    store = requests.get(f"{odoo.url}/wechat/store/{account_id}/{ids['Xujiahui']}", timeout=10)
    assert store.status_code == 200 and f"Xujiahui {tag}" in store.text
    assert fake_wechat.violations == []
