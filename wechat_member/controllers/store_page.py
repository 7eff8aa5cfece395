"""The stores inside WeChat: ``/wechat/stores/<account id>`` and ``/wechat/store/<account id>/<store id>``.

Public pages (a store's address, hours and phone are no secret): the stores
of the account shown in WeChat (``pos.config.wechat_store_published``).  The
list is sorted by distance from, in order: the location the page got from the
JS-SDK (``wx.getLocation``, GCJ-02, passed back as ``lat``/``lng``), the last
location the signed-in member sent or reported in the chat, or the city of the
member's profile (its stores first).  ``wx.openLocation`` opens WeChat's map on
a store; outside WeChat a Tencent Maps link does.
"""

from datetime import timedelta
from urllib.parse import quote

from werkzeug.exceptions import NotFound

from odoo import _, fields, http
from odoo.http import request

from ..tools.geo import geo_point
from .member_page import WeChatMemberPage

KNOWN_LOCATION_DAYS = 7  # a member's location older than this is not used to sort the stores
JS_APIS = ["getLocation", "openLocation"]


class WeChatStorePage(WeChatMemberPage):
    def _store_values(self, store, km=None, is_open=None):
        Store = request.env["pos.config"]
        address = store._wechat_store_address(phone=False)
        located = store._wechat_located()
        marker = (
            f"https://apis.map.qq.com/uri/v1/marker?marker=coord:{store.wechat_latitude},{store.wechat_longitude};"
            f"title:{quote(store.name or '')};addr:{quote(address)}&referer=odoo"
            if located
            else False
        )
        return {
            "store": store,
            "name": store.name,
            "address": address,
            "phone": store._wechat_store_phone(),
            "hours": store._wechat_hours_text(),
            "open": store._wechat_is_open() if is_open is None else is_open,
            "distance": Store._wechat_distance_text(km) if km is not None else False,
            "located": located,
            "latitude": store.wechat_latitude,
            "longitude": store.wechat_longitude,
            "map_url": marker,
            "url": f"/wechat/store/{store.wechat_account_id.id}/{store.id}",
        }

    def _reference_point(self, member, lat, lng):
        """Where to sort from: ``(point, source)`` with source "page", "member" or None."""
        point = geo_point(lat, lng)
        if point:
            return point, "page"
        if member and member.last_location_at:
            if member.last_location_at >= fields.Datetime.now() - timedelta(days=KNOWN_LOCATION_DAYS):
                point = geo_point(member.last_latitude, member.last_longitude)
                if point:
                    return point, "member"
        return None, None

    @http.route("/wechat/stores/<int:account_id>", type="http", auth="public", methods=["GET"], sitemap=False)
    def store_list(self, account_id, lat=None, lng=None, lang=None, **kw):
        account = self._account(account_id)
        self._set_lang(lang)
        Store = request.env["pos.config"]
        member = self._current_member(account)
        point, source = self._reference_point(member, lat, lng)
        if point:
            rows = Store._wechat_by_distance(account, *point)
            located = {row[0] for row in rows}
            unlocated = Store._wechat_stores(account).filtered(lambda s: s not in located)
            stores = [self._store_values(s, km, is_open) for s, km, is_open in rows]
            stores += [self._store_values(s) for s in unlocated]
        else:
            city = (member.partner_id.city or "").strip() if member else ""
            all_stores = Store._wechat_stores(account)
            if city:
                all_stores = all_stores.sorted(lambda s: city not in s._wechat_store_address(phone=False))
            stores = [self._store_values(s) for s in all_stores]
        values = {
            "account": account,
            "stores": stores,
            "source": source,
            "jssdk": self._jssdk_values(account, member, JS_APIS),
            "lang": request.env.lang,
            "title": _("Our stores"),
        }
        return request.render("wechat_member.store_list_page", values)

    @http.route(
        "/wechat/store/<int:account_id>/<int:store_id>", type="http", auth="public", methods=["GET"], sitemap=False
    )
    def store_page(self, account_id, store_id, lang=None, **kw):
        account = self._account(account_id)
        self._set_lang(lang)
        store = request.env["pos.config"]._wechat_stores(account).filtered(lambda s: s.id == store_id)
        if not store:
            raise NotFound()
        values = {
            "account": account,
            "entry": self._store_values(store),
            "jssdk": self._jssdk_values(account, self._current_member(account), JS_APIS),
            "lang": request.env.lang,
            "title": store.name,
        }
        return request.render("wechat_member.store_page", values)
