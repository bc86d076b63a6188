"""Media loading without Label Studio: a real HTTP server on 127.0.0.1 that serves images,
redirects, huge and slow bodies and records the headers it gets (Label Studio: tests/studio/)."""

from __future__ import annotations

import base64
import io
import ipaddress
import json
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from ls_cleanlab.errors import InvalidOptionError, MediaError
from ls_cleanlab.media import MediaFetcher, decode_image
from ls_cleanlab.media.netpolicy import Allowlist, is_public

JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2ln"


def encode(image: Image.Image, fmt: str = "PNG", **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


PNG = encode(Image.new("RGB", (8, 6), (10, 200, 30)))
NOISY = encode(Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8)))
JPEG = encode(Image.new("RGB", (8, 6), (200, 10, 30)), "JPEG")


def png_1bit(width: int, height: int) -> bytes:
    """A valid all-black 1-bit PNG; a few KB even for a huge declared size."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    row = b"\x00" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


class _Media(BaseHTTPRequestHandler):
    """Routes for the tests; every request's path and headers go to ``seen``."""

    seen: list[tuple[str, dict[str, str]]]
    port: int

    def log_message(self, *args: Any) -> None:  # keep the test output clean
        pass

    def _send(self, status: int, body: bytes = b"", **headers: str) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        if "Content_Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.seen.append((self.path, dict(self.headers)))
        if self.path == "/api/token/refresh/":
            count = sum(path == self.path for path, _ in self.seen)
            self._send(200, json.dumps({"access": f"A{count}"}).encode())
        else:
            self._send(404)

    def do_GET(self) -> None:
        self.seen.append((self.path, dict(self.headers)))
        # a media route serves what the root serves (so the key-scope tests reuse the routes)
        path = self.path.removeprefix("/ls") if self.path.startswith("/ls/") else self.path
        path = path.removeprefix("/data/upload/1")
        if path == "/img.png":
            self._send(200, PNG, Content_Type="image/png")
        elif path == "/img.jpg":
            self._send(200, JPEG, Content_Type="image/jpeg")
        elif path == "/text":
            self._send(200, b"<html>hello</html>", Content_Type="text/html")
        elif path == "/to-evil":
            self._send(302, Location="http://example.com/x.png")
        elif path == "/to-localhost":
            self._send(302, Location=f"http://localhost:{self.port}/img.png")
        elif path == "/to-api":  # Label Studio's own host, not a media path
            self._send(302, Location="/img.png")
        elif path == "/to-media":
            self._send(302, Location="/data/upload/1/img.png")
        elif path.startswith("/chain/"):
            left = int(path.rsplit("/", 1)[1])
            self._send(302, Location=f"/chain/{left - 1}" if left else "/img.png")
        elif path == "/declared-huge":
            self._send(200, b"x" * 10, Content_Length=str(10**9))
        elif path == "/endless":  # no Content-Length: the body ends when the connection closes
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"x" * 100_000)
            self.close_connection = True
        elif path == "/slow":
            time.sleep(1.5)
            self._send(200, PNG)
        elif path == "/drip":
            self.send_response(200)
            self.end_headers()
            for _ in range(30):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.1)
            self.close_connection = True
        elif path == "/fresh-only":
            fresh = self.headers.get("Authorization") == "Bearer A2"
            self._send(200 if fresh else 401, PNG if fresh else b"{}")
        else:
            self._send(404, b"not found")


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, list[tuple[str, dict[str, str]]]]]:
    seen: list[tuple[str, dict[str, str]]] = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Media)
    port = httpd.server_address[1]
    _Media.seen = seen
    _Media.port = port
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}", seen
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture()
def base(server: tuple[str, list[Any]]) -> str:
    server[1].clear()
    return server[0]


def fetcher(**options: Any) -> MediaFetcher:
    return MediaFetcher(**{"timeout": 5.0, **options})


# -- hosts ------------------------------------------------------------------------------------


def test_label_studio_paths_and_urls_get_the_key(server: tuple[str, list[Any]]) -> None:
    base, seen = server
    seen.clear()
    with fetcher(studio_url=base, api_key="legacy-key") as media:
        assert media.fetch("/data/upload/1/img.png") == PNG
        assert media.fetch(f"{base}/data/upload/1/img.png") == PNG
        assert "legacy-key" not in repr(media)
    assert [headers["Authorization"] for _, headers in seen] == ["Token legacy-key"] * 2


