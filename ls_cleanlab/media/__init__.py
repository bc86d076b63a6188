"""Fetching task media safely: uploads, local files, ``http(s)`` and ``data:`` URIs.

* :mod:`.fetcher`: :class:`MediaFetcher`, the Label Studio key sent only to Label Studio, an
  allowlist for other hosts, size, time and pixel limits;
* :mod:`.netpolicy`: URL parsing, the host allowlist, the addresses a host may be reached at;
* :mod:`.images`: :func:`decode_image`, the pixel limit checked from the header before decoding.
"""

from ls_cleanlab.media.fetcher import MediaFetcher
from ls_cleanlab.media.images import DEFAULT_MAX_PIXELS, decode_image

__all__ = ["DEFAULT_MAX_PIXELS", "MediaFetcher", "decode_image"]
