-- a copied database talks to the sandbox, never to the real WeChat account
UPDATE wechat_account
   SET sandbox = true,
       access_token = NULL,
       token_expires_at = NULL,
       jsapi_ticket = NULL,
       jsapi_ticket_expires_at = NULL;

-- stop the campaign, notice, digest and tag sync crons (they message members or change their WeChat tags)
UPDATE ir_cron
   SET active = false
 WHERE id IN (
       SELECT res_id
         FROM ir_model_data
        WHERE model = 'ir.cron'
          AND module = 'wechat_member'
          AND name IN ('ir_cron_wechat_campaigns', 'ir_cron_wechat_notice_send', 'ir_cron_wechat_notice_digest',
                       'ir_cron_wechat_tag_sync')
);
