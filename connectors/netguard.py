"""The outbound-address guard: Flowdeck calls URLs that workflow authors type, so a request must
not reach the machine itself, its private network or a cloud's metadata service (SSRF).

How it holds:
- Each connection resolves the host once (getaddrinfo), classifies every address, and connects
  to one that passed, by its IP. Nothing resolves the name again between the check and the
  connect, so a DNS answer that changes in between (rebinding) cannot slip through.
- The check sits in the httpcore network backend of the client, so every connection goes
  through it: the first, keep-alive replacements and each redirect's.
- The client ignores proxy settings from the environment (``trust_env=False``): a proxy would
  make the connection for us, to an address we never saw.
- TLS (SNI, certificate check) and the Host header keep the URL's host name.

``FLOWDECK_HTTP_ALLOW_NETWORKS`` lists networks (CIDR) that may be reached although their class
is refused, e.g. an internal service at 10.1.2.3/32; an entry with a port (``127.0.0.1:9000``)
opens that port only.
"""

import functools
import ipaddress
import socket
import ssl
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import httpcore
import httpx
from django.conf import settings

from flowdeck.env import IPNetworkType as IPNetwork
from flowdeck.env import parse_allow_entry

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_v4 = ipaddress.IPv4Network
_v6 = ipaddress.IPv6Network

# Address classes refused unless allowed, most specific first. Written out instead of relying on
# ipaddress's is_private/is_global alone: their coverage differs between Python versions (e.g.
# 100.64.0.0/10 and 192.0.0.0/24), and the error names the class.
_V4_CLASSES: tuple[tuple[IPNetwork, str], ...] = (
    (_v4("0.0.0.0/8"), "unspecified"),  # "this network"; 0.0.0.0 reaches the local host on Linux
    (_v4("127.0.0.0/8"), "loopback"),
    (_v4("10.0.0.0/8"), "private"),
    (_v4("172.16.0.0/12"), "private"),
    (_v4("192.168.0.0/16"), "private"),
    (_v4("100.64.0.0/10"), "shared"),  # carrier-grade NAT (RFC 6598)
    (_v4("169.254.0.0/16"), "link-local"),  # includes 169.254.169.254, cloud metadata
    (_v4("224.0.0.0/4"), "multicast"),
    (_v4("240.0.0.0/4"), "reserved"),  # includes the broadcast address
    (_v4("192.0.0.0/24"), "reserved"),  # IETF protocol assignments
    (_v4("192.0.2.0/24"), "reserved"),  # documentation
    (_v4("198.51.100.0/24"), "reserved"),
    (_v4("203.0.113.0/24"), "reserved"),
    (_v4("198.18.0.0/15"), "reserved"),  # benchmarking
    (_v4("192.88.99.0/24"), "reserved"),  # 6to4 relay anycast
)
_V6_CLASSES: tuple[tuple[IPNetwork, str], ...] = (
    (_v6("::/128"), "unspecified"),
    (_v6("::1/128"), "loopback"),
    (_v6("fe80::/10"), "link-local"),
    (_v6("fc00::/7"), "private"),  # unique local
    (_v6("fec0::/10"), "private"),  # site-local (deprecated)
    (_v6("ff00::/8"), "multicast"),
    (_v6("64:ff9b:1::/48"), "private"),  # local-use NAT64
    (_v6("2001::/32"), "reserved"),  # Teredo: a tunnel to an address we cannot see
    (_v6("2001:db8::/32"), "reserved"),  # documentation
    (_v6("100::/64"), "reserved"),  # discard
    (_v6("::/8"), "reserved"),  # includes the deprecated IPv4-compatible ::a.b.c.d
)
_NAT64 = _v6("64:ff9b::/96")
_SIX_TO_FOUR = _v6("2002::/16")


class AddressRefused(Exception):
    """The host resolves to an address Flowdeck may not call. The message names the host and
    the address class; the address itself only when the URL gave it (a resolved internal
    address is not for the workflow's author to learn)."""

    def __init__(self, host: str, address_class: str, address: str = "") -> None:
        self.host = host
        self.address_class = address_class
        self.address = address
        what = "is" if host == address else "resolves to"
        super().__init__(
            f"{host} {what} a {address_class} address, which Flowdeck may not call "
            "(FLOWDECK_HTTP_ALLOW_NETWORKS lists the networks it may)"
        )


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, when it carries one the network delivers
    to: IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:AABB:CCDD::)."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _SIX_TO_FOUR:
        return ip.sixtofour
    return None


def classify(ip: IPAddress) -> str | None:
    """The refused class of ``ip`` (loopback, private, link-local, multicast, reserved,
    unspecified, shared), or None for a public address."""
    inner = embedded_ipv4(ip)
    if inner is not None:
        return classify(inner)
    table = _V4_CLASSES if ip.version == 4 else _V6_CLASSES
    for network, name in table:
        if ip in network:
            return name
    # Whatever else the registries set aside (Python's table of special ranges).
    if not ip.is_global:
        return "reserved"
    return None