def test_the_key_never_goes_to_another_host(server: tuple[str, list[Any]]) -> None:
    base, seen = server
    port = base.rsplit(":", 1)[1]
    seen.clear()
    with fetcher(studio_url=base, api_key="legacy-key", allowed_hosts=["localhost"]) as media:
        assert media.fetch("/data/upload/1/to-localhost") == PNG  # a redirect to another host
        assert media.fetch(f"http://localhost:{port}/img.png") == PNG
    assert [(path, "Authorization" in headers) for path, headers in seen] == [
        ("/data/upload/1/to-localhost", True),
        ("/img.png", False),
        ("/img.png", False),
    ]
    assert all(headers["Host"] == f"localhost:{port}" for _, headers in seen[1:])


def test_personal_token_is_refreshed_once_on_401(server: tuple[str, list[Any]]) -> None:
    base, seen = server
    seen.clear()
    with fetcher(studio_url=base, api_key=JWT) as media:
        assert media.fetch("/data/upload/1/fresh-only") == PNG
    assert [path for path, _ in seen] == [
        "/api/token/refresh/",
        "/data/upload/1/fresh-only",
        "/api/token/refresh/",
        "/data/upload/1/fresh-only",
    ]


@pytest.mark.parametrize(
    ("ref", "sent", "keyed"),
    [
        ("/data/upload/1/img.png", "/data/upload/1/img.png", True),
        ("/data//upload/1/./img.png", "/data/upload/1/img.png", True),
        ("/data/upload/1/sub/../img.png", "/data/upload/1/img.png", True),
        ("/tasks/7/presign/?fileuri=czM6Ly9i", "/tasks/7/presign/?fileuri=czM6Ly9i", True),
        ("/tasks/7/resolve/?fileuri=czM6Ly9i", "/tasks/7/resolve/?fileuri=czM6Ly9i", True),
        ("/projects/7/presign/?fileuri=czM6Ly9i", "/projects/7/presign/?fileuri=czM6Ly9i", True),
        ("/storage-data/uploaded/?filepath=a.png", "/storage-data/uploaded/?filepath=a.png", True),
        ("/data/local-files/?d=a.png", "/data/local-files/?d=a.png", True),
        ("/api/projects", "/api/projects", False),
        ("/img.png", "/img.png", False),
        ("/data/upload/../../api/projects", "/api/projects", False),
        ("/data/upload/1/../../../api/projects", "/api/projects", False),
        ("/data/upload//..//../api/projects", "/api/projects", False),
        ("/data/upload/1/%2e%2e/%2e%2e/%2e%2e/api/projects",
         "/data/upload/1/%2e%2e/%2e%2e/%2e%2e/api/projects", False),
        ("/data/upload/1/..%2f..%2f..%2fapi", "/data/upload/1/..%2f..%2f..%2fapi", False),
        ("/data/upload/1/%252e%252e/%252e%252e/api", "/data/upload/1/%252e%252e/%252e%252e/api",
         False),
        ("/data/upload/1/..%5c..%5capi", "/data/upload/1/..%5c..%5capi", False),
        ("/data/avatars/a.png", "/data/avatars/a.png", False),
        ("/tasks/7/annotations/", "/tasks/7/annotations/", False),
        ("/x/data/upload/1/img.png", "/x/data/upload/1/img.png", False),
    ],
    ids=lambda v: str(v)[:45],
)  # fmt: skip
def test_the_key_goes_only_to_media_routes(
    server: tuple[str, list[Any]], ref: str, sent: str, keyed: bool
) -> None:
    base, seen = server
    seen.clear()
    with fetcher(studio_url=base, api_key="legacy-key") as media:
        try:
            media.fetch(ref)
        except MediaError:
            pass  # what matters is what was sent, and with what
    # (urllib3 writes percent escapes in capitals)
    assert [(path.lower(), "Authorization" in headers) for path, headers in seen] == [
        (sent.lower(), keyed)
    ]


