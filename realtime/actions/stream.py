"""Stream gesture events to other programs over a WebSocket server (OSC: :mod:`realtime.actions.osc`).

``StreamServer`` (the `websockets` library) runs its own asyncio loop on a background thread.
The live loop hands it messages with :meth:`StreamServer.publish`, which never waits: each client
has a bounded queue, and a client that reads too slowly (or not at all) loses its oldest messages.
They are counted, never stalled. The server binds to 127.0.0.1 unless told otherwise. The same
port answers plain HTTP with the example page (``GET /``), so a browser needs no other server.

Messages are JSON objects described by ``docs/stream.schema.json`` (``SCHEMA_VERSION``):
``hello`` on connect, then an ``event`` per gesture event and, with frames on, a ``frame`` per frame.

Browsers let any page open a WebSocket to 127.0.0.1, so the handshake's ``Origin`` is checked
(RFC 6455 section 10.2): clients that send none (programs, not browsers) are let in; a browser page is
let in when it comes from this server itself (the example page), from an origin in ``allow_origins``
(``"*"``: any), or when its URL carries the server's ``token`` (``ws://HOST:PORT/?token=...``; pages
opened as files send ``Origin: null``). Anything else gets HTTP 403 and a log line naming the origin.
"""

from __future__ import annotations

import asyncio
import errno
import hmac
import json
import logging
import secrets
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from realtime.core.errors import HandSignError
from realtime.core.paths import WEB_DIR
from realtime.desktop.focus import FocusedWindow
from realtime.events.gestures import GestureEvent

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
DEFAULT_HOST = "127.0.0.1"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
#: Messages kept per client before the oldest are dropped (about 8 s of frames at 30 fps).
CLIENT_QUEUE = 256
PAGE = WEB_DIR / "index.html"
ANY_ORIGIN = "*"


def new_token() -> str:
    """A random token for pages that are not served by HandSign (files, other servers)."""
    return secrets.token_urlsafe(16)


def parse_address(text: str, default_host: str | None = DEFAULT_HOST) -> tuple[str, int]:
    """``[HOST:]PORT`` -> (host, port); raises ValueError with what is wrong."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host = default_host
    if host is None:
        raise ValueError(f"{text!r} needs a host: HOST:PORT")
    host = host.strip("[]") or default_host
    try:
        number = int(port)
    except ValueError:
        raise ValueError(f"{text!r}: port {port!r} is not a number") from None
    if not 0 <= number <= 65535:
        raise ValueError(f"{text!r}: port must be within 0..65535")
    return host, number


def event_message(event: GestureEvent) -> dict:
    """The stream's JSON message for one event (docs/stream.schema.json)."""
    return {"schema": SCHEMA_VERSION, "kind": "event", "event": event.to_json()}


def profile_message(profile: str, window: FocusedWindow | None = None) -> dict:
    """The stream's JSON message for a profile switch: its name and the window in front (app, class, title)."""
    where = None if window is None else {"app": window.app, "class": window.cls, "title": window.title}
    return {"schema": SCHEMA_VERSION, "kind": "profile", "profile": profile, "window": where}


def frame_message(frame_json: dict) -> dict:
    """The stream's JSON message for one frame's hands (``--serve-frames``)."""
    return {"schema": SCHEMA_VERSION, "kind": "frame", "frame": frame_json}


@dataclass(eq=False)  # clients are kept in a set, by identity
class _Client:
    name: str
    queue: asyncio.Queue
    sent: int = 0
    dropped: int = 0


@dataclass
class StreamStats:
    """What the server sent and dropped, in all and per client."""

    clients: int = 0
    connected_total: int = 0
    published: int = 0
    dropped: int = 0
    per_client: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (sent, dropped)


