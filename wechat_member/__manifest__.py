{
    "name": "WeChat Member Marketing",
    "summary": "WeChat service account members, signed webhook, QR channels and "
    "member capture for Odoo Point of Sale",
    "version": "18.0.1.0.0",
    "development_status": "Beta",
    "category": "Marketing/WeChat",
    "website": "https://github.com/wechat-member-marketing/odoo-wechat",
    "author": "WeChat Member Marketing contributors",
    "maintainers": [],
    "license": "LGPL-3",
    "installable": True,
    "application": True,
    "depends": ["point_of_sale", "mail"],
    "external_dependencies": {
        "python": ["wechatpy", "qrcode", "requests", "defusedxml", "cryptography"],
    },
    "data": [
        "security/wechat_member_security.xml",
        "security/ir.model.access.csv",
        "data/ir_sequence_data.xml",
        "data/ir_cron_data.xml",
        "data/wechat_reply_rule_data.xml",
        "report/wechat_qr_channel_reports.xml",
        "views/wechat_account_views.xml",
        "views/wechat_member_views.xml",
        "views/wechat_qr_channel_views.xml",
        "views/wechat_reply_rule_views.xml",
        "views/wechat_event_views.xml",
        "views/wechat_tag_views.xml",
        "views/wechat_segment_views.xml",
        "views/wechat_campaign_views.xml",
        "views/res_partner_views.xml",
        "views/pos_payment_method_views.xml",
        "views/member_page_templates.xml",
        "views/wechat_member_menus.xml",
    ],
    "demo": [
        "demo/wechat_member_demo.xml",
    ],
    "assets": {
        "point_of_sale._assets_pos": [
            "wechat_member/static/src/**/*",
        ],
        "web.assets_tests": [
            "wechat_member/static/tests/tours/**/*",
        ],
    },
}
