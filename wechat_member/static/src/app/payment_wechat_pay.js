import { _t } from "@web/core/l10n/translation";
import { AlertDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { PaymentInterface } from "@point_of_sale/app/payment/payment_interface";
import { register_payment_method } from "@point_of_sale/app/store/pos_store";
import { makeAwaitable } from "@point_of_sale/app/store/make_awaitable_dialog";
import { TextInputPopup } from "@point_of_sale/app/utils/input_popups/text_input_popup";

const AUTH_CODE_RE = /^1[0-5]\d{16}$/;

/**
 * WeChat Pay (scan code / 微信付款码): the cashier scans the customer's
 * payment code; the server charges it (pay/micropay), and the payer's
 * openid makes the customer a member when the order is synced.
 *
 * While the customer confirms in WeChat (USERPAYING), the line waits with a
 * Cancel button and the server is asked every 5 s; after 30 s the charge is
 * cancelled (reverse), as WeChat Pay's scan-to-pay docs advise (query every
 * 5-10 s, about 30 s, then reverse; WeChat accepts a reverse 15 s after the
 * order, and refuses it as USERPAYING while the customer is still on the
 * password screen: the server then answers ``retry_in``).
 */
export class PaymentWeChatPay extends PaymentInterface {
    setup() {
        super.setup(...arguments);
        // Overridable (tests): seconds between two status checks, and before giving up.
        this.pollInterval = 5000;
        this.pollTimeout = 30000;
        // uuid of a payment line -> "cancelling" | "cancelled"
        this.cancelState = {};
    }

    // ------------------------------------------------------------------ interface
    send_payment_request(uuid) {
        super.send_payment_request(uuid);
        return this._wechatPay(uuid);
    }

    send_payment_cancel(order, uuid) {
        super.send_payment_cancel(order, uuid);
        return this._wechatCancel(order, uuid);
    }

    // ------------------------------------------------------------------ helpers
    _line(uuid) {
        for (const order of this.pos.models["pos.order"].getAll()) {
            const line = order.payment_ids.find((l) => l.uuid === uuid);
            if (line) {
                return line;
            }
        }
        return this.pos.get_order()?.get_selected_paymentline();
    }

    _lineData(line) {
        return {
            order_uuid: line.pos_order_id.uuid,
            payment_uuid: line.uuid,
        };
    }

    _call(method, data) {
        return this.pos.data.silentCall("pos.payment.method", method, [
            [this.payment_method_id.id],
            data,
        ]);
    }

    _sleep(ms) {
        return new Promise((resolve) => setTimeout(resolve, ms));
    }

    _showError(message, title) {
        this.env.services.dialog.add(AlertDialog, {
            title: title || _t("WeChat Pay"),
            body: message,
        });
    }

    _connectionError() {
        this._showError(
            _t(
                "Odoo could not be reached. Check the connection, then press Retry: the payment will not be charged twice."
            )
        );
    }

    async _askAuthCode() {
        const code = await makeAwaitable(this.env.services.dialog, TextInputPopup, {
            title: _t("Scan the customer's WeChat payment code"),
            placeholder: _t("WeChat > Me > Pay: 18 digits"),
        });
        return code === undefined || code === null ? null : String(code).replace(/\s+/g, "");
    }

    _applyDone(line, result) {
        line.transaction_id = result.transaction_id;
        line.card_type = "WeChat Pay";
        line.set_receipt_info(_t("WeChat Pay transaction: %s", result.transaction_id));
        return true;
    }

    // ------------------------------------------------------------------ pay
    async _wechatPay(uuid) {
        const line = this._line(uuid);
        if (!line) {
            return false;
        }
        if (line.amount <= 0) {
            this._showError(_t("WeChat Pay can only charge a positive amount."));
            return false;
        }
        delete this.cancelState[uuid];
        const authCode = await this._askAuthCode();
        if (!authCode || this.cancelState[uuid] === "cancelled") {
            return false; // the cashier closed the popup or removed the line
        }
        if (!AUTH_CODE_RE.test(authCode)) {
            this._showError(
                _t(
                    "This is not a WeChat payment code: it must have 18 digits and start with 10 to 15. Ask the customer to open WeChat > Me > Pay and scan the code again."
                )
            );
            return false;
        }
        line.set_payment_status("waiting");
        let result;
        try {
            result = await this._call("wechat_pay_charge", {
                ...this._lineData(line),
                auth_code: authCode,
                amount: line.amount,
                currency: this.pos.currency.name,
            });
        } catch {
            this._connectionError();
            return false;
        }
        return this._handleResult(line, result);
    }

    async _handleResult(line, result) {
        if (result.status === "done") {
            return this._applyDone(line, result);
        }
        if (result.status === "waiting") {
            return this._waitForCustomer(line);
        }
        this._showError(result.message || _t("The WeChat payment failed."));
        return false;
    }

    async _waitForCustomer(line) {
        // The customer is confirming in WeChat (password): the cashier may cancel meanwhile.
        line.set_payment_status("waitingCard");
        const deadline = Date.now() + this.pollTimeout;
        while (true) {
            await this._sleep(this.pollInterval);
            const cancel = this.cancelState[line.uuid];
            if (cancel === "cancelled") {
                return false;
            }
            if (cancel === "cancelling") {
                continue; // the Cancel button is at work
            }
            if (Date.now() > deadline) {
                return this._giveUp(line);
            }
            let result;
            try {
                result = await this._call("wechat_pay_status", this._lineData(line));
            } catch {
                continue; // Odoo unreachable for a moment: keep waiting
            }
            if (this.cancelState[line.uuid]) {
                continue;
            }
            if (result.status === "done") {
                return this._applyDone(line, result);
            }
            if (result.status === "failed") {
                this._showError(result.message || _t("The WeChat payment failed."));
                return false;
            }
        }
    }

    async _giveUp(line) {
        line.set_payment_status("waitingCancel");
        const cancelled = await this._reverse(line, true);
        if (cancelled?.status === "done") {
            return this._applyDone(line, cancelled); // confirmed while the POS was cancelling: kept
        }
        if (cancelled === true) {
            this._showError(
                _t(
                    "The customer did not confirm the payment in time: it was cancelled. Scan a new payment code to try again."
                )
            );
            return false;
        }
        // Not cancelled: the customer may have paid at the last moment.
        try {
            const result = await this._call("wechat_pay_status", this._lineData(line));
            if (result.status === "done") {
                return this._applyDone(line, result);
            }
        } catch {
            // reported below
        }
        this._showError(
            cancelled ||
                _t(
                    "The WeChat payment could not be confirmed nor cancelled. Check it in the WeChat Pay merchant platform before trying again."
                )
        );
        return false;
    }

    // ------------------------------------------------------------------ cancel
    /**
     * Reverse the line's charge; waits as WeChat asks (15 s after the order,
     * or while the customer is still confirming).  Returns true when
     * cancelled, else the message to show.  ``keepPaid`` (the POS gave up
     * waiting, the cashier did not cancel): a charge the customer confirmed
     * meanwhile is kept; the status answer (``status: "done"``) is returned.
     */
    async _reverse(line, keepPaid = false) {
        for (let i = 0; i < 10; i++) {
            let result;
            try {
                // force: the POS drops the line, so a charge WeChat made meanwhile is reversed too.
                result = await this._call("wechat_pay_cancel", {
                    ...this._lineData(line),
                    force: !keepPaid,
                });
            } catch {
                return _t("Odoo could not be reached: the WeChat payment is not cancelled yet.");
            }
            if (result.cancelled) {
                return true;
            }
            if (keepPaid && result.status === "done") {
                return result;
            }
            if (result.retry_in) {
                await this._sleep(result.retry_in * 1000);
                if (keepPaid) {
                    try {
                        const status = await this._call("wechat_pay_status", this._lineData(line));
                        if (status.status === "done") {
                            return status;
                        }
                    } catch {
                        // Odoo unreachable for a moment: the next cancel call tells
                    }
                }
                continue;
            }
            return result.message || _t("The WeChat payment could not be cancelled.");
        }
        return _t("The WeChat payment could not be cancelled.");
    }

    async _wechatCancel(order, uuid) {
        const line = this._line(uuid);
        if (!line) {
            return true;
        }
        this.cancelState[uuid] = "cancelling";
        const cancelled = await this._reverse(line);
        if (cancelled === true) {
            this.cancelState[uuid] = "cancelled";
            return true;
        }
        delete this.cancelState[uuid]; // keep waiting for the customer
        this._showError(cancelled);
        return false;
    }
}

register_payment_method("wechat_pay", PaymentWeChatPay);
