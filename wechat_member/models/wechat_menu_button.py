from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

LOCATION_SELECT_KEY = "WECHAT_NEAREST_STORES"


class WeChatMenuButton(models.Model):
    """A button of the account's custom menu (at most 3 top buttons of 5 sub-buttons)."""

    _name = "wechat.menu.button"
    _description = "WeChat Custom Menu Button"
    _order = "sequence, id"

    account_id = fields.Many2one("wechat.account", required=True, ondelete="cascade")
    parent_id = fields.Many2one("wechat.menu.button", ondelete="cascade", domain="[('account_id', '=', account_id)]")
    child_ids = fields.One2many("wechat.menu.button", "parent_id")
    sequence = fields.Integer(default=10)
    name = fields.Char(required=True, translate=True)
    button_type = fields.Selection(
        [
            ("click", "Click (reply rule)"),
            ("view", "Open a page"),
            ("member_page", "Member page"),
            ("location_select", "Nearest stores (the member sends a location)"),
        ],
        string="Type",
        default="click",
        required=True,
    )
    key = fields.Char(help="The key sent back by a Click button; match it in a reply rule.")
    url = fields.Char("URL")

    @api.constrains("parent_id", "account_id", "name", "button_type", "key", "url")
    def _check_menu(self):
        for button in self:
            siblings = button.account_id.menu_button_ids.filtered(lambda b, p=button.parent_id: b.parent_id == p)
            if not button.parent_id and len(siblings) > 3:
                raise ValidationError(_("A WeChat menu has at most 3 top buttons."))
            if button.parent_id and len(siblings) > 5:
                raise ValidationError(_("A WeChat menu button has at most 5 sub-buttons."))
            if button.parent_id.parent_id:
                raise ValidationError(_("WeChat menus have two levels only."))
            if len((button.name or "").encode()) > (60 if button.parent_id else 16):
                raise ValidationError(_("The menu name %(name)s is too long for WeChat.", name=button.name))
            if button.button_type == "click" and not button.key and not button.child_ids:
                raise ValidationError(_("The Click button %(name)s needs a key.", name=button.name))
            if button.button_type == "view" and not button.url and not button.child_ids:
                raise ValidationError(_("The button %(name)s needs a URL.", name=button.name))

    def _to_wechat(self):
        self.ensure_one()
        if self.child_ids:
            return {"name": self.name, "sub_button": [child._to_wechat() for child in self.child_ids]}
        if self.button_type == "click":
            return {"type": "click", "name": self.name, "key": self.key}
        if self.button_type == "location_select":
            # WeChat opens its map; the location picked is answered with the nearest stores.
            return {"type": "location_select", "name": self.name, "key": self.key or LOCATION_SELECT_KEY}
        url = self.url if self.button_type == "view" else self.account_id._member_page_url()
        return {"type": "view", "name": self.name, "url": url}
