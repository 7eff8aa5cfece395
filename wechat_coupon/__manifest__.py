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
        "security/ir.model.access.csv",
        "security/wechat_coupon_security.xml",
        "data/wechat_notice_kind_data.xml",
        "data/ir_cron_data.xml",
        "data/wechat_member_level_data.xml",
        "wizard/wechat_coupon_issue_wizard_views.xml",
        "views/wechat_coupon_campaign_views.xml",
        "views/wechat_coupon_automation_views.xml",
        "views/coupon_wallet_templates.xml",
        "views/wechat_member_level_views.xml",
        "views/member_page_level_templates.xml",
        "views/wechat_coupon_menus.xml",
        "wizard/wechat_member_import_views.xml",
    ],
    "demo": [
        "demo/wechat_coupon_demo.xml",
        "demo/wechat_level_demo.xml",
    ],
    "assets": {
        "point_of_sale._assets_pos": [
            "wechat_coupon/static/src/**/*",
        ],
        "web.assets_tests": [
            "wechat_coupon/static/tests/tours/**/*",
        ],
    },
}
