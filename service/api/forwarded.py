"""Who is on the other end of a request, when a TLS-terminating proxy or load balancer sits in front.

``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed only from a peer listed in
``FORENSICS_TRUSTED_PROXIES`` (addresses or networks); from anyone else they are ignored, so a client cannot
claim another address (to escape a per-source limit) or claim HTTPS it does not have.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.requests import HTTPConnection

from service.config import Settings

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(entries: Iterable[str]) -> list[_Network]:
    return [ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip()]


def _is_trusted(address: str, networks: list[_Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in net for net in networks)


def _peer(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client else "unknown"


def client_address(conn: HTTPConnection, settings: Settings) -> str:
    """The client's address: the peer's, or, when the peer is a trusted proxy, the nearest address in
    X-Forwarded-For that is not itself a trusted proxy (the ones further left are the client's word)."""
    peer = _peer(conn)
    networks = _networks(settings.trusted_proxies)
    if not _is_trusted(peer, networks):
        return peer
    hops = [hop.strip() for hop in conn.headers.get("x-forwarded-for", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, networks):
            return hop
    return hops[0] if hops else peer


def is_https(conn: HTTPConnection, settings: Settings) -> bool:
    """Did the client reach us over TLS: directly, or through a trusted proxy that says so."""
    if conn.url.scheme in ("https", "wss"):
        return True
    if not _is_trusted(_peer(conn), _networks(settings.trusted_proxies)):
        return False
    proto = conn.headers.get("x-forwarded-proto", "").split(",")[-1].strip().lower()
    return proto == "https"