class Allowed(NamedTuple):
    """An allow-list entry: a network, and the one port it is open on (None: every port)."""

    network: IPNetwork
    port: int | None = None

    def admits(self, ip: IPAddress, port: int | None) -> bool:
        return (
            ip.version == self.network.version
            and ip in self.network
            and (self.port is None or self.port == port)
        )


def parse_allow(items: Iterable[str]) -> tuple[Allowed, ...]:
    """Allow-list entries from their text (``10.0.0.0/8``, ``127.0.0.1:9000``, ``[::1]:9000``)."""
    return tuple(Allowed(*parse_allow_entry(item)) for item in items)


def allowed_networks() -> tuple[Allowed, ...]:
    """FLOWDECK_HTTP_ALLOW_NETWORKS, read at each use (tests and settings overrides change it)."""
    return parse_allow(getattr(settings, "FLOWDECK_HTTP_ALLOW_NETWORKS", ()))


def refusal(ip: IPAddress, allow: Sequence[Allowed], port: int | None = None) -> str | None:
    """The class for which ``ip`` (on ``port``; None when not known yet: then only entries
    without a port count) is refused, or None when it may be called."""
    address_class = classify(ip)
    if address_class is None:
        return None
    candidates = [ip] + [x for x in [embedded_ipv4(ip)] if x is not None]
    if any(entry.admits(c, port) for c in candidates for entry in allow):
        return None
    return address_class


def refused_literal(host: str, port: int | None = None) -> str | None:
    """For a host given as an IP literal that may not be called (on ``port``): why (for a
    form's error). None for an allowed address or a host name (names are judged when
    connecting)."""
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    address_class = refusal(ip, allowed_networks(), port)
    if address_class is None:
        return None
    return str(AddressRefused(host, address_class, host))


def check_host(host: str, port: int, allow: Sequence[Allowed] | None = None) -> list[str]:
    """Resolve ``host`` and return the addresses that may be called, in the resolver's order.
    Raises AddressRefused when none may, httpcore.ConnectError when the name does not resolve."""
    allow = allowed_networks() if allow is None else allow
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    permitted: list[str] = []
    first_refused: tuple[str, str] | None = None
    for _family, _type, _proto, _canon, sockaddr in infos:
        # A scope id (fe80::1%eth0) is only on link-local addresses, which are refused anyway.
        text = str(sockaddr[0]).split("%", 1)[0]
        ip = ipaddress.ip_address(text)
        address_class = refusal(ip, allow, port)
        if address_class is None:
            if text not in permitted:
                permitted.append(text)
        elif first_refused is None:
            first_refused = (text, address_class)
    if not permitted:
        address, address_class = first_refused or ("", "unknown")
        raise AddressRefused(host.strip("[]"), address_class, address)
    return permitted


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's socket backend, checking each address before it connects to it. Of several
    permitted addresses (IPv6 and IPv4), each is tried in turn, as create_connection would."""

    def __init__(self, allow: Sequence[Allowed] | None = None) -> None:
        self.allow = allow

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        last: Exception | None = None
        for address in check_host(host, port, self.allow):
            try:
                # An IP literal: create_connection does not resolve it again.
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with its connection pool on the guarded backend."""

    def __init__(
        self,
        *,
        allow: Sequence[Allowed] | None = None,
        verify: Any = True,
        limits: httpx.Limits | None = None,
        http1: bool = True,
    ) -> None:
        limits = limits or httpx.Limits(max_connections=10, max_keepalive_connections=5)
        ssl_context = _default_ssl_context() if verify is True else verify
        ssl_context = httpx.create_ssl_context(verify=ssl_context, trust_env=False)
        super().__init__(verify=ssl_context, trust_env=False, limits=limits, http1=http1)
        # httpx builds its pool without a way to pass a network backend: replace it (same
        # settings; httpx is pinned, and tests/test_netguard.py proves the check runs).
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=http1,
            network_backend=GuardedBackend(allow),
        )


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    """Loading the CA bundle costs tens of milliseconds of CPU; one context serves every
    client (an SSLContext may be shared between connections and threads)."""
    return httpx.create_ssl_context(verify=True, trust_env=False)


_BYPASSES = ("transport", "mounts", "proxy", "trust_env", "app")


def guarded_client(
    *, allow: Sequence[str] | None = None, verify: Any = True, **httpx_kwargs: Any
) -> httpx.Client:
    """An httpx.Client whose every connection (redirects included) passes the guard. ``allow``
    overrides FLOWDECK_HTTP_ALLOW_NETWORKS (its entries' text). Raises AddressRefused, not an
    httpx error, for a refused address: a refusal is permanent, unlike a network failure."""
    bypass = [name for name in _BYPASSES if name in httpx_kwargs]
    if bypass:
        raise TypeError(
            f"guarded_client does not take {', '.join(bypass)}: it would bypass the guard"
        )
    networks = None if allow is None else parse_allow(allow)
    return httpx.Client(
        transport=GuardedTransport(allow=networks, verify=verify),
        trust_env=False,
        **httpx_kwargs,
    )
