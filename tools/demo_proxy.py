"""One URL for the demo, as a production reverse proxy gives it: ``/websocket`` to Odoo's gevent port,
everything else to the HTTP workers.

Odoo served with ``--workers`` answers ``/websocket`` on its gevent port only
(the prefork workers refuse it with a 500, "Couldn't bind the websocket").
In production nginx routes it (see the README's production section); this
small asyncio proxy does the same for ``./run demo`` and the served test run,
so the bus (POS notifications, Discuss, live updates) works on the printed URL.

Each connection is routed by its first request.  A request to the HTTP workers
is forwarded with ``Connection: close`` (one request a connection), so that a
later ``/websocket`` upgrade of the browser never reaches a worker on a kept-alive
connection; a websocket connection is piped untouched both ways.

Run: ``python tools/demo_proxy.py --port 8069 --http 127.0.0.1:8070 --gevent 127.0.0.1:8072``.
"""

import argparse
import asyncio
import contextlib
import logging

_logger = logging.getLogger("demo_proxy")

MAX_HEADER = 64 * 1024
HOP_HEADERS = (b"connection", b"keep-alive", b"proxy-connection")


def route(head, http, gevent):
    """``(backend, head to send)`` for a request whose request line and headers are ``head``."""
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    path = parts[1] if len(parts) > 1 else b"/"
    if path == b"/websocket" or path.startswith((b"/websocket?", b"/websocket/")):
        return gevent, head
    kept = [line for line in lines[1:] if line and line.split(b":", 1)[0].strip().lower() not in HOP_HEADERS]
    return http, b"\r\n".join([lines[0], *kept, b"Connection: close", b"", b""])


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def handle(client_reader, client_writer, http, gevent):
    try:
        head = await client_reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        client_writer.close()
        return
    (host, port), head = route(head, http, gevent)
    try:
        backend_reader, backend_writer = await asyncio.open_connection(host, port)
    except OSError as exc:
        _logger.warning("backend %s:%s unreachable: %s", host, port, exc)
        client_writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        with contextlib.suppress(Exception):
            await client_writer.drain()
        client_writer.close()
        return
    backend_writer.write(head)
    await asyncio.gather(pipe(client_reader, backend_writer), pipe(backend_reader, client_writer))


def address(text):
    host, __, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


async def serve(port, http, gevent, host="127.0.0.1"):
    server = await asyncio.start_server(lambda r, w: handle(r, w, http, gevent), host, port, limit=MAX_HEADER)
    async with server:
        await server.serve_forever()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--http", type=address, required=True, help="host:port of Odoo's HTTP workers")
    parser.add_argument("--gevent", type=address, required=True, help="host:port of Odoo's gevent (bus) port")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, args.http, args.gevent, args.host))


if __name__ == "__main__":
    main()
