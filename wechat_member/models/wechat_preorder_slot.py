"""The places taken in one store's time slot (or pick-up day) of one product: ``wechat.preorder.slot``.

A booking takes its places in one statement: the row of the slot is created
if missing (``INSERT … ON CONFLICT DO NOTHING``), then ``booked`` grows only
while it stays within the capacity (a guarded ``UPDATE … RETURNING``).  Two
members taking the last place at once: the second update waits for the
first, then finds the slot full.
"""

from odoo import fields, models


class WeChatPreorderSlot(models.Model):
    _name = "wechat.preorder.slot"
    _description = "WeChat Booking Slot"
    _order = "start desc, id"

    config_id = fields.Many2one("pos.config", string="Store", required=True, readonly=True, ondelete="cascade")
    product_tmpl_id = fields.Many2one(
        "product.template", string="Product", required=True, readonly=True, ondelete="cascade"
    )
    start = fields.Datetime(required=True, readonly=True)
    end = fields.Datetime(required=True, readonly=True)
    booked = fields.Integer(readonly=True, help="Places taken by bookings waiting for payment, paid or collected.")
    company_id = fields.Many2one(related="config_id.company_id", store=True)

    _sql_constraints = [
        ("slot_uniq", "UNIQUE(config_id, product_tmpl_id, start)", "One row per store, product and slot."),
        ("booked_positive", "CHECK(booked >= 0)", "A slot cannot have fewer than no places taken."),
    ]

    def _reserve(self, config, template, start, end, qty):
        """Take ``qty`` places of ``template``'s slot ``start`` in ``config``: the slot, or an empty recordset
        when too few places are left."""
        self.env.flush_all()
        cr = self.env.cr
        cr.execute(
            """INSERT INTO wechat_preorder_slot (config_id, product_tmpl_id, start, "end", booked, company_id,
                                                 create_uid, write_uid, create_date, write_date)
               SELECT %s, %s, %s, %s, 0, c.company_id, %s, %s, now() at time zone 'UTC', now() at time zone 'UTC'
                 FROM pos_config c WHERE c.id = %s
               ON CONFLICT (config_id, product_tmpl_id, start) DO NOTHING""",
            [config.id, template.id, start, end, self.env.uid, self.env.uid, config.id],
        )
        cr.execute(
            """UPDATE wechat_preorder_slot SET booked = booked + %s
                WHERE config_id = %s AND product_tmpl_id = %s AND start = %s AND booked + %s <= %s
            RETURNING id""",
            [qty, config.id, template.id, start, qty, template.wechat_slot_capacity],
        )
        row = cr.fetchone()
        slot = self.browse(row[0] if row else [])
        slot.invalidate_recordset(["booked"])
        return slot

    def _release(self, qty):
        """Give ``qty`` places back (a booking expired, cancelled)."""
        for slot in self:
            self.env.cr.execute(
                "UPDATE wechat_preorder_slot SET booked = GREATEST(booked - %s, 0) WHERE id = %s", [qty, slot.id]
            )
        self.invalidate_recordset(["booked"])

    def _booked(self, config, template, starts):
        """``{start: places taken}`` of ``template`` in ``config`` for the slots starting at ``starts``."""
        if not starts:
            return {}
        rows = self.search_read(
            [("config_id", "=", config.id), ("product_tmpl_id", "=", template.id), ("start", "in", list(starts))],
            ["start", "booked"],
        )
        return {row["start"]: row["booked"] for row in rows}
