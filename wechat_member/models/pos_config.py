from datetime import datetime, time, timedelta

import pytz

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..tools.geo import distance_km

NEAREST_STORES = 3
BOOKING_DAYS = 7  # members book up to a week ahead
BOOKING_LEAD = timedelta(hours=1)  # the store needs an hour to get a booking ready
STORE_MANAGER = "point_of_sale.group_pos_manager"


def format_hour(value):
    """``9.5`` → ``"09:30"`` (a float_time field)."""
    minutes = round((value or 0.0) * 60) % (24 * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class PosConfig(models.Model):
    _inherit = "pos.config"

    def _default_wechat_account(self):
        # The company's first account, also for a POS manager who does not manage WeChat.
        account = (
            self.env["wechat.account"]
            .sudo()
            .search([("company_id", "=", self.env.company.id)], order="sequence, id", limit=1)
        )
        return account.id

    wechat_account_id = fields.Many2one(
        "wechat.account",
        string="WeChat Account",
        default=_default_wechat_account,
        check_company=True,
        help="The WeChat service account of this store: receipts and the customer display invite customers who "
        "do not follow it yet.",
    )
    wechat_cs_user_ids = fields.Many2many(
        "res.users",
        "pos_config_wechat_cs_user_rel",
        "config_id",
        "user_id",
        string="Customer Service Staff",
        domain=lambda self: [("groups_id", "in", self.env.ref("wechat_member.group_wechat_customer_service").id)],
        help="The users of the WeChat customer-service group who answer this store's members first.",
    )
    wechat_cs_manager_id = fields.Many2one(
        "res.users",
        string="Customer Service Manager",
        help="Gets an activity when a member's WeChat message waits too long for a reply.",
    )
    wechat_follow_channel_id = fields.Many2one(
        "wechat.qr.channel",
        string="Follow QR Channel",
        compute="_compute_wechat_follow",
        help="The store's QR channel (a channel of this point of sale with a generated QR code).",
    )
    wechat_follow_qr = fields.Char(
        "Follow QR Image",
        compute="_compute_wechat_follow",
        help="Technical: the follow QR code of the store as a data URL, shown on receipts and the customer display.",
    )

    # The store in WeChat: the nearest stores answered to a location, the store pages of the member page.
    # POS users may write their point of sale (Odoo's access): where and when the store is open is the POS
    # managers' to say.
    wechat_store_published = fields.Boolean(
        "Shown in WeChat",
        default=True,
        groups=STORE_MANAGER,
        help="Members find this store in WeChat: among the nearest stores answered to a location they send, and "
        "on the stores page.",
    )
    wechat_latitude = fields.Float(
        "Latitude",
        digits=(10, 6),
        groups=STORE_MANAGER,
        help="GCJ-02 coordinates, as Tencent Maps and AMap give them (WeChat's own location uses them).",
    )
    wechat_longitude = fields.Float("Longitude", digits=(10, 6), groups=STORE_MANAGER)
    wechat_open_time = fields.Float(
        "Opens At", default=10.0, groups=STORE_MANAGER, help="In the shop's time zone, every day."
    )
    wechat_close_time = fields.Float(
        "Closes At",
        default=22.0,
        groups=STORE_MANAGER,
        help="In the shop's time zone; earlier than the opening time: open past midnight.",
    )
    wechat_address = fields.Char(
        "Store Address",
        groups=STORE_MANAGER,
        help="The address shown in WeChat; the store's warehouse address (else the company's) when empty.",
    )
    wechat_store_phone = fields.Char(
        "Store Phone", groups=STORE_MANAGER, help="Shown in WeChat; the store address's phone when empty."
    )
    wechat_store_warning = fields.Char(compute="_compute_wechat_store_warning", groups=STORE_MANAGER)

    _sql_constraints = [
        (
            "wechat_store_hours",
            "CHECK(wechat_open_time >= 0 AND wechat_open_time < 24 AND wechat_close_time >= 0 "
            "AND wechat_close_time <= 24)",
            "Opening hours are times of the day, between 00:00 and 24:00.",
        ),
    ]

    @api.constrains("wechat_latitude", "wechat_longitude")
    def _check_wechat_coordinates(self):
        for config in self:
            if not (-90 <= config.wechat_latitude <= 90 and -180 <= config.wechat_longitude <= 180):
                raise ValidationError(
                    _(
                        "The coordinates of %(store)s are not on Earth: a latitude is between -90 and 90, a "
                        "longitude between -180 and 180.",
                        store=config.name,
                    )
                )

    @api.depends("wechat_account_id", "wechat_store_published", "wechat_latitude", "wechat_longitude")
    def _compute_wechat_store_warning(self):
        for config in self:
            missing = config.wechat_account_id and config.wechat_store_published and not config._wechat_located()
            config.wechat_store_warning = (
                _(
                    "This store has no coordinates: WeChat members are not shown it among the nearest stores. Enter "
                    "its latitude and longitude (e.g. from Tencent Maps or AMap)."
                )
                if missing
                else False
            )

    def _wechat_located(self):
        self.ensure_one()
        return bool(self.wechat_latitude or self.wechat_longitude)

    def _wechat_address_partner(self):
        """Where the store is when it says nothing itself: its warehouse's address (Inventory), else its
        company's."""
        self.ensure_one()
        return self.sudo().picking_type_id.warehouse_id.partner_id or self.sudo().company_id.partner_id

    def _wechat_store_phone(self):
        self.ensure_one()
        return self.wechat_store_phone or self._wechat_address_partner().phone or ""

    def _wechat_hours_text(self):
        self.ensure_one()
        if self.wechat_open_time == self.wechat_close_time:
            return _("open 24 hours")
        return f"{format_hour(self.wechat_open_time)}–{format_hour(self.wechat_close_time)}"

    def _wechat_is_open(self, now=None):
        """Whether the store is open at ``now`` (UTC, naive; default the current time), in the shop's time."""
        self.ensure_one()
        local = self.company_id._wechat_now(now)
        hour = local.hour + local.minute / 60
        opens, closes = self.wechat_open_time, self.wechat_close_time
        if opens == closes:
            return True  # open around the clock
        if opens < closes:
            return opens <= hour < closes
        return hour >= opens or hour < closes  # past midnight

    def _wechat_store_url(self):
        self.ensure_one()
        account = self.sudo().wechat_account_id
        return f"{account.get_base_url()}/wechat/store/{account.id}/{self.id}"

    @api.model
    def _wechat_stores(self, account):
        """The stores of ``account`` members can find in WeChat."""
        return (
            self.sudo()
            .with_company(account.company_id)
            .search(
                [
                    ("wechat_account_id", "=", account.id),
                    ("wechat_store_published", "=", True),
                    ("active", "=", True),
                ],
                order="name, id",
            )
        )

    @api.model
    def _wechat_by_distance(self, account, latitude, longitude, now=None):
        """``[(store, km, open now)]``: the located stores of ``account``, nearest first."""
        rows = [
            (store, distance_km(latitude, longitude, store.wechat_latitude, store.wechat_longitude))
            for store in self._wechat_stores(account)
            if store._wechat_located()
        ]
        rows.sort(key=lambda row: (row[1], row[0].id))
        return [(store, km, store._wechat_is_open(now)) for store, km in rows]

    @api.model
    def _wechat_nearest(self, account, latitude, longitude, now=None, limit=NEAREST_STORES):
        """The ``limit`` nearest stores open now; the nearest ones, closed, when none is open."""
        rows = self._wechat_by_distance(account, latitude, longitude, now)
        return [row for row in rows if row[2]][:limit] or rows[:limit]

    @api.model
    def _wechat_distance_text(self, km):
        if km < 1:
            return _("%(meters)s m", meters=int(round(km * 1000, -1)))
        return _("%(km)s km", km=format(km, ".1f"))

    @api.model
    def _wechat_nearest_text(self, account, latitude, longitude, now=None):
        """The text answered to a member's location: the nearest stores, with distance, hours and a link."""
        rows = self._wechat_nearest(account, latitude, longitude, now)
        if not rows:
            return _(
                "We could not find a store near you yet. See all our stores: %(link)s",
                link=self._wechat_all_link(account),
            )
        lines = [_("Our stores nearest to you:")]
        for index, (store, km, is_open) in enumerate(rows, 1):
            state = _("open now") if is_open else _("closed now")
            lines.append(
                _(
                    "%(index)s. %(store)s · %(distance)s · %(state)s %(hours)s",
                    index=index,
                    store=store.name,
                    distance=self._wechat_distance_text(km),
                    state=state,
                    hours=store._wechat_hours_text(),
                )
            )
            details = " · ".join(
                part for part in (store._wechat_store_address(phone=False), store._wechat_store_phone()) if part
            )
            if details:
                lines.append(details)
            label = _("Store page and directions")
            lines.append(f'<a href="{store._wechat_store_url()}">{label}</a>')
        return "\n".join(lines)

    @api.model
    def _wechat_all_link(self, account):
        label = _("Our stores")
        return f'<a href="{account.get_base_url()}/wechat/stores/{account.id}">{label}</a>'

    def _wechat_store_address(self, phone=True):
        """The store's address on one line (and its phone): its own, else its warehouse's or company's."""
        self.ensure_one()
        if self.wechat_address:
            parts = [self.wechat_address]
        else:
            partner = self._wechat_address_partner()
            parts = [partner.state_id.name, partner.city, partner.street, partner.street2]
        if phone:
            parts.append(self._wechat_store_phone())
        return ", ".join(part for part in parts if part)

    def _compute_wechat_follow(self):
        Channel = self.env["wechat.qr.channel"].sudo()
        channels = Channel.search([("pos_config_id", "in", self.ids), ("qr_image", "!=", False)], order="sequence, id")
        for config in self:
            mine = channels.filtered(lambda c, cfg=config: c.pos_config_id.id == cfg.id)
            account = config.sudo().wechat_account_id
            channel = mine.filtered(lambda c, a=account: c.account_id == a)[:1] if account else mine[:1]
            config.wechat_follow_channel_id = channel
            config.wechat_follow_qr = "data:image/png;base64," + channel.qr_image.decode() if channel else False

    @api.model
    def _load_pos_data_fields(self, config_id):
        params = super()._load_pos_data_fields(config_id)
        if params:  # an empty list loads every field
            params += ["wechat_account_id", "wechat_follow_qr"]
        return params

    # ------------------------------------------------------------------ bookings in WeChat
    def _wechat_opening_spans(self, day):
        """``(opens, closes)`` of local ``day`` (a date) as naive UTC datetimes, in the shop's time zone."""
        self.ensure_one()
        tz = self.company_id._wechat_tz()

        def at(hours, plus_days=0):
            minutes = round(hours * 60)
            local = datetime.combine(day + timedelta(days=plus_days), time()) + timedelta(minutes=minutes)
            return tz.localize(local).astimezone(pytz.utc).replace(tzinfo=None)

        opens, closes = self.wechat_open_time, self.wechat_close_time
        if opens == closes:
            return at(0.0), at(0.0, 1)
        return at(opens), at(closes, 0 if closes > opens else 1)

    def _wechat_booking_slots(self, template, now=None, days=BOOKING_DAYS):
        """The slots members may book ``template`` in this store: ``[(start, end)]`` (naive UTC), the days
        ahead from the shop's today.  An appointment: slots of ``wechat_slot_minutes`` from the opening; a
        pick-up: the opening hours of each day.  Slots starting within ``BOOKING_LEAD`` are not offered (a
        pick-up day until its closing)."""
        self.ensure_one()
        now = now or fields.Datetime.now()
        today = self.company_id._wechat_today(now)
        slots = []
        for offset in range(-1, days):  # yesterday's opening still runs tonight when the store closes past midnight
            opens, closes = self._wechat_opening_spans(today + timedelta(days=offset))
            if closes <= now:
                continue
            if template.wechat_booking_kind == "pickup":
                if closes - BOOKING_LEAD > now:
                    slots.append((opens, closes))
                continue
            length = timedelta(minutes=template.wechat_slot_minutes)
            start = opens
            while start + length <= closes:
                if start >= now + BOOKING_LEAD:
                    slots.append((start, start + length))
                start += length
        return slots

    def _wechat_preorder_pay_method(self):
        """The store's WeChat Pay method members pay bookings with (APIv2 JSAPI), or an empty recordset."""
        self.ensure_one()
        account = self.sudo().wechat_account_id
        return self.sudo().payment_method_ids.filtered(
            lambda m: m.use_payment_terminal == "wechat_pay"
            and m.wechat_account_id == account
            and m.wechat_pay_api_version == "v2"
        )[:1]
