"""Media that needs no network: ``data:`` URIs and Label Studio's local files, read under the
same size limit as downloads (used by :class:`~ls_cleanlab.media.fetcher.MediaFetcher`)."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from urllib.parse import parse_qs, unquote, unquote_to_bytes, urlsplit

from ls_cleanlab.errors import MediaError
from ls_cleanlab.media.netpolicy import Target, canonical_path

__all__ = ["local_files_path", "read_data_uri", "read_local", "size_text", "too_large"]


def size_text(n: float) -> str:
    """A byte count for people: ``12 bytes``, ``3.5 KB``, ``20 MB``."""
    if n >= 2**20:
        return f"{round(n / 2**20, 1):g} MB"
    if n >= 2**10:
        return f"{round(n / 2**10, 1):g} KB"
    return f"{int(n)} bytes"


def too_large(max_bytes: int, what: str, size: int | None = None) -> MediaError:
    """The error for ``what`` over ``max_bytes`` (its ``size`` when known)."""
    limit = size_text(max_bytes)
    if size is None:
        return MediaError(f"too large: {what} is over the {limit} limit", "too_large")
    return MediaError(f"too large: {what} is {size_text(size)} > {limit} limit", "too_large")


def read_data_uri(ref: str, max_bytes: int) -> bytes:
    """The bytes of a ``data:`` URI (base64 or percent-encoded), at most ``max_bytes``."""
    header, comma, payload = ref[5:].partition(",")
    if not comma:
        raise MediaError("malformed data: URI (no comma before the data)", "bad_reference")
    if header.lower().split(";")[-1].strip() == "base64":
        compact = "".join(unquote(payload).split())
        if (len(compact) // 4) * 3 - 2 > max_bytes:
            raise too_large(max_bytes, "data: URI", len(compact) * 3 // 4)
        try:
            data = base64.b64decode(compact, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MediaError(f"data: URI is not valid base64 ({exc})", "bad_reference") from exc
    else:
        data = unquote_to_bytes(payload)
    if len(data) > max_bytes:
        raise too_large(max_bytes, "data: URI", len(data))
    return data


def read_local(root: Path, relative: str, max_bytes: int) -> bytes:
    """The file at ``relative`` under ``root`` (as Label Studio reads ``?d=``), never outside it
    (symlinks resolved), at most ``max_bytes``."""
    name = repr(relative[:200])
    if "\x00" in relative:
        raise MediaError("local-files path contains a NUL byte", "bad_reference")
    path = (root / relative.lstrip("/")).resolve()  # as Label Studio: d is under the root
    if not path.is_relative_to(root):  # after resolving symlinks too
        raise MediaError(f"local-files path {name} escapes local_files_root", "refused")
    try:
        if path.exists() and not path.is_file():
            raise MediaError(f"local-files path {name} is not a file", "not_found")
        if (size := path.stat().st_size) > max_bytes:
            raise too_large(max_bytes, name, size)
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError as exc:
        message = f"no file {name} under local_files_root {str(root)!r}"
        raise MediaError(message, "not_found") from exc
    except OSError as exc:
        raise MediaError(f"cannot read {name}: {exc.strerror}", "unreachable") from exc
    if len(data) > max_bytes:
        raise too_large(max_bytes, name)
    return data


def local_files_path(ref: str, studio: Target | None) -> str | None:
    """The ``d`` path of a reference to Label Studio's local files (``/data/local-files?d=``,
    relative or on ``studio``'s own origin) to read from disk, else None."""
    parts = urlsplit(ref)
    path = canonical_path(parts.path)
    if parts.scheme or parts.netloc:  # absolute: only on Label Studio's own origin
        if studio is None or Target.parse(ref).origin != studio.origin:
            return None
        path = path.removeprefix(studio.path.partition("?")[0].rstrip("/"))
    if path.rstrip("/") != "/data/local-files":
        return None
    found = parse_qs(parts.query).get("d")
    if not found or not found[0]:
        raise MediaError("local-files reference without a ?d= path", "bad_reference")
    return found[0]
