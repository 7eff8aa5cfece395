"""Headless Chromium driven over the DevTools protocol (CDP) for the black-box tests.

Standard library + ``websocket-client`` (in the venv): no Selenium, no Playwright.  One page; what
a user would notice goes wrong is recorded while the test drives it:

* ``problems``: uncaught exceptions, ``console.error``, browser errors (a websocket that does not
  upgrade, a blocked script), failed requests on the page's own origin (HTTP status >= 400 or a
  network failure) and JSON-RPC answers that carry an ``error`` (the server error behind an error
  dialog, whatever the language of the dialog);
* ``dialogs()``: every dialog and notification shown since the page loaded, even the ones that
  closed themselves (a MutationObserver installed before the page's own scripts).

Waits are on explicit conditions (``wait_for`` polls a JavaScript predicate) with a timeout and a
message saying what was awaited; a test never sleeps a fixed time.
"""

import base64
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import websocket

BINARIES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# Installed before every document's own scripts: remembers each dialog and notification shown.
WATCH_DIALOGS = """
(() => {
    if (window.__cdpDialogs) return;
    const seen = window.__cdpDialogs = [];
    const selector = ".modal, .o_dialog, .o_error_dialog, .o_notification";
    const record = () => {
        for (const el of document.querySelectorAll(selector)) {
            if (el.__cdpSeen || (el.classList.contains("o_dialog") && el.querySelector(".modal"))) continue;
            el.__cdpSeen = true;
            seen.push(el);
        }
    };
    new MutationObserver(record).observe(document, {childList: true, subtree: true});
})();
"""

# Describes them (even once closed: a detached element keeps its content); ``allowed``: a CSS
# selector of the dialogs the test expects (e.g. the POS opening control), marked ``allowed``.
DESCRIBE_DIALOGS = """
((allowed) => (window.__cdpDialogs || []).map((el) => {
    const bar = el.querySelector(".o_notification_bar");
    return {
        kind: el.classList.contains("o_notification") ? "notification" : "dialog",
        type: bar ? ([...bar.classList].find((c) => c.startsWith("bg-")) || "").slice(3) : "",
        error: !!(el.matches(".o_error_dialog") || el.querySelector(".o_error_dialog")),
        allowed: !!(allowed && (el.matches(allowed) || el.querySelector(allowed))),
        title: ((el.querySelector(".modal-title, .o_notification_title") || {}).textContent || "").trim(),
        text: (el.innerText || el.textContent || "").trim().replace(/\\s+/g, " ").slice(0, 500),
        open: el.isConnected,
    };
}))
"""


class CDPError(Exception):
    pass


def find_chromium():
    for name in BINARIES:
        path = shutil.which(name)
        if path:
            return path
    return None


