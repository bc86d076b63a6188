"""Loading task media safely: Label Studio uploads and local files, allowed URLs, ``data:`` URIs.

Task data refers to media as Label Studio-relative paths (``/data/upload/3/a.png``,
``/data/local-files/?d=images/x.png``, ``/tasks/5/presign/?fileuri=...``), absolute ``http(s)``
URLs or ``data:`` URIs. :class:`MediaFetcher` turns any of them into bytes under one policy:

- Relative paths, and absolute URLs on Label Studio's own scheme, host and port, are fetched from
  Label Studio. Their path is normalized first (repeated slashes collapsed, dot segments
  removed: what is sent is what was checked), and the key goes with it only when it is one of
  the routes Label Studio serves task media from (:data:`~ls_cleanlab.media.netpolicy.MEDIA_ROUTES`:
  ``/data/upload/``, ``/data/local-files/``, ``/storage-data/uploaded/``,
  ``/tasks/<id>/resolve/`` and ``/presign/``, and the same under ``/projects/<id>/``) and stays
  one once percent-decoded. Any other path on Label Studio's host (its API, ``/static/``, a path
  that decodes into a dot segment) is fetched without the key: Label Studio serves public files
  there that tasks may point at, and without the key it answers only what it answers anyone.
  No other host ever receives the key, also not after a redirect; every hop is checked anew.
- Other hosts must be in ``allowed_hosts``: exact names, ``*.example.com`` wildcards (any
  subdomain, not the apex), IP addresses or CIDR networks. Before each request and each redirect
  hop (at most 5, followed by hand) the host is resolved once and the connection goes to the
  resolved address, so DNS cannot change its answer in between. A private, loopback, link-local,
  reserved or multicast address is refused unless that address is in an allowed network or the
  host was allowed by its exact name (a wildcard does not vouch for private addresses).
- Only ``http`` and ``https``; connect and read timeouts, a deadline for the whole download, and
  ``max_bytes`` checked against ``Content-Length`` and while streaming. Proxies from the
  environment are not used.

:func:`decode_image` checks the pixel count from the header before decoding any pixel, then
returns a loaded RGB image (EXIF orientation applied, alpha composited on white, 16-bit and
float grey scaled to 8 bits). Every failure is a :class:`~ls_cleanlab.errors.MediaError`.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from urllib.parse import urljoin

import urllib3
from PIL import Image
from requests.certs import where as ca_bundle

from ls_cleanlab.errors import InvalidOptionError, MediaError, StudioAuthError, StudioError
from ls_cleanlab.media.images import DEFAULT_MAX_PIXELS, decode_image
from ls_cleanlab.media.local import local_files_path, read_data_uri, read_local, too_large
from ls_cleanlab.media.netpolicy import (
    IP,
    Allowlist,
    Target,
    admit,
    canonical_path,
    is_media_route,
    netloc,
    shown,
)
from ls_cleanlab.studio import StudioSession
from ls_cleanlab.validation import check_int, check_real

__all__ = ["DEFAULT_MAX_PIXELS", "MediaFetcher", "decode_image"]

MAX_REDIRECTS = 5
#: Failed references whose kind :meth:`MediaFetcher.failure_kind` remembers (oldest dropped).
MAX_FAILURES_KEPT = 100_000
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
#: Connections kept per host: the feature and box stages fetch from 8 threads at once (with 1,
#: urllib3 discarded seven of every eight connections, warning each time).
_POOL_SIZE = 8


class MediaFetcher:
    """Fetch task media from Label Studio, allowlisted hosts and ``data:`` URIs (module docs).

    Parameters
    ----------
    studio_url : str, optional
        Label Studio's base URL; needed for relative references such as ``/data/upload/...``.
    api_key : str, optional
        A personal access token or legacy token, sent only to ``studio_url``'s scheme, host and
        port.
    session : StudioSession, optional
        Instead of ``studio_url`` and ``api_key``: a client's session, whose URL and key are used
        (through a clone, so the fetcher never closes the client's connections).
    allowed_hosts : sequence of str or str
        Other hosts to fetch from: names, ``*.example.com``, IP addresses, CIDR networks (a
        string is split on commas, as in ``LS_CLEANLAB_ALLOWED_HOSTS``).
    timeout : float
        Seconds to connect, and to wait for each read.
    max_bytes : int
        Largest body accepted, in bytes.
    local_files_root : str or Path, optional
        Label Studio's ``LOCAL_FILES_DOCUMENT_ROOT`` when it is readable here: then
        ``/data/local-files/?d=...`` is read from disk instead of through Label Studio.
    max_pixels : int
        Largest width × height :meth:`open_image` decodes.
    total_timeout : float
        Seconds for a whole fetch, redirects included.
    """

    def __init__(
        self,
        studio_url: str | None = None,
        api_key: str | None = None,
        *,
        session: StudioSession | None = None,
        allowed_hosts: Sequence[str] | str = (),
        timeout: float = 10.0,
        max_bytes: int = 20 * 2**20,
        local_files_root: str | Path | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        total_timeout: float = 120.0,
    ) -> None:
        timeout = check_real(timeout, "timeout", low=0.0, open_low=True)
        total_timeout = check_real(total_timeout, "total_timeout", low=0.0, open_low=True)
        max_bytes = check_int(max_bytes, "max_bytes", low=1)
        max_pixels = check_int(max_pixels, "max_pixels", low=1)
        if session is not None:
            if studio_url is not None or api_key is not None:
                raise InvalidOptionError("give either session or studio_url and api_key, not both.")
            studio_url = session.url
        if studio_url is not None and not str(studio_url).startswith(("http://", "https://")):
            raise InvalidOptionError(
                f"studio_url must start with http:// or https://, got {studio_url!r}"
            )
        self.studio_url = studio_url.rstrip("/") if studio_url else None
        self._studio: Target | None = Target.parse(self.studio_url) if self.studio_url else None
        if api_key and self.studio_url is None:
            raise InvalidOptionError("api_key is only sent to Label Studio: give studio_url too.")
        self._session: StudioSession | None = None
        if session is not None:
            self._session = session.clone(retries=1)
        elif self.studio_url and api_key:
            self._session = StudioSession(self.studio_url, api_key, retries=1)
        self.allowed = Allowlist.parse(allowed_hosts)
        self.timeout = float(timeout)
        self.total_timeout = float(total_timeout)
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
        self.local_files_root: Path | None = None
        if local_files_root is not None:
            root = Path(local_files_root).resolve()
            if not root.is_dir():
                raise InvalidOptionError(f"local_files_root {str(root)!r} is not a directory.")
            self.local_files_root = root
        self._pools: dict[tuple[str, str, int, str], urllib3.HTTPConnectionPool] = {}
        self._failed: dict[str, str] = {}
        self._failed_lock = threading.Lock()

    def __repr__(self) -> str:  # never show the key
        key = "with key" if self._session else "no key"
        return f"MediaFetcher({self.studio_url!r}, {key}, max_bytes={self.max_bytes})"

    def __getstate__(self) -> dict[str, object]:
        """Pickled as its settings (for an executor's workers): no open connections, no
        failures remembered."""
        state = {k: v for k, v in self.__dict__.items() if k != "_failed_lock"}
        return {**state, "_pools": {}, "_failed": {}}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state, _failed_lock=threading.Lock())

    def close(self) -> None:
        """Close pooled connections."""
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
        if self._session is not None:
            self._session.close()

    def __enter__(self) -> MediaFetcher:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- public ---------------------------------------------------------------------------------

    def open_image(self, ref: str) -> Image.Image:
        """:meth:`fetch` and :func:`decode_image`: a loaded RGB image, or a ``MediaError``."""
        return decode_image(self.fetch(ref), max_pixels=self.max_pixels)

    def failure_kind(self, ref: str) -> str | None:
        """The ``MediaError.kind`` of the last failed :meth:`fetch` of ``ref`` by this fetcher
        (None when it never failed): callers that count skipped media by reason use it."""
        with self._failed_lock:
            return self._failed.get(ref) if isinstance(ref, str) else None

    def fetch(self, ref: str) -> bytes:
        """The bytes ``ref`` refers to (a Label Studio path, an ``http(s)`` URL, a ``data:`` URI).

        Raises
        ------
        MediaError
            For every failure; ``kind`` says which sort, the message says why (and
            :meth:`failure_kind` remembers the kind).
        """
        try:
            return self._fetch(ref)
        except MediaError as error:
            self.remember_failure(ref, error.kind)
            raise

    def remember_failure(self, ref: str, kind: str) -> None:
        """Keep ``kind`` as :meth:`failure_kind` of ``ref`` (a copy of this fetcher on a Dask
        worker failed to fetch it)."""
        with self._failed_lock:
            if len(self._failed) >= MAX_FAILURES_KEPT:
                self._failed.pop(next(iter(self._failed)))
            self._failed[ref] = kind

    def _fetch(self, ref: str) -> bytes:
        if not isinstance(ref, str) or not ref.strip():
            raise MediaError(
                f"a media reference must be a non-empty string, got {ref!r}", "bad_reference"
            )
        ref = ref.strip()
        if ref[:5].lower() == "data:":
            return read_data_uri(ref, self.max_bytes)
        local = None if self.local_files_root is None else local_files_path(ref, self._studio)
        if local is not None and self.local_files_root is not None:
            return read_local(self.local_files_root, local, self.max_bytes)
        if ref.startswith("//"):
            ref = f"{self._studio.scheme if self._studio else 'https'}:{ref}"
        elif ref.startswith("/"):
            if self.studio_url is None:
                raise MediaError(
                    f"{ref[:100]!r} is relative to Label Studio: give its URL and key (--url "
                    "and --api-key; studio_url for a MediaFetcher)",
                    "bad_reference",
                )
            ref = self.studio_url + ref
        elif "://" not in ref and not ref.lower().startswith(("file:", "ftp:")):
            raise MediaError(
                f"not a URL, Label Studio path or data: URI: {ref[:100]!r}", "bad_reference"
            )
        return self._download(Target.parse(ref))

    # -- http -----------------------------------------------------------------------------------

    def _pool(self, target: Target, ip: IP) -> urllib3.HTTPConnectionPool:
        key = (target.scheme, str(ip), target.port, target.host)
        if key not in self._pools:
            if target.scheme == "https":
                self._pools[key] = urllib3.HTTPSConnectionPool(
                    str(ip),
                    target.port,
                    retries=False,
                    maxsize=_POOL_SIZE,
                    server_hostname=target.host,
                    assert_hostname=target.host,
                    cert_reqs="CERT_REQUIRED",
                    ca_certs=ca_bundle(),
                )
            else:
                self._pools[key] = urllib3.HTTPConnectionPool(
                    str(ip), target.port, retries=False, maxsize=_POOL_SIZE
                )
        return self._pools[key]

    def _on_studio(self, target: Target) -> bool:
        return self._studio is not None and target.origin == self._studio.origin

    def _keyed(self, target: Target) -> bool:
        """Whether ``target`` gets the key: a media route on Label Studio's own origin."""
        if self._session is None or self._studio is None or not self._on_studio(target):
            return False
        return is_media_route(target.path, self._studio.path.partition("?")[0])

    def _auth(self, target: Target, refresh: bool) -> dict[str, str]:
        if self._session is None or not self._keyed(target):
            return {}
        try:
            return self._session.auth_headers(refresh=refresh)
        except StudioAuthError as exc:
            raise MediaError(str(exc), "auth") from exc
        except StudioError as exc:
            raise MediaError(str(exc), "unreachable") from exc

    def _send(
        self, target: Target, addresses: list[IP], headers: dict[str, str]
    ) -> urllib3.BaseHTTPResponse:
        where = shown(target.url())
        refused: Exception | None = None
        for ip in addresses:
            try:
                return self._pool(target, ip).urlopen(
                    "GET",
                    target.path,
                    headers=headers,
                    redirect=False,
                    retries=False,
                    preload_content=False,
                    decode_content=False,
                    timeout=urllib3.Timeout(connect=self.timeout, read=self.timeout),
                )
            except urllib3.exceptions.NewConnectionError as exc:
                refused = exc  # try the next address
            except urllib3.exceptions.TimeoutError as exc:
                message = f"timed out after {self.timeout:g} s: {where}"
                raise MediaError(message, "unreachable") from exc
            except urllib3.exceptions.SSLError as exc:
                raise MediaError(f"TLS error with {where}: {exc}", "unreachable") from exc
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                message = f"could not fetch {where} ({type(exc).__name__})"
                raise MediaError(message, "unreachable") from exc
        message = f"could not connect to {where} (connection refused)"
        raise MediaError(message, "unreachable") from refused

    def _download(self, target: Target) -> bytes:
        deadline = time.monotonic() + self.total_timeout
        refreshed = False
        hops = 0
        while True:
            if self._on_studio(target):  # send the path that is checked
                path, mark, query = target.path.partition("?")
                target = dataclasses.replace(target, path=canonical_path(path) + mark + query)
            addresses = admit(target, self.allowed, self._studio)
            headers = {
                "Host": netloc(target.host, target.port, target.scheme),
                "User-Agent": "ls-cleanlab",
                "Accept-Encoding": "identity",
                **self._auth(target, refresh=False),
            }
            response = self._send(target, addresses, headers)
            try:
                status = response.status
                where = shown(target.url())
                if status in _REDIRECTS and response.headers.get("Location"):
                    hops += 1
                    if hops > MAX_REDIRECTS:
                        raise MediaError(
                            f"more than {MAX_REDIRECTS} redirects from {where}", "unreachable"
                        )
                    target = Target.parse(urljoin(target.url(), response.headers["Location"]))
                    continue
                personal = self._session is not None and self._session.personal
                if status == 401 and "Authorization" in headers and personal and not refreshed:
                    refreshed = True  # the access token expired: refresh it once
                    self._auth(target, refresh=True)
                    continue
                if status in (401, 403):
                    hint = ""
                    if "Authorization" in headers:
                        hint = "; Label Studio refused the API key or its user may not see it"
                    elif self._session is not None and self._on_studio(target):
                        hint = (
                            "; sent without the key: the key goes only to Label Studio's media "
                            "paths (/data/upload/, /data/local-files/, /storage-data/uploaded/, "
                            "/tasks/<id>/resolve/ or /presign/)"
                        )
                    raise MediaError(f"HTTP {status} from {where}{hint}", "auth")
                if status in (404, 410):
                    raise MediaError(f"HTTP {status} from {where}", "not_found")
                if not 200 <= status < 300:
                    raise MediaError(f"HTTP {status} from {where}", "unreachable")
                return self._body(response, where, deadline)
            finally:
                response.close()  # a no-op once the body was read and the connection released

    def _body(self, response: urllib3.BaseHTTPResponse, where: str, deadline: float) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.strip().isdigit() and int(declared) > self.max_bytes:
            raise too_large(self.max_bytes, where, int(declared))
        chunks: list[bytes] = []
        total = 0
        try:
            while chunk := response.read1(_CHUNK, decode_content=False):  # what has arrived
                total += len(chunk)
                if total > self.max_bytes:
                    raise too_large(self.max_bytes, where)
                if time.monotonic() > deadline:
                    raise MediaError(
                        f"timed out after {self.total_timeout:g} s downloading {where}",
                        "unreachable",
                    )
                chunks.append(chunk)
            response.release_conn()
        except urllib3.exceptions.TimeoutError as exc:
            raise MediaError(f"timed out after {self.timeout:g} s: {where}", "unreachable") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise MediaError(
                f"download of {where} broke off ({type(exc).__name__})", "unreachable"
            ) from exc
        return b"".join(chunks)
