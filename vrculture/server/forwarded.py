"""The visitor's address and scheme behind a reverse proxy (X-Forwarded-For, X-Real-IP,
X-Forwarded-Proto), believed only from the proxies the operator names in
ServerConfig.trusted_proxies.

Anyone can write any address into those headers, and per-address limits key on the address:
a header from a connection that is not a trusted proxy is ignored. X-Forwarded-For is read from
the right (the hop the trusted proxy itself appended) past every trusted hop; the first address
that is not a trusted proxy is the client. Entries further left were written by the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from multidict import CIMultiDictProxy

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

SCHEMES = ("http", "https")


def parse_networks(values: Iterable[str]) -> list[Network]:
    """Addresses or networks (`127.0.0.1`, `10.0.0.0/8`, `::1`); ValueError names a bad one."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError as error:
            raise ValueError(f"{value!r} is not an IP address or network") from error
    return networks


def _address(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # a dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d
    return address


def _trusted(address: Address, networks: Sequence[Network]) -> bool:
    return any(address in network for network in networks)


def client_address(peer: str | None, headers: CIMultiDictProxy[str],
                   networks: Sequence[Network]) -> str | None:
    """The client's address: the peer's, unless the peer is a trusted proxy that says whom it
    forwards for."""
    peer_address = _address(peer) if peer else None
    if peer_address is None or not _trusted(peer_address, networks):
        return peer
    hops = [hop for value in headers.getall("X-Forwarded-For", ()) for hop in value.split(",")]
    if not hops and "X-Real-IP" in headers:
        hops = [headers["X-Real-IP"]]
    client = str(peer_address)
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:  # garbage: keep the last address a trusted proxy vouched for
            break
        client = str(address)
        if not _trusted(address, networks):
            break
    return client


def forwarded_scheme(headers: CIMultiDictProxy[str]) -> str | None:
    """X-Forwarded-Proto as the nearest proxy set it (http or https), else None."""
    value = headers.get("X-Forwarded-Proto")
    if value is None:
        return None
    scheme = value.rsplit(",", 1)[-1].strip().lower()
    return scheme if scheme in SCHEMES else None


def middlewares(trusted_proxies: Sequence[str]) -> list[Middleware]:
    """A middleware that rewrites request.remote and request.scheme for requests that came
    through a trusted proxy; none at all when no proxy is trusted (the direct-serving case
    pays nothing)."""
    networks = parse_networks(trusted_proxies)
    if not networks:
        return []

    @web.middleware
    async def from_trusted_proxy(request: web.Request, handler: Handler) -> web.StreamResponse:
        peer = request.remote
        peer_address = _address(peer) if peer else None
        if peer is None or peer_address is None or not _trusted(peer_address, networks):
            return await handler(request)
        remote = client_address(peer, request.headers, networks) or peer
        scheme = forwarded_scheme(request.headers) or request.scheme
        if remote != peer or scheme != request.scheme:
            request = request.clone(remote=remote, scheme=scheme)
        return await handler(request)

    return [from_trusted_proxy]
