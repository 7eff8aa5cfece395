from odoo import _, models
from odoo.exceptions import UserError

# What WeChat takes as an image message (temporary media): JPG, PNG, GIF or BMP up to 10 MB.
IMAGE_MIMETYPES = ("image/jpeg", "image/png", "image/gif", "image/bmp")
IMAGE_MAX_SIZE = 10 * 1024 * 1024


class IrAttachment(models.Model):
    _inherit = "ir.attachment"

    def _wechat_media_id(self, account):
        """The ``media_id`` of this image on ``account`` (uploaded with ``media/upload``, cached 3 days)."""
        self.ensure_one()
        attachment = self.sudo()
        if attachment.mimetype not in IMAGE_MIMETYPES:
            raise UserError(_("WeChat takes JPG, PNG, GIF or BMP images; %(name)s is not one.", name=attachment.name))
        if attachment.file_size > IMAGE_MAX_SIZE:
            raise UserError(_("WeChat takes images up to 10 MB; %(name)s is larger.", name=attachment.name))
        Media = self.env["wechat.media"]
        media_id = Media._cached(account, attachment.checksum, "image")
        if media_id:
            return media_id
        answer = account._api().media_upload("image", attachment.name, attachment.raw, attachment.mimetype)
        media_id = answer["media_id"]
        Media._store(account, attachment.checksum, "image", media_id)
        return media_id
