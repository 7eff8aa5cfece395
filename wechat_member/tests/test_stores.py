"""The stores in WeChat: the nearest stores answered to a location, the stores pages, the door QR."""

import re

from freezegun import freeze_time

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import WeChatHttpCase

# Shanghai, in GCJ-02.  The member stands near People's Square (31.2300, 121.4700): by distance, the evening
# store (0.36 km, closed at noon), Jing'an (1.5 km), Lujiazui (3.0 km), Xujiahui (5.0 km).
MEMBER_POINT = (31.2300, 121.4700)
NOON_IN_SHANGHAI = "2026-12-02 04:00:00"  # UTC
THREE_AM_IN_SHANGHAI = "2026-12-01 19:00:00"


@tagged("post_install", "-at_install")
class TestStores(WeChatHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account.company_id.partner_id.tz = "Asia/Shanghai"
        Config = cls.env["pos.config"]

        def store(name, lat=0.0, lng=0.0, **vals):
            return Config.create(
                {
                    "name": name,
                    "wechat_account_id": cls.account.id,
                    "wechat_latitude": lat,
                    "wechat_longitude": lng,
                    "wechat_address": f"{name} street 1",
                    "wechat_store_phone": "021-6288 0000",
                    **vals,
                }
            )

        cls.jingan = store("Lotus Jing'an", 31.2287, 121.4547)
        cls.xujiahui = store("Lotus Xujiahui", 31.1955, 121.4365)
        cls.lujiazui = store("Lotus Lujiazui", 31.2397, 121.4998)
        cls.evening = store("Lotus Night Market", 31.2304, 121.4737, wechat_open_time=18.0, wechat_close_time=2.0)
        cls.unlocated = store("Lotus Hangzhou")
        cls.hidden = store("Lotus Staff Outlet", 31.2301, 121.4702, wechat_store_published=False)
        other = cls.env["wechat.account"].create({"name": "Other brand", "appid": "wxotherbrand00001", "sandbox": True})
        cls.other_brand = store("Other brand store", 31.2300, 121.4701, wechat_account_id=other.id)
        cls.env.flush_all()  # the fake's deliveries are other requests: they read what the database holds

    def follower(self, openid):
        self.fake_account.add_follower(openid)
        return openid

    def member(self, openid):
        return self.env["wechat.member"].search([("account_id", "=", self.account.id), ("openid", "=", openid)])

    def names_in(self, text, stores):
        """The stores of ``stores`` named in ``text``, in the order ``text`` names them."""
        found = [(text.find(store.name), store) for store in stores if store.name in text]
        return [store for __, store in sorted(found, key=lambda pair: pair[0])]

    @property
    def all_stores(self):
        return (
            self.jingan | self.xujiahui | self.lujiazui | self.evening | self.unlocated | self.hidden | self.other_brand
        )

    # ------------------------------------------------------------------ the chat
    @freeze_time(NOON_IN_SHANGHAI)
    def test_location_message_answers_the_three_nearest_open_stores(self):
        openid = self.follower("oStoresNearest000000000000001")
        result = self.sim.location(openid, x=MEMBER_POINT[0], y=MEMBER_POINT[1], label="人民广场")
        text = result.reply["Content"]
        self.assertEqual(
            self.names_in(text, self.all_stores),
            [self.jingan, self.lujiazui, self.xujiahui],
            "the three nearest stores open now, nearest first: not the closed one, the one without coordinates, "
            "the one not shown in WeChat, nor another account's",
        )
        self.assertIn("1.5 km", text)
        self.assertIn("3.0 km", text)
        self.assertIn("5.0 km", text)
        self.assertIn("open now 10:00–22:00", text)
        self.assertIn(f'<a href="{self.jingan._wechat_store_url()}">', text)
        self.assertIn("Lotus Jing'an street 1 · 021-6288 0000", text)
        member = self.member(openid)
        self.assertAlmostEqual(member.last_latitude, MEMBER_POINT[0], places=5)
        self.assertAlmostEqual(member.last_longitude, MEMBER_POINT[1], places=5)
        self.assertTrue(member.cs_message_at, "a location message is the member's own message: 48 h of replies")
        self.assertFalse(
            self.env["discuss.channel"].search([("wechat_member_id", "=", member.id)]),
            "answered by itself: nothing waits for the staff",
        )

    @freeze_time(THREE_AM_IN_SHANGHAI)
    def test_at_night_the_nearest_stores_are_given_closed(self):
        openid = self.follower("oStoresNight00000000000000001")
        text = self.sim.location(openid, x=MEMBER_POINT[0], y=MEMBER_POINT[1]).reply["Content"]
        self.assertEqual(self.names_in(text, self.all_stores), [self.evening, self.jingan, self.lujiazui])
        self.assertEqual(text.count("closed now"), 3)
        self.assertIn("350 m", text)

    def test_location_report_is_kept_and_not_answered(self):
        """WeChat's LOCATION report (entering the chat) may only be answered "success" (the fake checks it)."""
        openid = self.follower("oStoresReport0000000000000001")
        result = self.sim.report_location(openid, latitude=31.2287, longitude=121.4547)
        self.assertEqual(result.status_code, 200)
        self.assertIsNone(result.reply)
        member = self.member(openid)
        self.assertAlmostEqual(member.last_latitude, 31.2287, places=5)
        self.assertTrue(member.last_location_at)
        self.assertFalse(member.cs_message_at or member.cs_event_at, "entering the chat opens no quota")

    @freeze_time(NOON_IN_SHANGHAI)
    def test_location_picked_from_the_menu_is_answered_once(self):
        openid = self.follower("oStoresMenu000000000000000001")
        event, echo = self.sim.location_select(openid, "WECHAT_NEAREST_STORES", *MEMBER_POINT, echo=True)
        self.assertEqual(self.names_in(event.reply["Content"], self.all_stores)[0], self.jingan)
        self.assertIsNone(echo.reply, "the same location, come back as a message, gets no second answer")
        self.assertAlmostEqual(self.member(openid).last_longitude, MEMBER_POINT[1], places=5)

    def test_menu_button_sends_the_location_picker(self):
        self.env["wechat.menu.button"].create(
            {"account_id": self.account.id, "name": "附近门店", "button_type": "location_select"}
        )
        self.account.action_push_menu()
        self.assertEqual(
            self.fake_account.menu["button"],
            [{"type": "location_select", "name": "附近门店", "key": "WECHAT_NEAREST_STORES"}],
        )

    def test_no_store_located_goes_to_the_staff(self):
        self.all_stores.write({"wechat_latitude": 0.0, "wechat_longitude": 0.0})
        self.env.flush_all()
        openid = self.follower("oStoresNone000000000000000001")
        result = self.sim.location(openid, x=MEMBER_POINT[0], y=MEMBER_POINT[1])
        self.assertIn("We could not find a store near you yet", result.reply["Content"])
        self.all_stores.write({"wechat_store_published": False})
        self.env.flush_all()
        result = self.sim.location("oStoresNone000000000000000001", x=31.0, y=121.0)
        self.assertIsNone(result.reply)
        channel = self.env["discuss.channel"].search([("wechat_member_id", "=", self.member(openid).id)])
        self.assertIn("[location]", channel.message_ids[:1].body)

    def test_store_without_coordinates_warns_on_its_form(self):
        self.assertIn("no coordinates", self.unlocated.wechat_store_warning)
        self.assertFalse(self.jingan.wechat_store_warning)
        self.assertFalse(self.hidden.wechat_store_warning)
        with self.assertRaises(ValidationError):
            self.jingan.wechat_latitude = 100.0

    # ------------------------------------------------------------------ the door QR
    def test_door_qr_leads_to_the_store_page(self):
        self.env["wechat.qr.channel"].create(
            {
                "name": "Jing'an door",
                "account_id": self.account.id,
                "scene": "door_jingan",
                "pos_config_id": self.jingan.id,
            }
        )
        result = self.sim.follow(openid="oStoresDoor000000000000000001", scene="door_jingan")
        self.assertIn(f'<a href="{self.jingan._wechat_store_url()}">{self.jingan.name}</a>', result.reply["Content"])
        self.assertIn("Welcome", result.reply["Content"], "the account's welcome first")

    # ------------------------------------------------------------------ the pages
    def store_ids(self, html):
        return [int(i) for i in re.findall(r'id="wm-store-(\d+)"', html)]

    @freeze_time(NOON_IN_SHANGHAI)
    def test_stores_page_by_distance(self):
        resp = self.url_open(f"/wechat/stores/{self.account.id}?lat={MEMBER_POINT[0]}&lng={MEMBER_POINT[1]}&lang=en")
        self.assertEqual(resp.status_code, 200)
        self.assertEqual(
            self.store_ids(resp.text),
            [self.evening.id, self.jingan.id, self.lujiazui.id, self.xujiahui.id, self.unlocated.id],
            "every store shown in WeChat, nearest first, those without coordinates last",
        )
        self.assertIn("Nearest first", resp.text)
        self.assertIn("350 m", resp.text)
        self.assertIn('href="tel:021-6288 0000"', resp.text)
        self.assertIn("apis.map.qq.com/uri/v1/marker?marker=coord:31.2287,121.4547", resp.text)

    @freeze_time(NOON_IN_SHANGHAI)
    def test_stores_page_uses_the_members_last_location(self):
        openid = self.follower("oStoresPage000000000000000001")
        self.sim.report_location(openid, latitude=31.1955, longitude=121.4365)  # at Xujiahui
        self.fake.set_browser_user(self.appid, openid)
        self.url_open(f"/wechat/member/{self.account.id}?lang=en")  # signs in
        html = self.url_open(f"/wechat/stores/{self.account.id}").text
        self.assertEqual(self.store_ids(html)[0], self.xujiahui.id)
        self.assertIn('data-locate="1"', html, "the page still asks WeChat for the member's location now")
        self.assertIn("getLocation", html)

    def test_store_page_shows_one_store_of_the_account(self):
        resp = self.url_open(f"/wechat/store/{self.account.id}/{self.jingan.id}?lang=en")
        self.assertEqual(resp.status_code, 200)
        self.assertIn("Lotus Jing&#39;an street 1", resp.text)
        self.assertIn('data-latitude="31.2287"', resp.text)
        with mute_logger("odoo.http"):
            for store in (self.hidden, self.other_brand):
                self.assertEqual(self.url_open(f"/wechat/store/{self.account.id}/{store.id}").status_code, 404)

    def test_member_page_links_the_stores(self):
        openid = "oStoresLink000000000000000001"
        self.fake.set_browser_user(self.appid, openid)
        html = self.url_open(f"/wechat/member/{self.account.id}?lang=en").text
        self.assertIn(f'href="/wechat/stores/{self.account.id}"', html)

    # ------------------------------------------------------------------ who may
    def test_cashier_reads_the_store_but_cannot_move_it(self):
        cashier = new_test_user(
            self.env,
            login="wm_stores_cashier",
            groups="point_of_sale.group_pos_user,wechat_member.group_wechat_cashier",
        )
        store = self.jingan.with_user(cashier)
        self.assertEqual(store.read(["name"])[0]["name"], "Lotus Jing'an", "the cashier's own point of sale")
        with self.assertRaises(AccessError, msg="POS users may write their POS; where the store is, not"):
            store.write({"wechat_latitude": 30.0})
        with self.assertRaises(AccessError):
            store.write({"wechat_store_published": False})
        member = self.env["wechat.member"]._get_or_create(self.account, "oStoresCashier0000000000001")[0]
        member._set_location(31.2287, 121.4547)
        with self.assertRaises(AccessError, msg="where a member was is for the WeChat managers"):
            member.with_user(cashier).read(["last_latitude"])


@tagged("post_install", "-at_install")
class TestStoresPageInBrowser(WeChatHttpCase):
    """The stores page on a phone, in WeChat's browser (the fake JS-SDK): it asks WeChat where the member is,
    reloads sorted by distance, and opens WeChat's map on the store tapped."""

    browser_size = "390x844"
    touch_enabled = True

    def test_stores_page_locates_and_opens_the_map(self):
        Config = self.env["pos.config"]
        far = Config.create(
            {
                "name": "Lotus Beijing",
                "wechat_account_id": self.account.id,
                "wechat_latitude": 39.9148,
                "wechat_longitude": 116.4108,
                "wechat_open_time": 0.0,
                "wechat_close_time": 0.0,
            }
        )
        near = Config.create(
            {
                "name": "Lotus Jing'an",
                "wechat_account_id": self.account.id,
                "wechat_latitude": 31.2287,
                "wechat_longitude": 121.4547,
                "wechat_open_time": 0.0,
                "wechat_close_time": 0.0,
            }
        )
        self.env.flush_all()
        self.fake.set_browser_location(self.appid, *MEMBER_POINT)
        code = f"""
            const cards = [...document.querySelectorAll('.wm-store')].map((c) => c.id);
            if (cards.join() !== 'wm-store-{near.id},wm-store-{far.id}') {{
                throw new Error('not nearest first: ' + cards.join());
            }}
            if (!document.querySelector('#wm-store-{near.id} .wm-store-distance').textContent.includes('1.5')) {{
                throw new Error('no distance');
            }}
            document.querySelector('#wm-store-{near.id} .wm-store-nav').click();
            const opened = wx.__fake.openedLocation || {{}};
            if (opened.latitude !== 31.2287 || opened.longitude !== 121.4547 || opened.name !== "Lotus Jing'an") {{
                throw new Error('the map was not opened on the store: ' + JSON.stringify(opened));
            }}
            console.log('test successful');
        """
        ready = (
            "window.location.search.includes('lat=') && document.getElementById('wm-jssdk') && "
            "document.getElementById('wm-jssdk').classList.contains('wm-wx-ready')"
        )
        self.browser_js(f"/wechat/stores/{self.account.id}?lang=en", code, ready=ready, timeout=60)
        calls = [c["api"] for c in self.fake.jssdk_calls]
        self.assertEqual(calls[:1], ["getLocation"], "the page asked WeChat where the member is")
