"""Task media as an attacker would write it: SSRF targets (cloud metadata, loopback in its many
spellings, other schemes, credentials, redirects) and bombs (pixels, bytes, compression). Each
is refused with the right kind before harm: no request reaches a refused target, the key never
leaves Label Studio's media routes, no bomb is decompressed. A fetcher set up as the backend's
(Label Studio's URL and key, no allowlist) faces them all."""

from __future__ import annotations

import gzip
import io
import os
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from ls_cleanlab.errors import MediaError
from ls_cleanlab.media import MediaFetcher, decode_image
from tests.reliability.helpers import png_1bit, serving

PNG = png_1bit(8, 8)
BOMB = png_1bit(20_000, 20_000)  # 400 million pixels in a few KB
ZIP_BOMB = gzip.compress(b"\0" * 50_000_000)  # 50 MB of zeros in 50 KB


def answer(path: str, headers: dict[str, str]) -> tuple[int, bytes, dict[str, str]] | None:
    routes: dict[str, tuple[int, bytes, dict[str, str]]] = {
        "/data/upload/1/ok.png": (200, PNG, {}),
        "/data/upload/1/to-metadata": (302, b"", {"Location": "http://169.254.169.254/latest/"}),
        "/data/upload/1/to-file": (302, b"", {"Location": "file:///etc/passwd"}),
        "/data/upload/1/to-loopback": (302, b"", {"Location": "http://127.0.0.1:22/"}),
        "/data/upload/1/bomb.png": (200, BOMB, {}),
        "/data/upload/1/gzip-bomb.png": (200, ZIP_BOMB, {"Content-Encoding": "gzip"}),
        "/data/upload/1/huge": (200, b"x" * 3_000_000, {}),
    }
    return routes.get(path)


@pytest.fixture(scope="module")
def studio() -> Any:
    with serving(answer) as found:
        yield found


def fetcher(url: str, **options: Any) -> MediaFetcher:
    return MediaFetcher(url, "the-key", timeout=3.0, max_bytes=2_000_000, **options)


#: name -> (reference, with {port} for the fake Label Studio's port; the MediaError kind)
SSRF: dict[str, tuple[str, str]] = {
    "cloud-metadata": ("http://169.254.169.254/latest/meta-data/", "refused"),
    "cloud-metadata-ipv6": ("http://[fd00:ec2::254]/latest/", "refused"),
    "metadata-by-name": ("http://metadata.google.internal/computeMetadata/v1/", "refused"),
    "loopback-other-port": ("http://127.0.0.1:22/", "refused"),
    "same-server-other-name": ("http://localhost:{port}/data/upload/1/ok.png", "refused"),
    "unspecified-address": ("http://0.0.0.0:{port}/data/upload/1/ok.png", "refused"),
    "ipv6-loopback": ("http://[::1]:{port}/", "refused"),
    "ipv4-mapped-loopback": ("http://[::ffff:127.0.0.1]:{port}/", "refused"),
    "decimal-ip": ("http://2130706433/", "refused"),
    "hex-ip": ("http://0x7f000001/", "refused"),
    "short-ip": ("http://127.1/", "refused"),
    "private-network": ("http://10.0.0.1/", "refused"),
    "link-local": ("http://169.254.1.1/", "refused"),
    "file-scheme": ("file:///etc/passwd", "refused"),
    "gopher-scheme": ("gopher://127.0.0.1:6379/_INFO", "refused"),
    "ftp-scheme": ("ftp://127.0.0.1/x", "refused"),
    "credentials-in-url": ("http://user:pass@example.com/x.png", "refused"),
    "redirect-to-metadata": ("/data/upload/1/to-metadata", "refused"),
    "redirect-to-file": ("/data/upload/1/to-file", "refused"),
    "redirect-to-loopback": ("/data/upload/1/to-loopback", "refused"),
    "protocol-relative-elsewhere": ("//169.254.169.254/latest/", "refused"),
    "not-a-reference": ("javascript:alert(1)", "bad_reference"),
}


@pytest.mark.parametrize("name", list(SSRF))
def test_ssrf_targets_are_refused(name: str, studio: Any) -> None:
    url, seen = studio
    port = url.rsplit(":", 1)[1]
    ref, kind = SSRF[name]
    seen.clear()
    with pytest.raises(MediaError) as info:
        fetcher(url).fetch(ref.format(port=port))
    assert info.value.kind == kind, info.value
    # only Label Studio's own media route was ever asked, with the key
    assert all(path.startswith("/data/upload/1/to-") for path, _ in seen), seen
    assert all(headers.get("Authorization") == "Token the-key" for _, headers in seen)


def test_local_files_cannot_escape_their_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("secret")
    os.symlink(tmp_path / "secret.txt", root / "link.png")
    media = MediaFetcher(local_files_root=root)
    escapes = ("/data/local-files/?d=../secret.txt", "/data/local-files/?d=link.png",
               "/data/local-files/?d=%2e%2e/secret.txt",
               "/data/upload/../local-files/?d=../secret.txt")  # fmt: skip
    for ref in escapes:
        with pytest.raises(MediaError, match="escapes local_files_root") as info:
            media.fetch(ref)
        assert info.value.kind == "refused"


#: name -> (reference, the kind, a piece of the message)
BOMBS: dict[str, tuple[str, str, str]] = {
    "pixel-bomb": ("/data/upload/1/bomb.png", "too_large", "decompression bomb"),
    "bytes-over-the-limit": ("/data/upload/1/huge", "too_large", "too large"),
    "data-uri-over-the-limit": ("data:image/png;base64," + "A" * 3_000_000, "too_large",
                                "too large"),
    "gzip-bomb": ("/data/upload/1/gzip-bomb.png", "bad_image", "not an image"),
}  # fmt: skip


@pytest.mark.parametrize("name", list(BOMBS))
def test_bombs_are_refused_before_they_go_off(name: str, studio: Any) -> None:
    url, _ = studio
    ref, kind, said = BOMBS[name]
    media = fetcher(url)
    with pytest.raises(MediaError, match=said) as info:
        media.open_image(ref)
    assert info.value.kind == kind
    if name == "gzip-bomb":  # fetched as sent, never inflated
        assert media.fetch(ref) == ZIP_BOMB


@pytest.mark.parametrize("fmt", ["GIF", "TIFF", "BMP"])
def test_pixel_bombs_in_other_formats(fmt: str) -> None:
    """A small file declaring huge dimensions is refused from its header."""
    out = io.BytesIO()
    Image.new("1" if fmt != "GIF" else "P", (1, 1)).save(out, fmt)
    data = bytearray(out.getvalue())
    wide = Image.open(io.BytesIO(bytes(data)))
    assert wide.size == (1, 1)
    if fmt == "GIF":  # logical screen width and height (little-endian) at bytes 6-9
        data[6:10] = (30_000).to_bytes(2, "little") * 2
    elif fmt == "BMP":  # width and height at bytes 18-25
        data[18:26] = (30_000).to_bytes(4, "little") * 2
    else:
        image = Image.new("1", (30_000, 30_000))
        out = io.BytesIO()
        image.save(out, fmt, compression="group4")
        data = bytearray(out.getvalue())
    with pytest.raises(MediaError) as info:
        decode_image(bytes(data), max_pixels=10_000_000)
    assert info.value.kind in ("too_large", "bad_image")
