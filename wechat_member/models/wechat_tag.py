import logging

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..tools.wechat_api import WeChatError

_logger = logging.getLogger(__name__)

MAX_TAGS_PER_ACCOUNT = 100
MAX_TAGS_PER_MEMBER = 20
BATCH = 50  # tags/members/batchtagging takes at most 50 openids
PAGE = 200 * BATCH  # pending members read from the database at a time (a multiple of BATCH)

# The members whose WeChat tag is to be added (followers Odoo wants, WeChat does not have) or removed (WeChat
# has, Odoo no longer wants), after member ``after``, in id order: ``(member id, openid)``.  The bound is
# repeated in the NOT EXISTS: PostgreSQL's anti-join then starts at it instead of scanning the tag's synced
# members from the first at every page.
_TO_TAG_SQL = """
    SELECT m.id, m.openid
      FROM wechat_member_tag_rel r
      JOIN wechat_member m ON m.id = r.member_id
     WHERE r.tag_id = %(tag)s AND r.member_id > %(after)s AND m.state = 'follower'
       AND NOT EXISTS (SELECT 1 FROM wechat_member_tag_synced_rel s
                        WHERE s.tag_id = r.tag_id AND s.member_id = r.member_id AND s.member_id > %(after)s)
     ORDER BY r.member_id
     LIMIT %(limit)s
"""
_TO_UNTAG_SQL = """
    SELECT m.id, m.openid
      FROM wechat_member_tag_synced_rel s
      JOIN wechat_member m ON m.id = s.member_id
     WHERE s.tag_id = %(tag)s AND s.member_id > %(after)s
       AND NOT EXISTS (SELECT 1 FROM wechat_member_tag_rel r
                        WHERE r.tag_id = s.tag_id AND r.member_id = s.member_id AND r.member_id > %(after)s)
     ORDER BY s.member_id
     LIMIT %(limit)s
"""
RESERVED_TAG_IDS = (0, 1, 2)


