-- stop the coupon automations (birthday, win-back, expiry reminders): they issue coupons and message members
UPDATE ir_cron
   SET active = false
 WHERE id IN (
       SELECT res_id
         FROM ir_model_data
        WHERE model = 'ir.cron'
          AND module = 'wechat_coupon'
          AND name IN ('ir_cron_wechat_coupon_birthday', 'ir_cron_wechat_coupon_winback',
                       'ir_cron_wechat_coupon_expiry')
);