class Chromium:
    """A headless Chromium with one page, on a temporary profile; ``close()`` kills it and removes the profile."""

    def __init__(self, origin, width=1280, height=900, timeout=60):
        binary = find_chromium()
        if not binary:
            raise CDPError("Chromium is missing: apt-get install chromium")
        self.origin = origin.rstrip("/")
        self.timeout = timeout
        self._problems = []
        self._ids = 0
        self._sent = {}  # requestId -> (method, url, type) of the own origin's requests
        self._requests = {}  # requestId -> (method, url) of the own origin's loads and calls in flight
        self._json_answers = {}  # requestId -> url of the own origin's JSON answers still loading
        self._json_bodies = []  # (requestId, url) of the finished JSON answers still to read
        self._last_activity = time.monotonic()
        self.profile = tempfile.mkdtemp(prefix="wm-chromium-")
        self.proc = subprocess.Popen(
            [
                binary,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-port=0",
                f"--user-data-dir={self.profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            self.ws = websocket.create_connection(self._page_ws_url(), timeout=timeout, suppress_origin=True)
            for domain in ("Page", "Runtime", "Network", "Log"):
                self.call(f"{domain}.enable")
            self.call("Page.addScriptToEvaluateOnNewDocument", source=WATCH_DIALOGS)
        except Exception:
            self.close()
            raise

    def _page_ws_url(self):
        """The page's websocket, from the DevToolsActivePort file Chromium writes (no port race)."""
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise CDPError(f"Chromium exited at start (code {self.proc.returncode})")
            with contextlib.suppress(FileNotFoundError, ValueError, OSError):
                port = int(port_file.read_text().split()[0])
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as resp:
                    pages = [t for t in json.load(resp) if t["type"] == "page"]
                if pages:
                    return pages[0]["webSocketDebuggerUrl"]
            time.sleep(0.2)
        raise CDPError(f"Chromium did not open its DevTools port within {self.timeout}s")

    # ------------------------------------------------------------ protocol

    def call(self, method, timeout=None, **params):
        self._ids += 1
        my_id = self._ids
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CDPError(f"no answer to {method} within {timeout or self.timeout}s")
            msg = self._recv(remaining)
            if msg is None:
                continue
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise CDPError(f"{method}: {msg['error'].get('message')}")
                return msg.get("result", {})

    def _recv(self, timeout):
        self.ws.settimeout(max(timeout, 0.01))
        try:
            msg = json.loads(self.ws.recv())
        except websocket.WebSocketTimeoutException:
            return None
        if "method" in msg:
            self._on_event(msg["method"], msg.get("params", {}))
        return msg

    def pump(self, seconds):
        """Handle the browser's events for ``seconds`` (and read the JSON answers that came)."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            self._recv(min(remaining, 0.2))
        self._read_json_bodies()

    def _own(self, url):
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}" == self.origin

    def _on_event(self, method, params):
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = (details.get("exception") or {}).get("description") or details.get("text")
            self._problems.append(f"uncaught exception: {text[:1500]}")
        elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            self._problems.append(f"console.{params['type']}: {args[:1500]}")
        elif method == "Log.entryAdded":
            entry = params["entry"]
            # Network entries repeat what Network.* reports below, for the own origin only.
            if entry["level"] == "error" and entry.get("source") != "network":
                self._problems.append(f"browser error ({entry.get('source')}): {entry['text'][:1500]}")
        elif method.startswith("Network."):
            self._on_network(method, params)

    def _on_network(self, method, params):
        if method == "Network.requestWillBeSent":
            request = params["request"]
            if self._own(request["url"]):
                self._sent[params["requestId"]] = (request["method"], request["url"], params.get("type"))
                # In flight until finished: the page's calls and documents (not its scripts: a
                # worker's is finished in the worker's target, so it would stay in flight for ever).
                if params.get("type") in ("Document", "XHR", "Fetch"):
                    self._requests[params["requestId"]] = (request["method"], request["url"])
                    self._last_activity = time.monotonic()
        elif method == "Network.responseReceived":
            response = params["response"]
            sent = self._sent.get(params["requestId"])
            # Chromium asks for /favicon.ico by itself ("Other"), not the page: Odoo's pages link
            # their icon elsewhere, and that request is checked like any other.
            by_chromium = sent and sent[2] == "Other" and urlsplit(response["url"]).path == "/favicon.ico"
            if sent and not by_chromium:
                if response["status"] >= 400:
                    self._problems.append(f"HTTP {response['status']} on {sent[0]} {response['url']}")
                elif "json" in response.get("mimeType", ""):
                    self._json_answers[params["requestId"]] = response["url"]
        elif method in ("Network.loadingFinished", "Network.loadingFailed"):
            sent = self._sent.pop(params["requestId"], None)
            if self._requests.pop(params["requestId"], None):
                self._last_activity = time.monotonic()
            json_url = self._json_answers.pop(params["requestId"], None)
            if json_url and method == "Network.loadingFinished":
                self._json_bodies.append((params["requestId"], json_url))
            # A canceled request is one the page gave up itself (a navigation, an image scrolled
            # away): the user sees nothing of it.  Any other failure (refused, reset) is a problem.
            if sent and method == "Network.loadingFailed" and not params.get("canceled"):
                self._problems.append(f"network failure {params.get('errorText')} on {sent[0]} {sent[1]}")
        elif method == "Network.webSocketHandshakeResponseReceived":
            if params["response"]["status"] != 101:
                self._problems.append(f"websocket handshake answered {params['response']['status']}")

    @property
    def problems(self):
        """What went wrong so far (a list of sentences), the JSON answers received included."""
        self._read_json_bodies()
        return self._problems

    def _read_json_bodies(self):
        while self._json_bodies:
            request_id, url = self._json_bodies.pop(0)
            try:
                body = self.call("Network.getResponseBody", requestId=request_id)
            except CDPError:
                continue  # evicted or still streaming: not the answer of a JSON-RPC call
            text = base64.b64decode(body["body"]).decode() if body.get("base64Encoded") else body["body"]
            with contextlib.suppress(ValueError):
                data = json.loads(text)
                if isinstance(data, dict) and data.get("error"):
                    error = data["error"]
                    detail = error.get("data") or {}
                    self._problems.append(
                        f"JSON-RPC error on {url}: {detail.get('name', '')}: "
                        f"{detail.get('message') or error.get('message')}"
                    )

    # ------------------------------------------------------------ page

    def evaluate(self, expression):
        """The value of a JavaScript expression (promises awaited); raises CDPError if it throws."""
        result = self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise CDPError((details.get("exception") or {}).get("description") or details.get("text"))
        return result["result"].get("value")

    def wait_for(self, expression, what, timeout=120, interval=0.25, stop=None):
        """Poll ``expression`` until it is truthy and return its value; CDPError after ``timeout`` seconds.
        ``stop``: a callable; when it returns true, stop waiting and return None (e.g. a problem came)."""
        deadline = time.monotonic() + timeout
        last_error = None
        while True:
            if stop and stop():
                return None
            try:
                value = self.evaluate(expression)
                if value:
                    self._read_json_bodies()
                    return value
            except CDPError as exc:  # e.g. the page is navigating: its context is gone
                last_error = exc
            if time.monotonic() > deadline:
                hint = f" (last error: {last_error})" if last_error else ""
                raise CDPError(f"timed out after {timeout}s waiting for {what}{hint}")
            self.pump(interval)

    def wait_idle(self, quiet=1.0, timeout=120):
        """Wait until no request of the own origin has been in flight for ``quiet`` seconds."""
        deadline = time.monotonic() + timeout
        while self._requests or time.monotonic() - self._last_activity < quiet:
            if time.monotonic() > deadline:
                pending = ", ".join(f"{m} {u}" for m, u in self._requests.values())
                raise CDPError(f"requests still in flight after {timeout}s: {pending}")
            self.pump(0.2)
        self._read_json_bodies()

    def navigate(self, url, timeout=120):
        self.call("Page.navigate", url=url)
        self.wait_for(
            "document.readyState === 'complete' && location.href !== 'about:blank'", f"{url} to load", timeout
        )

    def dialogs(self, allowed=""):
        """Every dialog and notification seen on this page: ``kind`` (dialog, notification), ``type``
        (a notification's: danger, warning, info, success), ``error`` (an Odoo error dialog),
        ``allowed`` (matches the CSS selector ``allowed``), ``title``, ``text``, ``open``."""
        return self.evaluate(f"{DESCRIBE_DIALOGS}({json.dumps(allowed)})") or []

    def screenshot(self, path):
        """Save a PNG of the page to ``path``; returns the path, or None when the browser cannot."""
        try:
            data = self.call("Page.captureScreenshot", format="png", timeout=30)["data"]
        except (CDPError, OSError, websocket.WebSocketException):
            return None
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self):
        with contextlib.suppress(Exception):
            self.ws.close()
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, 9)
            self.proc.wait(timeout=30)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
