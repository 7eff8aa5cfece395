from fakewechat.api_media import TINY_PNG

from odoo.tests import new_test_user, tagged

from .common import WeChatHttpCase


@tagged("post_install", "-at_install")
class TestWeChatCSTour(WeChatHttpCase):
    def test_agent_answers_in_discuss_within_the_quota(self):
        agent = new_test_user(
            self.env,
            login="cs_tour_agent",
            name="Tour Agent",
            groups="base.group_user,wechat_member.group_wechat_customer_service",
        )
        self.map_template("cs_reply", "TPL_CS_REPLY", {"thing1": "reply", "thing2": "store", "time3": "date"})
        openid = "oCSTour000000000000000000001"
        self.sim.follow(openid=openid)
        self.sim.text(openid, "Where is my parcel?")
        self.sim.image(openid, content=TINY_PNG, content_type="image/png")
        member = self.env["wechat.member"].search([("account_id", "=", self.account.id), ("openid", "=", openid)])
        channel = self.env["discuss.channel"].search([("wechat_member_id", "=", member.id)])
        self.assertEqual(len(channel.message_ids.filtered(lambda m: m.message_type == "comment")), 2)
        self.start_tour(f"/odoo/action-mail.action_discuss?active_id={channel.id}", "wechat_cs_tour", login=agent.login)
        sent = [m for m in self.fake_account.cs_messages if m["touser"] == openid]
        self.assertEqual([m["text"]["content"] for m in sent], [f"Answer number {n}" for n in range(1, 6)])
        bodies = channel.message_ids.filtered(lambda m: m.author_id == agent.partner_id).mapped("body")
        self.assertEqual(len(bodies), 7, "five replies, then the sixth and a link as notices")
        self.assertEqual(len(sent), 5, "the sixth reply was refused before it was sent as a message")
        notices = self.env["wechat.notice"].search([("member_id", "=", member.id), ("kind_id.code", "=", "cs_reply")])
        self.assertEqual(notices.mapped("channel"), ["template", "template"])
        self.assertEqual(notices.mapped("state"), ["sent", "sent"])
        self.assertEqual(len([m for m in self.fake_account.template_messages if m["touser"] == openid]), 2)
