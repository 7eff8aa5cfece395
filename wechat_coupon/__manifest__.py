{
    "name": "WeChat Coupons",
    "summary": "Coupon campaigns on Odoo loyalty for WeChat members: wallet, forward to a friend, "
    "redemption at the till",
    "version": "18.0.1.0.0",
    "development_status": "Alpha",
    "category": "Marketing/WeChat",
    "website": "https://github.com/wechat-member-marketing/odoo-wechat",
    "author": "WeChat Member Marketing contributors",
    "maintainers": [],
    "license": "LGPL-3",
    "installable": True,
    "depends": ["wechat_member", "pos_loyalty"],
    "data": [
        "views/wechat_coupon_menus.xml",
    ],
}
