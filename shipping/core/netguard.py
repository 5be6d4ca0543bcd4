"""Outbound HTTP to addresses users give us (webhook targets, images in documents) without SSRF.

Resolve, check every address is public (is_public_address), then connect to that very address
(pinned_connection) so a second DNS answer cannot point the request at an internal host.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_public_address(address: str) -> bool:
    """True only for globally routable unicast addresses (IPv4 and IPv6, embedded IPv4 unwrapped)."""
    try:
        ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL:
            return False
        embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else ip.ipv4_mapped or ip.sixtofour
        ip = embedded or ip  # judge the IPv4 address the packet would really reach
    return ip.is_global and not (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified
    )


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address we checked; Host header and URL keep the name."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to the address we checked; TLS still verifies the certificate for the host name (SNI)."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def pinned_connection(*, https: bool, host: str, port: int, address: str, timeout: float) -> http.client.HTTPConnection:
    cls = _PinnedHTTPSConnection if https else _PinnedHTTPConnection
    return cls(host, port, address=address, timeout=timeout)
