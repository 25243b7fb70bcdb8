"""Where a webhook may be sent: http(s) only, and (unless ``MOTCUA_WEBHOOK_ALLOW_PRIVATE``) never inside.

A subscription's host is resolved when it is created (a URL that resolves inside is refused with 422
``WEBHOOK_URL_FORBIDDEN``) and again before every delivery; the delivery then connects to the very address that
was checked (the name is sent as ``Host`` and as the TLS server name), so a DNS answer that changes between the
check and the connection (DNS rebinding) cannot redirect it inside. Redirects are never followed.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


class ForbiddenTarget(ValueError):
    """The URL is not http(s), has no host, does not resolve, or resolves to an address we may not call."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    address: str
    path: str

    @property
    def connect_url(self) -> str:
        """The URL with the checked address in place of the name."""
        literal = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.scheme}://{literal}:{self.port}{self.path}"

    @property
    def host_header(self) -> str:
        return self.host if self.port == DEFAULT_PORTS[self.scheme] else f"{self.host}:{self.port}"


def is_internal(address: str) -> bool:
    """Loopback, private, link-local, multicast, reserved, unspecified or shared (CGNAT) addresses, IPv4 seen
    through IPv6 included."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved
            or ip.is_unspecified or not ip.is_global)


def parse(url: str) -> tuple[str, str, int, str]:
    """``(scheme, host, port, path-and-query)`` of an http(s) URL, or :class:`ForbiddenTarget`."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ForbiddenTarget(f"URL không hợp lệ: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ForbiddenTarget("Chỉ chấp nhận địa chỉ http hoặc https.")
    if not parts.hostname:
        raise ForbiddenTarget("Địa chỉ webhook thiếu tên máy chủ.")
    if parts.username or parts.password:
        raise ForbiddenTarget("Địa chỉ webhook không được chứa thông tin đăng nhập.")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return scheme, parts.hostname, port or DEFAULT_PORTS[scheme], path


def resolve(url: str, *, allow_private: bool) -> Target:
    """Check ``url`` and resolve its host once: every address it resolves to must be public unless
    ``allow_private``; the first one is where to connect."""
    scheme, host, port, path = parse(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise ForbiddenTarget(f"Không phân giải được tên máy chủ {host}.") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise ForbiddenTarget(f"Không phân giải được tên máy chủ {host}.")
    if not allow_private and any(is_internal(a) for a in addresses):
        raise ForbiddenTarget("Địa chỉ webhook trỏ vào mạng nội bộ (loopback hoặc địa chỉ riêng), không được phép.")
    return Target(scheme, host, port, addresses[0], path)
