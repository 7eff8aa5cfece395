"""Black-box, in headless Chromium: the demo as its users meet it, on the URL ./run test serves.

* ``cashier1`` logs in, opens the Shanghai store's register (the opening control when it is shown)
  and reaches the product screen;
* ``manager`` logs in and opens every menu under WeChat Marketing (read from the server with the
  manager's session, so a new menu is covered without editing this file) until its view renders.

Each fails on what the user would see go wrong (``cdp.Chromium.problems``): an error dialog or a
danger notification, a failed request on the page's origin, a JSON-RPC error, an uncaught
exception or a ``console.error``.  On failure a screenshot is saved in ``.run/logs/`` and its path
is in the message.  Records are found by XML id, never by a display name (the demo's names and
company may change).
"""

import contextlib
import json
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from cdp import CDPError, Chromium, find_chromium

SHOTS = Path(__file__).resolve().parent.parent / ".run" / "logs"

# A view that has rendered (the renderers of Odoo's view types, and the empty-list helper).
RENDERED = (
    ".o_list_renderer, .o_kanban_renderer, .o_form_renderer, .o_graph_renderer, .o_pivot, "
    ".o_calendar_renderer, .o_view_nocontent, .o_activity_view, .o_hierarchy_renderer, .o_renderer"
)

pytestmark = pytest.mark.skipif(not find_chromium(), reason="Chromium is missing: apt-get install chromium")


@pytest.fixture
def browser(odoo):
    with Chromium(odoo.url) as chromium:
        yield chromium


def res_id(odoo, xmlid):
    module, name = xmlid.split(".")
    rows = odoo.search_read("ir.model.data", [("module", "=", module), ("name", "=", name)], ["res_id"])
    assert rows, f"{xmlid} is missing: the demo data is not installed"
    return rows[0]["res_id"]


def visible(selector):
    """JavaScript: is an element matching ``selector`` shown."""
    return f"[...document.querySelectorAll({json.dumps(selector)})].some((el) => el.getClientRects().length)"