def test_redirects_are_checked_at_every_hop(server: tuple[str, list[Any]]) -> None:
    base, seen = server
    seen.clear()
    with fetcher(studio_url=base, api_key="legacy-key") as media:
        assert media.fetch("/data/upload/1/to-api") == PNG  # a media route sends elsewhere
        assert media.fetch("/to-media") == PNG  # and the other way round
    assert [(path, "Authorization" in headers) for path, headers in seen] == [
        ("/data/upload/1/to-api", True),
        ("/img.png", False),  # the same host, not a media path: without the key
        ("/to-media", False),
        ("/data/upload/1/img.png", True),
    ]


def test_label_studio_under_a_path(server: tuple[str, list[Any]]) -> None:
    base, seen = server
    seen.clear()
    with fetcher(studio_url=f"{base}/ls", api_key="legacy-key") as media:
        assert media.fetch("/data/upload/1/img.png") == PNG  # relative to Label Studio's URL
        assert media.fetch(f"{base}/ls/img.png") == PNG
        with pytest.raises(MediaError):
            media.fetch(f"{base}/data/upload/1/missing")  # outside Label Studio's path: no key
    assert [(path, "Authorization" in headers) for path, headers in seen] == [
        ("/ls/data/upload/1/img.png", True),
        ("/ls/img.png", False),
        ("/data/upload/1/missing", False),
    ]


def test_a_refusal_without_the_key_says_why(server: tuple[str, list[Any]]) -> None:
    base, _ = server
    with pytest.raises(MediaError, match="sent without the key: the key goes only to") as info:
        fetcher(studio_url=base, api_key="legacy-key").fetch("/fresh-only")
    assert info.value.kind == "auth"


@pytest.mark.parametrize(
    "allowed", [["127.0.0.1"], ["127.0.0.0/8"], "10.0.0.0/8, 127.0.0.1/32"], ids=str
)
def test_loopback_only_when_allowlisted(base: str, allowed: Any) -> None:
    with pytest.raises(MediaError, match=r"host '127\.0\.0\.1' is not allowed; add it to allowed_"):
        fetcher().fetch(f"{base}/img.png")
    with pytest.raises(MediaError, match="not allowed") as info:
        fetcher(allowed_hosts=["10.0.0.0/8", "*.example.com"]).fetch(f"{base}/img.png")
    assert info.value.kind == "refused"
    assert fetcher(allowed_hosts=allowed).fetch(f"{base}/img.png") == PNG


def test_a_name_resolving_into_an_allowed_network(base: str) -> None:
    port = base.rsplit(":", 1)[1]
    assert fetcher(allowed_hosts=["127.0.0.0/8"]).fetch(f"http://localhost:{port}/img.png") == PNG
    with pytest.raises(MediaError, match=r"resolves to 127\.0\.0\.1, outside the allowed networks"):
        fetcher(allowed_hosts=["10.0.0.0/8"]).fetch(f"http://localhost:{port}/img.png")


def test_numeric_host_spellings_are_checked_by_address(base: str) -> None:
    port = base.rsplit(":", 1)[1]
    for host in ("2130706433", "127.1", "0x7f000001"):  # all 127.0.0.1 to the resolver
        with pytest.raises(MediaError, match=r"resolves to 127\.0\.0\.1, outside the allowed"):
            fetcher(allowed_hosts=["10.0.0.0/8"]).fetch(f"http://{host}:{port}/img.png")


def test_unlisted_public_host_is_refused_before_any_lookup() -> None:
    # No server, no DNS: the allowlist refuses it first (an unresolvable name would say so).
    for url in ("http://example.com/x.png", "https://images.example.org:8443/a.jpg"):
        with pytest.raises(MediaError, match=r"host '(example\.com|images\.example\.org)' is not"):
            fetcher(allowed_hosts=["*.example.com"]).fetch(url)


def test_allowlist_entries() -> None:
    allowed = Allowlist.parse(["Images.Example.com.", "*.cdn.net", "10.0.0.0/8", "::1"])
    assert allowed.exact("images.example.com")
    assert allowed.wildcard("a.cdn.net") and allowed.wildcard("a.b.cdn.net")
    assert not allowed.wildcard("cdn.net") and not allowed.wildcard("evilcdn.net")
    assert allowed.address(ipaddress.ip_address("10.1.2.3"))
    assert allowed.address(ipaddress.ip_address("::1"))
    assert not allowed.address(ipaddress.ip_address("11.0.0.1"))