class WeChatTag(models.Model):
    """A member tag, mirrored as a WeChat user tag (标签) of its account.

    ``member_ids`` is what Odoo wants; ``synced_member_ids`` is what WeChat
    has.  A sync sends the difference in batches of 50 and records each
    batch as it succeeds, so a sync stopped by an error resumes where it
    stopped.
    """

    _name = "wechat.tag"
    _description = "WeChat Member Tag"
    _order = "name"
    _check_company_auto = True

    name = fields.Char(required=True)
    account_id = fields.Many2one("wechat.account", required=True, ondelete="cascade", index=True, check_company=True)
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    color = fields.Integer()
    wechat_tag_id = fields.Integer("WeChat Tag ID", readonly=True, copy=False)
    category_id = fields.Many2one(
        "res.partner.category",
        string="Contact Tag",
        ondelete="set null",
        help="Contacts with this Odoo tag get the WeChat tag too (when synced).",
    )
    member_ids = fields.Many2many("wechat.member", "wechat_member_tag_rel", "tag_id", "member_id", string="Members")
    synced_member_ids = fields.Many2many(
        "wechat.member",
        "wechat_member_tag_synced_rel",
        "tag_id",
        "member_id",
        string="Members on WeChat",
        readonly=True,
    )
    member_count = fields.Integer(compute="_compute_member_count")
    pending_count = fields.Integer("To Sync", compute="_compute_member_count")
    sync_error = fields.Char(readonly=True)

    _sql_constraints = [
        ("account_name_uniq", "UNIQUE(account_id, name)", "A tag with this name already exists on this account."),
    ]

    @api.depends("member_ids", "synced_member_ids")
    def _compute_member_count(self):
        """Counted in SQL for stored tags (a tag can have a million members); in memory for a form's draft."""
        stored = self.filtered(lambda t: isinstance(t.id, int))
        counts = {}
        if stored:
            self.env["wechat.member"].flush_model(["state"])
            self.flush_recordset(["member_ids", "synced_member_ids"])
            self.env.cr.execute(
                """
                SELECT t.id,
                       (SELECT count(*) FROM wechat_member_tag_rel r WHERE r.tag_id = t.id),
                       (SELECT count(*) FROM wechat_member_tag_rel r JOIN wechat_member m ON m.id = r.member_id
                         WHERE r.tag_id = t.id AND m.state = 'follower'
                           AND NOT EXISTS (SELECT 1 FROM wechat_member_tag_synced_rel s
                                            WHERE s.tag_id = r.tag_id AND s.member_id = r.member_id))
                     + (SELECT count(*) FROM wechat_member_tag_synced_rel s
                         WHERE s.tag_id = t.id
                           AND NOT EXISTS (SELECT 1 FROM wechat_member_tag_rel r
                                            WHERE r.tag_id = s.tag_id AND r.member_id = s.member_id))
                  FROM unnest(%s::int[]) AS t(id)
                """,
                [stored.ids],
            )
            counts = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        for tag in self:
            if tag in stored:
                tag.member_count, tag.pending_count = counts.get(tag.id, (0, 0))
                continue
            tag.member_count = len(tag.member_ids)
            followers = tag.member_ids.filtered(lambda m: m.state == "follower")
            tag.pending_count = len(followers - tag.synced_member_ids) + len(tag.synced_member_ids - tag.member_ids)

    @api.constrains("name")
    def _check_name(self):
        for tag in self:
            if not tag.name.strip() or len(tag.name.encode()) > 30:
                raise ValidationError(_("A WeChat tag name has 1 to 30 bytes (10 Chinese characters)."))

    @api.constrains("account_id")
    def _check_tag_count(self):
        for account in self.account_id:
            if self.search_count([("account_id", "=", account.id)]) > MAX_TAGS_PER_ACCOUNT:
                raise ValidationError(
                    _(
                        "%(account)s already has %(max)s tags, WeChat's limit.",
                        account=account.name,
                        max=MAX_TAGS_PER_ACCOUNT,
                    )
                )

    @api.constrains("member_ids")
    def _check_tags_per_member(self):
        members = self.member_ids
        if not members:
            return
        self.env.cr.execute(
            """
            SELECT member_id FROM wechat_member_tag_rel WHERE member_id = ANY(%s)
             GROUP BY member_id HAVING count(*) > %s LIMIT 1
            """,
            [members.ids, MAX_TAGS_PER_MEMBER],
        )
        row = self.env.cr.fetchone()
        if row:
            raise ValidationError(
                _(
                    "%(member)s would have more than %(max)s tags, WeChat's limit.",
                    member=self.env["wechat.member"].browse(row[0]).display_name,
                    max=MAX_TAGS_PER_MEMBER,
                )
            )

    # ------------------------------------------------------------------ Odoo -> WeChat
    def _ensure_wechat_tag(self):
        """Create the tag on WeChat (or find it by name) and remember its id."""
        self.ensure_one()
        if self.wechat_tag_id:
            return self.wechat_tag_id
        api_client = self.account_id._api()
        try:
            res = api_client.post("tags/create", {"tag": {"name": self.name}})
            self.wechat_tag_id = res["tag"]["id"]
        except WeChatError as exc:
            if exc.errcode != 45157:  # name already used on WeChat: adopt that tag
                raise
            existing = {t["name"]: t["id"] for t in api_client.get("tags/get").get("tags", [])}
            if self.name not in existing:
                raise
            self.wechat_tag_id = existing[self.name]
        return self.wechat_tag_id

    def _sync_members(self):
        """Send the membership difference in batches of 50; returns the number of WeChat calls.

        The pending members are read a page at a time (``PAGE``, a multiple
        of 50: every call but each direction's last carries 50 openids), in
        id order; the batches WeChat accepted are recorded at the end of each
        page, and before an error propagates.
        """
        self.ensure_one()
        tag_id = self._ensure_wechat_tag()
        api_client = self.account_id._api()
        self.env["wechat.member"].flush_model(["state", "openid"])
        self.flush_recordset(["member_ids", "synced_member_ids"])
        cr = self.env.cr
        calls = 0
        for path, query, record in (
            ("tags/members/batchtagging", _TO_TAG_SQL, self._record_synced),
            ("tags/members/batchuntagging", _TO_UNTAG_SQL, self._record_unsynced),
        ):
            after = 0
            while True:
                cr.execute(query, {"tag": self.id, "after": after, "limit": PAGE})
                rows = cr.fetchall()
                if not rows:
                    break
                done = []
                try:
                    for start in range(0, len(rows), BATCH):
                        batch = rows[start : start + BATCH]
                        api_client.post(path, {"openid_list": [openid for __, openid in batch], "tagid": tag_id})
                        calls += 1
                        done += [member_id for member_id, __ in batch]
                finally:
                    record(done)
                after = rows[-1][0]
        return calls

    def _record_synced(self, member_ids):
        """WeChat has the tag on ``member_ids`` now."""
        if member_ids:
            self.env.cr.execute(
                """
                INSERT INTO wechat_member_tag_synced_rel (tag_id, member_id)
                SELECT %s, unnest(%s::int[])
                ON CONFLICT DO NOTHING
                """,
                [self.id, member_ids],
            )
            self.invalidate_recordset(["synced_member_ids", "member_count", "pending_count"])

    def _record_unsynced(self, member_ids):
        """WeChat no longer has the tag on ``member_ids``."""
        if member_ids:
            self.env.cr.execute(
                "DELETE FROM wechat_member_tag_synced_rel WHERE tag_id = %s AND member_id = ANY(%s)",
                [self.id, member_ids],
            )
            self.invalidate_recordset(["synced_member_ids", "member_count", "pending_count"])

    def action_sync_to_wechat(self):
        """Push tags and their members to WeChat.

        Each batch WeChat accepted is recorded and kept even when a later one
        fails: the error is shown and stored on the tag, and the next sync
        resumes with what is left.
        """
        calls, errors = 0, []
        for tag in self:
            try:
                calls += tag._sync_members()
                tag.sync_error = False
            except WeChatError as exc:
                tag.sync_error = str(exc)
                errors.append(f"{tag.name}: {exc}")
        if errors:
            message = _(
                "Some tags could not be synced; run the sync again to resume:\n%(errors)s", errors="\n".join(errors)
            )
        else:
            message = _("Tags synced (%(calls)s calls to WeChat).", calls=calls)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"type": "warning" if errors else "success", "message": message, "sticky": bool(errors)},
        }

    def unlink(self):
        for tag in self.filtered("wechat_tag_id"):
            if tag.wechat_tag_id in RESERVED_TAG_IDS:
                continue
            try:
                tag.account_id._api().post("tags/delete", {"tag": {"id": tag.wechat_tag_id}})
            except WeChatError as exc:
                if exc.errcode != 45159:  # already gone on WeChat
                    raise
        return super().unlink()

    @api.model
    def _cron_sync(self):
        """Push the tags whose members changed (automatic tagging queues this), a tag a call.

        ``ir.cron`` commits each tag and calls again while tags remain; the
        tags whose last sync failed come last, all in one call, so that a run
        tries them once.
        """
        tags = self.search([], order="id").filtered("pending_count")
        clean = tags.filtered(lambda t: not t.sync_error)
        todo = clean[:1] or tags
        for tag in todo:
            tag.action_sync_to_wechat()
        self.env["ir.cron"]._notify_progress(done=len(todo), remaining=len(tags - todo) if clean else 0)
        return True

    # ------------------------------------------------------------------ WeChat -> Odoo
    @api.model
    def _sync_from_wechat(self, account):
        """Import the account's WeChat tags and their followers (who become members)."""
        api_client = account._api()
        Member = self.env["wechat.member"]
        for info in api_client.get("tags/get").get("tags", []):
            if info["id"] in RESERVED_TAG_IDS:
                continue
            tag = self.search(
                [("account_id", "=", account.id), ("wechat_tag_id", "=", info["id"])], limit=1
            ) or self.search([("account_id", "=", account.id), ("name", "=", info["name"])], limit=1)
            if not tag:
                tag = self.create({"name": info["name"], "account_id": account.id, "wechat_tag_id": info["id"]})
            tag.wechat_tag_id = info["id"]
            openids, next_openid = [], ""
            while True:
                res = api_client.post("user/tag/get", {"tagid": info["id"], "next_openid": next_openid})
                page = (res.get("data") or {}).get("openid", [])
                openids += page
                next_openid = res.get("next_openid") or ""
                if not page or not next_openid:
                    break
            members = Member.browse([Member._get_or_create(account, o)[0].id for o in openids])
            tag.write({"member_ids": [(4, m.id) for m in members], "synced_member_ids": [(4, m.id) for m in members]})
        return True