def shot(browser, name):
    path = browser.screenshot(SHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png")
    return f"screenshot: {path}" if path else "no screenshot (the browser did not answer)"


def what_went_wrong(browser, problems_from=0, dialogs_from=0, allowed=""):
    """The problems recorded since index ``problems_from`` and the error dialogs and danger
    notifications seen since index ``dialogs_from``."""
    found = list(browser.problems[problems_from:])
    for dialog in browser.dialogs(allowed)[dialogs_from:]:
        if dialog["kind"] == "notification":
            bad = dialog["type"] == "danger"
        else:
            bad = dialog["error"] or not dialog["allowed"]
        if bad:
            found.append(f"{dialog['kind']} {dialog['title']!r}: {dialog['text']}")
    return found


@contextlib.contextmanager
def failing_with_screenshot(browser, name, allowed=""):
    """A timeout in the block fails the test with a screenshot of the page as it was."""
    try:
        yield
    except CDPError as exc:
        problems = "\n  ".join(what_went_wrong(browser, allowed=allowed)) or "none recorded"
        pytest.fail(f"{name}: {exc}\n{shot(browser, name)}\nproblems:\n  {problems}", pytrace=False)


def log_in(browser, login, password, then):
    """Log in on the login form as a user does, landing on the path ``then``."""
    browser.navigate(f"{browser.origin}/web/login?redirect={quote(then, safe='')}")
    browser.wait_for("!!document.querySelector('form.oe_login_form input[name=login]')", "the login form")
    browser.evaluate(
        f"""(() => {{
            const form = document.querySelector("form.oe_login_form");
            form.querySelector("input[name=login]").value = {json.dumps(login)};
            form.querySelector("input[name=password]").value = {json.dumps(password)};
            form.querySelector("button[type=submit]").click();
        }})()"""
    )
    browser.wait_for(
        "location.pathname !== '/web/login' && document.readyState === 'complete'", f"{login} to be logged in"
    )


def test_cashier_opens_the_shanghai_register(odoo, browser):
    config_id = res_id(odoo, "wechat_member.demo_pos_shanghai")
    opening = ".modal .opening-notes"
    # What the register shows, and the button the cashier presses there to go on (the product
    # screen is rendered under the login screen's overlay and the dialogs: it counts once they are
    # gone and the session is open); any other dialog or a problem ends the walk.
    states = {
        "login screen": (visible(".login-overlay .open-register-btn"), "document.querySelector('.open-register-btn')"),
        "opening control": (
            visible(opening),
            "document.querySelector('.modal .opening-notes').closest('.modal')"
            ".querySelector('.modal-footer .btn-primary')",
        ),
        "products": (
            f"{visible('.product-screen')} && !{visible('.login-overlay')} && !{visible('.modal')}"
            " && window.posmodel && posmodel.session.state === 'opened'",
            None,
        ),
        "another dialog": (visible(".modal"), None),
    }
    which = " : ".join(f"{test} ? {json.dumps(name)}" for name, (test, __) in states.items()) + " : ''"
    seen = []
    with failing_with_screenshot(browser, "cashier1_register", allowed=".opening-notes"):
        log_in(browser, "cashier1", "cashier1", f"/pos/ui?config_id={config_id}")
        # The POS loads its data (slow on a busy machine); a new session shows the login screen's
        # Open Register, then the opening control.
        while not seen or seen[-1] not in ("products", "another dialog", "a problem"):
            state = browser.wait_for(
                which,
                f"the register to show one of {', '.join(states)} after {seen}",
                300,
                stop=lambda: bool(what_went_wrong(browser, allowed=".opening-notes")),
            )
            state = state or "a problem"
            assert (
                state not in seen
            ), f"the register came back to its {state} ({seen}): {shot(browser, 'cashier1_register')}"
            seen.append(state)
            if states.get(state, (None, None))[1]:
                browser.evaluate(f"{states[state][1]}.click()")
                # The press is answered by a server call (slow on a busy machine): the next state is the one
                # shown once this one has gone, not this one still on the screen.
                browser.wait_for(
                    f"({which}) !== {json.dumps(state)}",
                    f"the {state} to go once its button is pressed",
                    300,
                    stop=lambda: bool(what_went_wrong(browser, allowed=".opening-notes")),
                )
        browser.wait_idle(quiet=2)
    problems = what_went_wrong(browser, allowed=".opening-notes")
    if seen[-1] != "products":
        problems.append(f"the register did not reach its product screen ({seen[-1]})")
    sessions = odoo.search_read("pos.session", [("config_id", "=", config_id), ("state", "=", "opened")], ["user_id"])
    if not sessions:
        problems.append("no opened session of the register on the server")
    assert not problems, (
        f"cashier1 opening the Shanghai register ({' > '.join(seen)}):\n  "
        + "\n  ".join(problems)
        + f"\n{shot(browser, 'cashier1_register')}"
    )


MENU_ROOT = "wechat_member.menu_wechat_root"
WEBCLIENT_READY = (
    "!!(window.odoo && odoo.__WOWL_DEBUG__ && odoo.__WOWL_DEBUG__.root) && !!document.querySelector('.o_main_navbar')"
)


def open_webclient(browser, root_id):
    browser.navigate(f"{browser.origin}/odoo?menu_id={root_id}")
    browser.wait_for(WEBCLIENT_READY, "the web client", timeout=180)
    browser.wait_idle()


def test_manager_opens_every_wechat_marketing_menu(odoo, browser):
    root_id = res_id(odoo, MENU_ROOT)
    with failing_with_screenshot(browser, "manager_webclient"):
        log_in(browser, "manager", "manager", f"/odoo?menu_id={root_id}")
        browser.wait_for(WEBCLIENT_READY, "the web client", timeout=180)
        browser.wait_idle()
        # The menus the manager sees (ir.ui.menu filters them by group), read with the manager's session.
        menus = browser.evaluate(
            f"""odoo.__WOWL_DEBUG__.root.env.services.orm.searchRead(
                "ir.ui.menu", [["id", "child_of", {root_id}], ["action", "!=", false]],
                ["complete_name", "action"], {{order: "parent_path"}})"""
        )
    # Where their window actions open ("new": a wizard, in a dialog); only administrators read actions.
    windows = [int(m["action"].split(",")[1]) for m in menus if m["action"].startswith("ir.actions.act_window,")]
    targets = {a["id"]: a["target"] for a in odoo.call("ir.actions.act_window", "read", windows, ["target"])}
    assert len(menus) >= 10, f"the manager sees too few WeChat Marketing menus: {menus}"
    assert not what_went_wrong(browser), what_went_wrong(browser) + [shot(browser, "manager_webclient")]

    failed = {}
    for menu in menus:
        name = menu["complete_name"]
        action_type, action_id = menu["action"].split(",")
        wizard = action_type == "ir.actions.act_window" and targets[int(action_id)] == "new"
        dialogs_before = len(browser.dialogs())
        problems_before = len(browser.problems)
        try:
            browser.evaluate(
                "document.querySelectorAll('.o_action_manager > *, .modal').forEach((el) => el.dataset.cdpOld = '1')"
            )
            browser.evaluate(f"odoo.__WOWL_DEBUG__.root.env.services.menu.selectMenu({menu['id']}).then(() => true)")
            if wizard:  # its form in a dialog, closed again as a user does
                browser.wait_for(
                    "!!document.querySelector('.modal:not([data-cdp-old]) .o_form_renderer')",
                    f"the wizard of menu {name} to render",
                    timeout=120,
                )
                browser.wait_idle()
                problems = what_went_wrong(browser, problems_before, dialogs_before, allowed=".o_form_view")
                browser.evaluate(
                    "odoo.__WOWL_DEBUG__.root.env.services.action"
                    ".doAction({type: 'ir.actions.act_window_close'}).then(() => true)"
                )
                browser.wait_for(f"!{visible('.modal')}", f"the wizard of menu {name} to close", timeout=60)
            else:  # the menu's action is the current one and its view has rendered in a new element
                needs_view = json.dumps(action_type == "ir.actions.act_window")
                browser.wait_for(
                    f"""(() => {{
                        const controller = odoo.__WOWL_DEBUG__.root.env.services.action.currentController;
                        const el = document.querySelector(".o_action_manager > .o_action:not([data-cdp-old])");
                        return !!(controller && controller.action.id === {int(action_id)} && el
                            && (!{needs_view} || el.querySelector({json.dumps(RENDERED)})));
                    }})()""",
                    f"the action of menu {name} to render",
                    timeout=120,
                )
                browser.wait_idle()
                problems = what_went_wrong(browser, problems_before, dialogs_before)
        except CDPError as exc:
            problems = [str(exc)] + what_went_wrong(browser, problems_before, dialogs_before)
        if problems:
            failed[name] = problems + [shot(browser, f"manager_menu_{menu['id']}")]
            # Start the next menu on a clean page: no dialog left open, no half-loaded action.
            with failing_with_screenshot(browser, "manager_webclient_reload"):
                open_webclient(browser, root_id)
    report = "\n".join(f"menu {name}:\n  " + "\n  ".join(problems) for name, problems in failed.items())
    assert not failed, f"{len(failed)} of {len(menus)} WeChat Marketing menus failed for manager:\n{report}"
