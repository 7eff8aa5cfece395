import json

import psycopg2

from odoo import _, fields, models

from ..tools.wechat_api import WeChatError


class WeChatCampaignChunk(models.Model):
    _name = "wechat.campaign.chunk"
    _description = "WeChat Campaign Chunk"
    _order = "campaign_id, sequence"

    campaign_id = fields.Many2one("wechat.campaign", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer(required=True)
    state = fields.Selection(
        [("pending", "Pending"), ("sent", "Sent"), ("failed", "Failed")], default="pending", required=True, index=True
    )
    by_tag = fields.Boolean("Sent by Tag")
    clientmsgid = fields.Char(required=True, index=True)
    member_count = fields.Integer("Recipients")
    msg_id = fields.Char("WeChat msg_id", index=True)
    wechat_status = fields.Char("WeChat Status")
    total_count = fields.Integer()
    filter_count = fields.Integer()
    sent_count = fields.Integer()
    error_count = fields.Integer()
    error = fields.Text()

    _sql_constraints = [("clientmsgid_uniq", "UNIQUE(clientmsgid)", "A campaign chunk is sent once.")]

    def _lock_pending(self, limit=1):
        """The first ``limit`` pending chunks of these, locked for this transaction (``SKIP LOCKED``:
        never one another sender holds, nor one changed since this transaction began)."""
        if not self:
            return self
        self.env.flush_all()
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    """
                    SELECT id FROM wechat_campaign_chunk WHERE id = ANY(%s) AND state = 'pending'
                     ORDER BY campaign_id, sequence LIMIT %s FOR NO KEY UPDATE SKIP LOCKED
                    """,
                    [self.ids, limit],
                )
                return self.browse([row[0] for row in self.env.cr.fetchall()])
        except psycopg2.errors.SerializationFailure:
            return self.browse()

    def _send(self):
        self.ensure_one()
        campaign = self.campaign_id
        payload = dict(campaign._message_payload(), clientmsgid=self.clientmsgid)
        members = self.env["wechat.campaign.recipient"].search([("chunk_id", "=", self.id)]).member_id
        api_client = campaign.account_id._api()
        try:
            if self.by_tag:
                tag_id = campaign.tag_id._ensure_wechat_tag()
                res = api_client.post(
                    "message/mass/sendall", dict(payload, filter={"is_to_all": False, "tag_id": tag_id})
                )
            else:
                res = api_client.post("message/mass/send", dict(payload, touser=members.mapped("openid")))
        except WeChatError as exc:
            if exc.errcode != 45065 or not exc.data.get("msg_id"):
                raise
            # Already sent with this clientmsgid: WeChat gives back its msg_id, but that alone does not
            # prove the send reached its recipients: ask WeChat (mass/get) before marking them sent.
            res = exc.data
            status = self._confirm_sent(api_client, str(res["msg_id"]))
            if status not in ("SEND_SUCCESS", "SENDING"):
                raise WeChatError(
                    45065,
                    _("WeChat reports the earlier send of this chunk as %(status)s.", status=status or _("unknown")),
                    self.env,
                ) from exc
        self.write({"state": "sent", "msg_id": str(res.get("msg_id")), "error": False})
        self.env["wechat.message.log"]._log(campaign.account_id, members.ids, "mass", campaign=campaign)

    def _confirm_sent(self, api_client, msg_id):
        """WeChat's status of mass send ``msg_id``: the job-finish event we stored, else ``mass/get``."""
        event = self.env["wechat.event"].search(
            [("mass_msg_id", "=", msg_id), ("account_id", "=", self.campaign_id.account_id.id)], limit=1
        )
        if event:
            status = json.loads(event.payload or "{}").get("Status", "")
            return "SEND_SUCCESS" if status == "send success" else "SEND_FAIL"
        try:
            return api_client.post("message/mass/get", {"msg_id": msg_id}).get("msg_status")
        except WeChatError:
            return None

    def _apply_stored_job_result(self):
        """Apply a MASSSENDJOBFINISH that arrived before this chunk's msg_id was committed."""
        for chunk in self.filtered(lambda c: c.msg_id and not c.wechat_status):
            event = self.env["wechat.event"].search(
                [("mass_msg_id", "=", chunk.msg_id), ("account_id", "=", chunk.campaign_id.account_id.id)], limit=1
            )
            if event:
                chunk._apply_job_result(json.loads(event.payload or "{}"))

    def _apply_job_result(self, msg):
        for key, field in (
            ("TotalCount", "total_count"),
            ("FilterCount", "filter_count"),
            ("SentCount", "sent_count"),
            ("ErrorCount", "error_count"),
        ):
            try:
                self[field] = int(msg.get(key) or 0)
            except ValueError:
                continue
        self.wechat_status = msg.get("Status")
