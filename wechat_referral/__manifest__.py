{
    "name": "WeChat Referrals",
    "summary": "Member referral QR codes and links, loyalty points after the friend's first purchase",
    "version": "18.0.1.0.0",
    "development_status": "Alpha",
    "category": "Marketing/WeChat",
    "website": "https://github.com/wechat-member-marketing/odoo-wechat",
    "author": "WeChat Member Marketing contributors",
    "maintainers": [],
    "license": "LGPL-3",
    "installable": True,
    "depends": ["wechat_member", "loyalty"],
    "data": [
        "views/wechat_referral_menus.xml",
    ],
}
