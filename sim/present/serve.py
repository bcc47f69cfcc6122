"""Serving the dashboard safely: loopback unless asked, Host and Origin checked, no statistics route.

``sim-app`` listens on 127.0.0.1. Any other address needs ``--allow-remote`` and prints a warning
(the dashboard has no login: anyone who reaches the port can use it). Every HTTP request and
WebSocket handshake must name, in ``Host``, an allowed host and the bound port — which stops
DNS rebinding, where a foreign web page resolves its own name to 127.0.0.1 — and a WebSocket
whose ``Origin`` is another site is refused (a foreign page cannot drive the dashboard).
The allowed hosts are the loopback names (``localhost``, ``127.0.0.1``, ``::1``), the bound
address, and for a workshop LAN whatever ``--allowed-host NAME`` adds (repeatable; for
``--host 0.0.0.0`` also this machine's name and addresses). Solara's ``/resourcez`` route
(server statistics) is not served.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import sys
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
#: routes of Solara's server that are not served (server statistics)
HIDDEN_ROUTES = ("/resourcez",)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BindRefused(ValueError):
    """``--host`` beyond loopback without ``--allow-remote``; one line."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this computer only."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, allow_remote: bool) -> str | None:
    """Raise :class:`BindRefused` for a non-loopback ``host`` without ``allow_remote``; else
    return the warning to print (None on loopback)."""
    if is_loopback(host):
        return None
    if not allow_remote:
        raise BindRefused(
            f"--host={host} would let other computers reach the dashboard, which has no login; "
            "allowed: 127.0.0.1 (default), or add --allow-remote to mean it"
        )
    return (
        f"sim-app: WARNING: listening on {host}: anyone who can reach this port can use the dashboard "
        "(it has no login); allowed hosts in requests: see --allowed-host"
    )


def allowed_hosts(host: str, extra: Iterable[str] = ()) -> set[str]:
    """The host names a request's ``Host`` (and a WebSocket's ``Origin``) may name."""
    names = {*LOOPBACK_NAMES, host.strip("[]").lower(), *(e.strip("[]").lower() for e in extra)}
    if host in ("0.0.0.0", "::"):
        hostname = socket.gethostname()
        names |= {hostname.lower(), socket.getfqdn().lower()}
        with contextlib.suppress(OSError):  # a machine without a resolvable name
            names |= set(socket.gethostbyname_ex(hostname)[2])
    names.discard("0.0.0.0")
    names.discard("::")
    return names


def _split_host(value: str) -> tuple[str, int | None]:
    """``name:port`` / ``[v6]:port`` / ``name`` → (lower-case name, port or None).

    A ``Host`` is a name and a port, nothing more: one with a user part (``evil.com@127.0.0.1``,
    which a URL parser would reduce to 127.0.0.1), a path, a query or a fragment is no host
    at all, ("", -1), and is refused.
    """
    if any(c in value for c in "@/?#\\") or any(c.isspace() for c in value):
        return "", -1
    parts = urlsplit(f"//{value}")
    try:
        port = parts.port
    except ValueError:
        return "", -1
    return (parts.hostname or "").lower(), port


def request_allowed(headers: dict[str, str], websocket: bool, hosts: set[str], port: int) -> str | None:
    """None if the request may be served; else why not (one line)."""
    name, given = _split_host(headers.get("host", ""))
    if name not in hosts or given not in (None, port):
        return f"Host {headers.get('host', '')!r} is not this dashboard"
    origin = headers.get("origin")
    if websocket and origin is not None:
        parts = urlsplit(origin)
        try:
            origin_port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
        except ValueError:
            origin_port = -1
        userinfo = "@" in parts.netloc  # an Origin is scheme://host:port, never user@host
        if userinfo or (parts.hostname or "").lower() not in hosts or origin_port != port:
            return f"Origin {origin!r} is not this dashboard"
    return None


class Guard:
    """ASGI wrapper: refuses hidden routes and requests whose Host/Origin is not the dashboard."""

    def __init__(self, app: ASGIApp, hosts: set[str], port: int) -> None:
        self.app = app
        self.hosts = hosts
        self.port = port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)  # lifespan
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        hidden = scope.get("path", "").rstrip("/") in HIDDEN_ROUTES
        why = "not served" if hidden else request_allowed(headers, kind == "websocket", self.hosts, self.port)
        if why is None:
            await self.app(scope, receive, send)
            return
        if kind == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1008})
            return
        status = 404 if hidden else 403
        body = f"{why}\n".encode()
        head = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": head})
        await send({"type": "http.response.body", "body": body})


def install(host: str, port: int, extra_hosts: Iterable[str] = ()) -> Guard:
    """Wrap Solara's server app (what ``solara run`` serves) in a :class:`Guard`; return it."""
    import solara.server.starlette as server

    app = server.app
    if isinstance(app, Guard):
        app = app.app
    guard = Guard(app, allowed_hosts(host, extra_hosts), port)
    server.app = guard  # uvicorn imports "solara.server.starlette:app" in this process
    return guard


def warn(text: str | None) -> None:
    if text:
        print(text, file=sys.stderr, flush=True)
