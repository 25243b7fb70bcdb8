"""The address of the client a request comes from, for rate limits.

``X-Forwarded-For`` is believed only when the peer that connected is one of ``MOTCUA_TRUSTED_PROXIES``
(addresses or networks). Then the header is read from the right, skipping trusted proxies, and the first address
that is not one of them is the client: everything left of it was written by the client itself and proves
nothing. Anyone else's header is ignored, so rotating it does not buy a fresh limit. The server must not rewrite
the peer address from the header itself (uvicorn runs with ``proxy_headers`` off: see ``service.server``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_trusted(entries: Iterable[str]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _is_trusted(address: str, trusted: tuple[IPNetwork, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def client_address(peer: str | None, forwarded_for: list[str], trusted: tuple[IPNetwork, ...]) -> str:
    """The client's address given the connected ``peer`` and the ``X-Forwarded-For`` header values."""
    peer = peer or "unknown"
    if not trusted or not _is_trusted(peer, trusted):
        return peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return hop[:64]
    return peer
