"""Black-box: the URL that ./run test and ./run demo print serves the pages and the bus.

Odoo runs with --workers=2; its prefork workers refuse ``/websocket`` (500,
"Couldn't bind the websocket"). The harness puts ``tools/demo_proxy.py`` in
front, as nginx does in production (README, Production): ``/websocket`` goes
to the gevent port, the rest to the workers, on one URL.
"""

import requests
import websocket


def test_websocket_upgrades_on_the_printed_url(odoo):
    ws_url = odoo.url.replace("http://", "ws://", 1) + "/websocket?version=18.0-1"
    conn = websocket.create_connection(ws_url, origin=odoo.url, timeout=30)
    try:
        assert conn.getstatus() == 101
        assert conn.connected
    finally:
        conn.close()


def test_pages_and_health_on_the_same_url(odoo):
    assert requests.get(f"{odoo.url}/web/health", timeout=30).json()["status"] == "pass"
    login = requests.get(f"{odoo.url}/web/login", timeout=30)
    assert login.status_code == 200
    assert "oe_login_form" in login.text
    # Kept-alive connections never carry a request to the wrong port: several requests on one session.
    with requests.Session() as session:
        for __ in range(3):
            assert session.get(f"{odoo.url}/websocket/health", timeout=30).status_code == 200
            assert session.get(f"{odoo.url}/web/health", timeout=30).status_code == 200