@pytest.mark.parametrize("entry", ["https://x.com", "x.com:80", "a b", "x.com/path", "*"])
def test_bad_allowlist_entry(entry: str) -> None:
    with pytest.raises(InvalidOptionError, match="is not a host name"):
        MediaFetcher(allowed_hosts=[entry])


@pytest.mark.parametrize(
    "address, public",
    [
        ("8.8.8.8", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("ff02::1", False),
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


def test_ipv4_mapped_loopback_is_loopback() -> None:
    with pytest.raises(MediaError, match=r"host '::ffff:127\.0\.0\.1' is not allowed"):
        fetcher(allowed_hosts=["10.0.0.0/8"]).fetch("http://[::ffff:127.0.0.1]:9/x.png")


@pytest.mark.parametrize(
    "ref, match, kind",
    [
        ("file:///etc/passwd", r"scheme 'file:' is not allowed; only http, https", "refused"),
        ("ftp://example.com/x.png", "scheme 'ftp:' is not allowed", "refused"),
        ("gopher://example.com/x", "scheme 'gopher:' is not allowed", "refused"),
        ("images/x.png", "not a URL, Label Studio path or data: URI", "bad_reference"),
        (
            "/data/upload/1/x.png",
            r"relative to Label Studio: give its URL and key \(--url and --api-key; studio_url",
            "bad_reference",
        ),
        ("", "must be a non-empty string", "bad_reference"),
        ("http://user:pw@example.com/x", "credentials in URLs are not supported", "refused"),
        ("http://example.com:99999/x", "not a valid URL", "bad_reference"),
    ],
    ids=[
        "file",
        "ftp",
        "gopher",
        "bare-path",
        "relative-without-studio",
        "empty",
        "userinfo",
        "port",
    ],
)
def test_bad_references(ref: str, match: str, kind: str) -> None:
    with pytest.raises(MediaError, match=match) as info:
        MediaFetcher().fetch(ref)
    assert info.value.kind == kind


# -- HTTP behaviour ---------------------------------------------------------------------------


def test_redirect_to_a_disallowed_host(base: str) -> None:
    with pytest.raises(MediaError, match=r"host 'example\.com' is not allowed"):
        fetcher(studio_url=base).fetch("/to-evil")


def test_redirect_chain(base: str) -> None:
    assert fetcher(studio_url=base).fetch("/chain/4") == PNG  # five redirects
    with pytest.raises(MediaError, match="more than 5 redirects"):
        fetcher(studio_url=base).fetch("/chain/5")


@pytest.mark.parametrize(
    "path, match",
    [
        ("/declared-huge", r"too large: http://127\.0\.0\.1:\d+/declared-huge is 953\.7 MB > 1000"),
        ("/endless", r"too large: http://127\.0\.0\.1:\d+/endless is over the 1000 bytes limit"),
    ],
    ids=["content-length", "streamed"],
)
def test_too_large(base: str, path: str, match: str) -> None:
    with pytest.raises(MediaError, match=match) as info:
        fetcher(studio_url=base, max_bytes=1000).fetch(path)
    assert info.value.kind == "too_large"


def test_timeouts(base: str) -> None:
    with pytest.raises(MediaError, match=r"timed out after 0\.5 s: http://127\.0\.0\.1:\d+/slow"):
        fetcher(studio_url=base, timeout=0.5).fetch("/slow")
    start = time.monotonic()
    with pytest.raises(MediaError, match=r"timed out after 1 s downloading") as info:
        fetcher(studio_url=base, timeout=0.5, total_timeout=1).fetch("/drip")
    assert info.value.kind == "unreachable"
    assert time.monotonic() - start < 2  # not when the 3 s body ends


def test_http_errors(base: str) -> None:
    with pytest.raises(MediaError, match=r"HTTP 404 from http://127\.0\.0\.1:\d+/missing$") as info:
        fetcher(studio_url=base).fetch("/missing?secret=signature")
    assert info.value.kind == "not_found"
    with pytest.raises(MediaError, match=r"could not connect to http://127\.0\.0\.1:1/x"):
        fetcher(studio_url="http://127.0.0.1:1").fetch("/x")
    with pytest.raises(MediaError, match="not an image") as info:
        fetcher(studio_url=base).open_image("/text")
    assert info.value.kind == "bad_image"


def test_open_image(base: str) -> None:
    with fetcher(studio_url=base) as media:
        image = media.open_image("/img.jpg")
    assert image.mode == "RGB" and image.size == (8, 6)


# -- data: URIs and local files ---------------------------------------------------------------


def test_data_uris() -> None:
    media = MediaFetcher(max_bytes=len(PNG))
    encoded = base64.b64encode(PNG).decode()
    assert media.fetch(f"data:image/png;base64,{encoded}") == PNG
    assert media.fetch(f"DATA:image/png;base64,{encoded[:20]}\n{encoded[20:]}") == PNG
    assert media.fetch("data:text/plain;charset=utf-8,hello%20world") == b"hello world"
    assert media.fetch("data:,") == b""
    with pytest.raises(MediaError, match=r"too large: data: URI is \d+ bytes > \d+ bytes limit"):
        MediaFetcher(max_bytes=20).fetch(f"data:image/png;base64,{encoded}")
    with pytest.raises(MediaError, match="too large: data: URI"):
        MediaFetcher(max_bytes=3).fetch("data:,abcd")
    with pytest.raises(MediaError, match="not valid base64"):
        media.fetch("data:image/png;base64,abc$")
    with pytest.raises(MediaError, match="no comma"):
        media.fetch("data:image/png;base64")


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    (tmp_path / "root" / "images").mkdir(parents=True)
    (tmp_path / "root" / "images" / "a b.png").write_bytes(PNG)
    (tmp_path / "secret.png").write_bytes(JPEG)
    (tmp_path / "root" / "images" / "escape.png").symlink_to(tmp_path / "secret.png")
    (tmp_path / "root" / "inside.png").symlink_to(tmp_path / "root" / "images" / "a b.png")
    return tmp_path / "root"


def test_local_files_from_disk(root: Path) -> None:
    # Nothing listens on port 1: the files come from disk.
    media = MediaFetcher("http://127.0.0.1:1", "key", local_files_root=root)
    assert media.fetch("/data/local-files/?d=images/a%20b.png") == PNG
    assert media.fetch("http://127.0.0.1:1/data/local-files?d=/images/a+b.png") == PNG
    assert media.fetch("/data/local-files/?d=inside.png") == PNG
    for ref in (
        "/data/local-files/?d=../secret.png",
        "/data/local-files/?d=images/../../secret.png",
    ):
        with pytest.raises(MediaError, match="escapes local_files_root") as info:
            media.fetch(ref)
        assert info.value.kind == "refused"
    with pytest.raises(MediaError, match="escapes local_files_root"):
        media.fetch("/data/local-files/?d=images/escape.png")
    with pytest.raises(MediaError, match=r"no file 'images/b\.png' under local_files_root") as info:
        media.fetch("/data/local-files/?d=images/b.png")
    assert info.value.kind == "not_found"
    with pytest.raises(MediaError, match="is not a file"):
        media.fetch("/data/local-files/?d=images")
    with pytest.raises(MediaError, match=r"without a \?d= path"):
        media.fetch("/data/local-files/?x=1")
    assert MediaFetcher(local_files_root=root).fetch("/data/local-files?d=inside.png") == PNG
    elsewhere = MediaFetcher("http://127.0.0.1:1", local_files_root=root)
    with pytest.raises(MediaError, match=r"host '127\.0\.0\.2' is not allowed"):
        elsewhere.fetch("http://127.0.0.2:1/data/local-files/?d=inside.png")
    with pytest.raises(MediaError, match=r"too large: 'images/a b\.png' is \d+ bytes > 10 bytes"):
        MediaFetcher("http://127.0.0.1:1", local_files_root=root, max_bytes=10).fetch(
            "/data/local-files/?d=images/a b.png"
        )


def test_bad_options(tmp_path: Path) -> None:
    with pytest.raises(InvalidOptionError, match="is not a directory"):
        MediaFetcher("http://h", local_files_root=tmp_path / "nope")
    with pytest.raises(InvalidOptionError, match="studio_url must start with http"):
        MediaFetcher("localhost:8080")
    with pytest.raises(InvalidOptionError, match="give studio_url too"):
        MediaFetcher(api_key="key")
    with pytest.raises(InvalidOptionError, match="timeout must be a number > 0"):
        MediaFetcher(timeout=0)
    with pytest.raises(InvalidOptionError, match="max_bytes must be an integer >= 1"):
        MediaFetcher(max_bytes=1.5)  # type: ignore[arg-type]


# -- decoding ---------------------------------------------------------------------------------


def test_decompression_bombs() -> None:
    with pytest.raises(MediaError, match=r"decompression bomb: 8x6 = 48 pixels > 40 limit") as info:
        decode_image(PNG, max_pixels=40)
    assert info.value.kind == "too_large"
    declared = png_1bit(10_000, 10_000)  # 100 M pixels in a few KB
    assert len(declared) < 50_000
    with pytest.raises(MediaError, match=r"bomb: 10000x10000 = 100000000 pixels > 89478485 limit"):
        decode_image(declared)
    # over twice Pillow's global limit Pillow refuses in Image.open; that is a MediaError too
    with pytest.raises(MediaError, match=r"decompression bomb: .*400000000 pixels"):
        decode_image(png_1bit(20_000, 20_000), max_pixels=10**9)
    assert decode_image(png_1bit(300, 200)).size == (300, 200)


@pytest.mark.parametrize(
    "data, match",
    [
        (b"", "not an image"),
        (b"GIF89a not really", r"not an image|broken image"),
        (NOISY[: len(NOISY) // 2], "broken image"),
        (JPEG[: len(JPEG) - 40], "broken image"),
    ],
    ids=["empty", "fake-gif", "truncated-png", "truncated-jpeg"],
)
def test_bad_images(data: bytes, match: str) -> None:
    with pytest.raises(MediaError, match=match) as info:
        decode_image(data)
    assert info.value.kind == "bad_image"


def test_exif_orientation() -> None:
    image = Image.new("RGB", (40, 20), (255, 0, 0))
    image.paste((0, 0, 255), (20, 0, 40, 20))  # right half blue
    exif = Image.Exif()
    exif[0x0112] = 6  # displayed rotated 90° clockwise
    decoded = decode_image(encode(image, "JPEG", exif=exif, quality=95))
    assert decoded.size == (20, 40)
    top, bottom = decoded.getpixel((10, 5)), decoded.getpixel((10, 35))
    assert top[0] > 200 and bottom[2] > 200  # turned clockwise: the right half is now below


@pytest.mark.parametrize(
    "mode, fmt, value, expected",
    [
        ("RGBA", "PNG", (255, 0, 0, 0), (255, 255, 255)),  # transparent over white
        ("RGBA", "PNG", (255, 0, 0, 255), (255, 0, 0)),
        ("LA", "PNG", (0, 0), (255, 255, 255)),
        ("L", "PNG", 100, (100, 100, 100)),
        ("1", "PNG", 1, (255, 255, 255)),
        ("I;16", "PNG", 65535, (255, 255, 255)),
        ("I;16", "PNG", 257 * 40, (40, 40, 40)),
        ("I", "TIFF", 257 * 80, (80, 80, 80)),
        ("F", "TIFF", 0.5, (128, 128, 128)),
        ("CMYK", "JPEG", (0, 0, 0, 0), (255, 255, 255)),
    ],
    ids=lambda v: str(v) if isinstance(v, str) else None,
)
def test_modes_become_rgb(mode: str, fmt: str, value: Any, expected: tuple[int, ...]) -> None:
    decoded = decode_image(encode(Image.new(mode, (4, 3), value), fmt))
    assert decoded.mode == "RGB" and decoded.size == (4, 3)
    assert np.abs(np.asarray(decoded, dtype=int) - expected).max() <= 2


def test_palette_with_transparency() -> None:
    image = Image.new("P", (4, 3), 1)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.putpixel((0, 0), 0)
    decoded = decode_image(encode(image, "PNG", transparency=0))
    assert decoded.getpixel((0, 0)) == (255, 255, 255)
    assert decoded.getpixel((1, 0)) == (255, 0, 0)
