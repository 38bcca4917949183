"""The tool's public base URL as the browser reached it.

Behind a TLS-terminating reverse proxy the service itself sees plain HTTP;
the proxy says what the browser used in X-Forwarded-Proto and
X-Forwarded-Host. Those headers are believed only from a peer listed in
TRUSTED_PROXIES, since anyone else could forge them to make the tool build
redirect URLs to another host.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from urllib.parse import urlsplit

from fastapi import Request

from app.settings import Settings

HOST_PATTERN = re.compile(
    r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$"
)

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def _networks(trusted_proxies: str) -> tuple[IPNetwork, ...]:
    return tuple(
        ipaddress.ip_network(entry, strict=False)
        for entry in (part.strip() for part in trusted_proxies.split(","))
        if entry
    )


def _is_trusted_peer(request: Request, settings: Settings) -> bool:
    if request.client is None:
        return False
    try:
        peer = ipaddress.ip_address(request.client.host)
    except ValueError:
        return False
    return any(peer in network for network in _networks(settings.trusted_proxies))


def _first(value: str | None) -> str:
    # A chain of proxies appends; the first entry is what the browser used.
    return (value or "").split(",")[0].strip()


def tool_base_url(request: Request, settings: Settings) -> str:
    """`scheme://host` of the tool for this request, without a trailing slash.

    A trusted proxy may send only one of the two headers; the other part then
    comes from the configured public URL.
    """
    configured = urlsplit(settings.public_url)
    if not _is_trusted_peer(request, settings):
        return settings.public_url
    proto = _first(request.headers.get("x-forwarded-proto")).lower()
    host = _first(request.headers.get("x-forwarded-host"))
    if not proto and not host:
        return settings.public_url
    scheme = proto if proto in ("http", "https") else configured.scheme
    netloc = host if HOST_PATTERN.match(host) else configured.netloc
    return f"{scheme}://{netloc}{configured.path.rstrip('/')}"


def is_secure_url(base_url: str) -> bool:
    return base_url.startswith("https://")
