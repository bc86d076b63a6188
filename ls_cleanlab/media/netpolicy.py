"""Where media may be fetched from: URL parsing, the host allowlist and the address check.

Private to :mod:`ls_cleanlab.media.fetcher`; see its docstring for the policy.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from ls_cleanlab.errors import InvalidOptionError, MediaError

__all__ = [
    "IP",
    "MEDIA_ROUTES",
    "Allowlist",
    "Target",
    "admit",
    "canonical_path",
    "is_media_route",
    "is_public",
    "netloc",
    "shown",
]

HINT = "add it to allowed_hosts / LS_CLEANLAB_ALLOWED_HOSTS"

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def ip_or_none(text: str) -> IP | None:
    try:
        ip = ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def is_public(ip: IP) -> bool:
    """True for a global unicast address (not private, loopback, link-local, reserved,
    shared, unspecified or multicast)."""
    return ip.is_global and not ip.is_multicast


@dataclass(frozen=True)
class Allowlist:
    """Parsed ``allowed_hosts``: exact names, wildcard suffixes and IP networks."""

    names: frozenset[str]
    suffixes: tuple[str, ...]
    networks: tuple[Network, ...]

    @classmethod
    def parse(cls, entries: Sequence[str] | str) -> Allowlist:
        """Parse entries (a comma-separated string is split); raise ``InvalidOptionError`` on
        an entry that is no host name, ``*.`` wildcard, IP address or CIDR network."""
        if isinstance(entries, str):
            entries = entries.split(",")
        names: set[str] = set()
        suffixes: list[str] = []
        networks: list[Network] = []
        for raw in entries:
            entry = str(raw).strip().lower().rstrip(".")
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            except ValueError:
                pass
            name = entry[2:] if entry.startswith("*.") else entry
            labels = name.split(".")
            if not all(
                label and label.replace("-", "").replace("_", "").isalnum() for label in labels
            ):
                raise InvalidOptionError(
                    f"allowed_hosts entry {raw!r} is not a host name, '*.domain' wildcard, IP "
                    "address or CIDR network (no scheme, port or path), e.g. 'images.example.com'."
                )
            if entry.startswith("*."):
                suffixes.append("." + name)
            else:
                names.add(name)
        return cls(frozenset(names), tuple(suffixes), tuple(networks))

    def exact(self, host: str) -> bool:
        return host in self.names

    def wildcard(self, host: str) -> bool:
        return any(host.endswith(suffix) for suffix in self.suffixes)

    def address(self, ip: IP) -> bool:
        return any(ip.version == net.version and ip in net for net in self.networks)


def netloc(host: str, port: int, scheme: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown if port == (443 if scheme == "https" else 80) else f"{shown}:{port}"


def shown(url: str) -> str:
    """A URL for messages: no credentials, query or fragment (presigned URLs carry secrets)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"[:200]


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with the query

    @classmethod
    def parse(cls, url: str) -> Target:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise MediaError(f"not a valid URL: {shown(url)} ({exc})", "bad_reference") from exc
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise MediaError(
                f"scheme '{scheme}:' is not allowed; only http, https and data: URIs are fetched",
                "refused",
            )
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise MediaError(f"no host in URL {url[:200]!r}", "bad_reference")
        if parts.username is not None or parts.password is not None:
            raise MediaError(f"credentials in URLs are not supported: {shown(url)}", "refused")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return cls(scheme, host, port or (443 if scheme == "https" else 80), path)

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host, self.port)

    def url(self) -> str:
        return f"{self.scheme}://{netloc(self.host, self.port, self.scheme)}{self.path}"


def admit(target: Target, allowed: Allowlist, studio: Target | None) -> list[IP]:
    """The addresses ``target``'s host may be reached at, or a ``MediaError`` refusing it.

    Label Studio's own host and port (``studio``) and exact allowed names may resolve to any
    address; other names must match a wildcard (then public addresses only) or resolve into the
    allowed networks; IP literals must lie in the allowed networks.
    """
    host = target.host.lower()
    literal = ip_or_none(host)
    exact = (studio is not None and (host, target.port) == (studio.host, studio.port)) or (
        allowed.exact(host)
    )
    wildcard = not exact and literal is None and allowed.wildcard(host)
    if literal is not None and not exact and not allowed.address(literal):
        raise MediaError(f"host '{host}' is not allowed; {HINT}", "refused")
    if literal is None and not (exact or wildcard or allowed.networks):
        raise MediaError(f"host '{host}' is not allowed; {HINT}", "refused")
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise MediaError(f"cannot resolve host '{host}'", "unreachable") from exc
    addresses = list(dict.fromkeys(ip for info in infos if (ip := ip_or_none(str(info[4][0])))))
    for ip in addresses:
        if exact or allowed.address(ip):
            continue
        if wildcard and is_public(ip):
            continue
        if wildcard:
            raise MediaError(
                f"host '{host}' resolves to non-public address {ip}; allow the exact host "
                "name or the address in allowed_hosts / LS_CLEANLAB_ALLOWED_HOSTS",
                "refused",
            )
        raise MediaError(
            f"host '{host}' is not allowed (it resolves to {ip}, outside the allowed "
            f"networks); {HINT}",
            "refused",
        )
    if not addresses:
        raise MediaError(f"cannot resolve host '{host}'", "unreachable")
    return addresses


#: The paths Label Studio 1.23.2 serves task media from, relative to its own URL (from its URL
#: conf: ``data_import/urls.py`` and ``io_storages/urls.py``); its key goes to these and no
#: other path. Avatars (``/data/avatars/``) are no task media.
MEDIA_ROUTES = (
    re.compile(r"/data/upload/[^/].*"),  # files uploaded through the import dialog
    re.compile(r"/data/local-files/?"),  # local files storage: ?d=<path>
    re.compile(r"/storage-data/uploaded/?"),  # persistent storage: ?filepath=<path>
    re.compile(r"/(?:tasks|projects)/\d+/(?:resolve|presign)/?"),  # cloud storage: ?fileuri=
)


def canonical_path(path: str) -> str:
    """``path`` (no query) as a server finally reads it: repeated slashes collapsed and dot
    segments removed (RFC 3986, section 5.2.4); never above the root."""
    out: list[str] = []
    segments = path.split("/")
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment == "..":
            if out:
                out.pop()
            if last:
                out.append("")
        elif segment == ".":
            if last:
                out.append("")
        elif segment or last:
            out.append(segment)
    return "/" + "/".join(out)


def is_media_route(path: str, prefix: str = "") -> bool:
    """Whether ``path`` (with or without its query) is one of :data:`MEDIA_ROUTES` under
    Label Studio's own path ``prefix`` (``""`` at the root).

    The path must already be canonical, and stay so once percent-decoded (repeatedly: a proxy
    may decode again): an encoded dot segment, slash or backslash (``%2e%2e``, ``%2f``, ``%5c``)
    could lead a server elsewhere than the path it was checked as, so such a path is no media
    route.
    """
    path = path.partition("?")[0]
    decoded = path
    for _ in range(3):
        decoded = unquote(decoded)
    if "\\" in decoded or canonical_path(decoded) != decoded or canonical_path(path) != path:
        return False
    prefix = prefix.rstrip("/")
    if not decoded.startswith(prefix + "/"):
        return False
    rest = decoded[len(prefix) :]
    return any(route.fullmatch(rest) for route in MEDIA_ROUTES)
