import { _t } from "@web/core/l10n/translation";
import { Component, onMounted, useRef, useState } from "@odoo/owl";
import { Dialog } from "@web/core/dialog/dialog";
import { useService } from "@web/core/utils/hooks";
import { usePos } from "@point_of_sale/app/store/pos_hook";
import { ask } from "@point_of_sale/app/store/make_awaitable_dialog";

/**
 * The bookings members paid in WeChat, to hand over at this till (soonest
 * first), or those matching what the cashier types or scans into the
 * search (the booking QR on the member's phone, a member code, a phone, a
 * name). "Ready" tells the member it can be picked up; "Hand over" records the
 * sale in the cashier's session, paid by the booking's WeChat Pay charge.
 */
export class WeChatBookingsDialog extends Component {
    static template = "wechat_member.WeChatBookingsDialog";
    static components = { Dialog };
    static props = { close: Function };

    setup() {
        this.pos = usePos();
        this.notification = useService("notification");
        this.dialog = useService("dialog");
        this.input = useRef("search");
        this.state = useState({ query: "", rows: [], loading: true, error: "", busy: false });
        onMounted(() => {
            this.input.el?.focus();
            this.search();
        });
    }

    async search() {
        this.state.loading = true;
        this.state.error = "";
        try {
            this.state.rows = await this.pos.data.call("wechat.preorder", "pos_to_collect", [
                this.pos.config.id,
                this.state.query.trim(),
            ]);
        } catch (error) {
            this.state.error = error?.data?.message || _t("Odoo could not be reached: try again.");
            this.state.rows = [];
        } finally {
            this.state.loading = false;
        }
    }

    onKeydown(ev) {
        if (ev.key === "Enter") {
            this.search();
        }
    }

    async run(row, method, args) {
        this.state.busy = true;
        this.state.error = "";
        try {
            return await this.pos.data.call("wechat.preorder", method, args);
        } catch (error) {
            this.state.error = error?.data?.message || _t("Odoo could not be reached: try again.");
            return null;
        } finally {
            this.state.busy = false;
        }
    }

    async markReady(row) {
        const result = await this.run(row, "pos_mark_ready", [this.pos.config.id, row.id]);
        if (result) {
            Object.assign(row, result);
            this.notification.add(_t("%s: the member is told it is ready.", row.name), { type: "success" });
        }
    }

    /**
     * A booking found by its scanned QR is handed over on that code; one found otherwise only once the
     * customer confirmed the name and the phone's last digits the till shows (recorded on the booking).
     */
    async handOver(row) {
        let args = [this.pos.session.id, row.id, this.state.query.trim(), false];
        if (!row.scanned) {
            const confirmed = await ask(this.dialog, {
                title: _t("Confirm the customer"),
                body: _t(
                    "Ask the customer to confirm: %s, phone ending in %s. Hand the booking over?",
                    row.customer,
                    row.phone_last4 || "-"
                ),
                confirmLabel: _t("Yes, hand it over"),
                cancelLabel: _t("No"),
            });
            if (!confirmed) {
                return;
            }
            args = [this.pos.session.id, row.id, false, true];
        }
        const result = await this.run(row, "pos_collect", args);
        if (result) {
            this.state.rows = this.state.rows.filter((r) => r.id !== row.id);
            this.notification.add(_t("%s handed over: order %s.", result.name, result.pos_order), {
                type: "success",
            });
        }
    }
}