class StreamServer:
    """A WebSocket broadcast server on its own thread; ``publish`` from any thread, ``close`` at the end."""

    def __init__(self, host: str, port: int, hello: dict, queue_size: int = CLIENT_QUEUE,
                 page: Path | None = PAGE, allow_origins: tuple[str, ...] = (), token: str | None = None) -> None:
        self.host, self.hello, self.queue_size, self.page = host, {**hello, "schema": SCHEMA_VERSION,
                                                                   "kind": "hello"}, queue_size, page
        self.allow_origins = tuple(o.rstrip("/").lower() for o in allow_origins)
        self.token = token or new_token()
        self.refused = 0  # handshakes refused for their origin
        if ANY_ORIGIN in self.allow_origins:
            log.warning("--allow-origin '*': any web page open in your browser can read your gestures")
        self.stats = StreamStats()
        self._clients: set[_Client] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        if host not in LOOPBACK:
            log.warning("the event stream listens on %s, not only this machine: anyone who can reach "
                        "port %d sees your gestures", host, port)
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main(port)), name="event-stream",
                                        daemon=True)
        self._thread.start()
        self._ready.wait(timeout=15)
        if self._error is not None:
            exc = self._error
            if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
                raise HandSignError(f"port {port} on {host} is already in use (another HandSign, or another "
                                    "program): pass another with --serve [HOST:]PORT") from None
            raise HandSignError(f"cannot serve events on {host}:{port}: "
                                f"{getattr(exc, 'strerror', None) or exc}") from None
        if self._loop is None:
            raise HandSignError(f"the event stream on {host}:{port} did not start")

    async def _main(self, port: int) -> None:
        from websockets.asyncio.server import serve
        try:
            server = await serve(self._handle, self.host, port, process_request=self._http,
                                 ping_interval=20, ping_timeout=20, max_size=2 ** 16)
        except OSError as exc:
            self._error = exc
            self._ready.set()
            return
        self.port = server.sockets[0].getsockname()[1]
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        shown = self.host if ":" not in self.host else f"[{self.host}]"
        log.info("event stream on ws://%s:%d (page: http://%s:%d/); pages from elsewhere (or opened as a file) "
                 "connect with ?token=%s", shown, self.port, shown, self.port, self.token)
        self._ready.set()
        await self._stop.wait()
        server.close()
        await server.wait_closed()

    def own_origins(self) -> set[str]:
        """The origins of pages this server serves itself (its host and port, and loopback names for it)."""
        hosts = {self.host if ":" not in self.host else f"[{self.host}]"}
        if self.host in LOOPBACK:
            hosts |= {"127.0.0.1", "localhost", "[::1]"}
        return {f"http://{h}:{self.port}" for h in hosts}

    def origin_allowed(self, origin: str | None, path: str) -> bool:
        """Whether a WebSocket handshake with this ``Origin`` (None: not sent) and request path is let in."""
        if origin is None:
            return True  # not a browser: a program on this machine (or one that can reach the port)
        origin = origin.rstrip("/").lower()
        if origin in self.own_origins() or origin in self.allow_origins or ANY_ORIGIN in self.allow_origins:
            return True
        given = parse_qs(urlsplit(path).query).get("token", [""])[0]
        return hmac.compare_digest(given.encode(), self.token.encode())

    def _http(self, connection, request):
        """A WebSocket upgrade from a refused origin: 403. Plain HTTP: the example page at /, 404 elsewhere."""
        if request.headers.get("Upgrade", "").lower() == "websocket":
            origin = request.headers.get("Origin")
            if self.origin_allowed(origin, request.path):
                return None
            self.refused += 1
            log.warning("refused a stream client from origin %s: not this server's page, not --allow-origin, "
                        "no valid ?token= (docs/stream.md)", origin)
            return connection.respond(HTTPStatus.FORBIDDEN, "origin not allowed: see docs/stream.md\n")
        from websockets.datastructures import Headers
        from websockets.http11 import Response
        if request.path.split("?")[0] in ("/", "/index.html") and self.page is not None and self.page.is_file():
            body = self.page.read_bytes()
            return Response(200, "OK", Headers([("Content-Type", "text/html; charset=utf-8"),
                                               ("Content-Length", str(len(body))),
                                               ("Cache-Control", "no-store")]), body)
        return connection.respond(HTTPStatus.NOT_FOUND, "not found: the event stream is a WebSocket at /\n")

    async def _handle(self, connection) -> None:
        peer = connection.remote_address
        client = _Client(f"{peer[0]}:{peer[1]}" if peer else "client", asyncio.Queue(self.queue_size))
        self._clients.add(client)
        self.stats.clients, self.stats.connected_total = len(self._clients), self.stats.connected_total + 1
        log.info("stream client %s connected (%d now)", client.name, len(self._clients))
        pump = asyncio.create_task(self._pump(connection, client))
        try:
            await connection.send(json.dumps(self.hello))
            await connection.wait_closed()
        except Exception:  # a client that vanished mid-handshake: nothing to do
            pass
        finally:
            pump.cancel()
            self._clients.discard(client)
            self.stats.clients = len(self._clients)
            self.stats.per_client[client.name] = (client.sent, client.dropped)
            log.info("stream client %s left: %d messages sent, %d dropped (it read too slowly)",
                     client.name, client.sent, client.dropped)

    async def _pump(self, connection, client: _Client) -> None:
        while True:
            text = await client.queue.get()
            try:
                await connection.send(text)
            except Exception:  # closed: the handler cleans up
                return
            client.sent += 1

    def _fanout(self, text: str) -> None:
        for client in self._clients:
            if client.queue.full():
                client.queue.get_nowait()
                client.dropped += 1
                self.stats.dropped += 1
            client.queue.put_nowait(text)

    def update_hello(self, **fields: object) -> None:
        """Tell clients that connect from now on these fields too (a new dict: the server's thread may be
        sending the old one)."""
        self.hello = {**self.hello, **fields}

    def publish(self, message: dict) -> None:
        """Send ``message`` to every client; returns at once, whatever the clients do."""
        self.stats.published += 1
        if self._clients:
            self._loop.call_soon_threadsafe(self._fanout, json.dumps(message))

    @property
    def client_count(self) -> int:
        """Clients connected now."""
        return len(self._clients)

    def close(self) -> None:
        """Stop serving and close every connection."""
        if self._loop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)

    def __enter__(self) -> StreamServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
