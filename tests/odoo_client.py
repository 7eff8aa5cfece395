"""A small JSON-RPC client for the black-box scenarios (Odoo served by ./run test)."""

import itertools
import os

import requests


class OdooError(Exception):
    pass


class OdooClient:
    def __init__(self, url, db, login="admin", password="admin", timeout=600):
        self.url, self.db, self.password, self.timeout = url.rstrip("/"), db, password, timeout
        self._ids = itertools.count(1)
        self.uid = self._call("common", "login", db, login, password)
        if not self.uid:
            raise OdooError(f"login {login!r} refused on {db}")

    def _call(self, service, method, *args):
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": next(self._ids),
            "params": {"service": service, "method": method, "args": list(args)},
        }
        resp = requests.post(f"{self.url}/jsonrpc", json=payload, timeout=self.timeout)
        resp.raise_for_status()
        data = resp.json()
        if data.get("error"):
            raise OdooError(data["error"].get("data", {}).get("message") or data["error"])
        return data["result"]

    def call(self, model, method, *args, **kwargs):
        return self._call("object", "execute_kw", self.db, self.uid, self.password, model, method, list(args), kwargs)

    def search_read(self, model, domain, fields, **kw):
        return self.call(model, "search_read", domain, fields, **kw)


def from_env():
    url, db = os.environ.get("WM_ODOO_URL"), os.environ.get("WM_ODOO_DB")
    if not url or not db:
        return None
    return OdooClient(url, db)
