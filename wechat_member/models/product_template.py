from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

BOOKING_KINDS = [
    ("pickup", "Reserve and collect"),
    ("appointment", "Appointment"),
]


class ProductTemplate(models.Model):
    _inherit = "product.template"

    wechat_orderable = fields.Boolean(
        "Orderable in WeChat",
        help="Members book it on the booking page inside WeChat, pay it with WeChat Pay and collect it (or come "
        "for the appointment) in the store they chose.",
    )
    wechat_booking_kind = fields.Selection(
        BOOKING_KINDS,
        string="Booking",
        default="pickup",
        required=True,
        help="Reserve and collect: the member picks a store and a day to collect it. Appointment: the member "
        "picks a store and a time slot (a service such as a fitting or a beauty treatment).",
    )
    wechat_slot_minutes = fields.Integer(
        "Slot Length (minutes)", default=60, help="Appointments: the length of a time slot, from the store's opening."
    )
    wechat_slot_capacity = fields.Integer(
        "Capacity per Store",
        default=5,
        help="How many can be booked in each store: per time slot for an appointment, per day for a pick-up.",
    )

    @api.constrains("wechat_orderable", "wechat_slot_minutes", "wechat_slot_capacity", "list_price")
    def _check_wechat_booking(self):
        for template in self.filtered("wechat_orderable"):
            if template.wechat_slot_capacity < 1:
                raise ValidationError(_("A product orderable in WeChat needs a capacity of at least 1."))
            if not 15 <= template.wechat_slot_minutes <= 480:
                raise ValidationError(_("A time slot lasts between 15 minutes and 8 hours."))
            if template.list_price <= 0:
                raise ValidationError(
                    _("%(product)s needs a sales price to be paid in WeChat.", product=template.display_name)
                )

    def _wechat_booked_variant(self):
        """The variant a booking of this product sells (its first one)."""
        self.ensure_one()
        return self.sudo().with_context(active_test=True).product_variant_ids[:1]
