"""Media from a real Label Studio: an uploaded image and local files, with both kinds of key."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from ls_cleanlab.errors import MediaError
from ls_cleanlab.media import MediaFetcher
from ls_cleanlab.testing.admin import IMAGE_MULTI, Admin
from ls_cleanlab.testing.label_studio import Studio

pytestmark = pytest.mark.studio


def png(color: tuple[int, int, int], size: tuple[int, int] = (12, 8)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


UPLOADED = png((200, 30, 10))
LOCAL = png((10, 30, 200), (5, 7))


@pytest.fixture(scope="module")
def uploaded(admin: Admin) -> dict[str, Any]:
    """A task made by uploading an image file, as the import dialog does."""
    project = admin.project("media upload", IMAGE_MULTI)
    answer = admin.call(
        "POST",
        f"/api/projects/{project}/import",
        files={"file": ("cat.png", UPLOADED, "image/png")},
        params={"return_task_ids": "true"},
    )
    (task,) = answer["task_ids"]
    return dict(admin.call("GET", f"/api/tasks/{task}"))


@pytest.mark.parametrize("key", ["personal", "legacy"])
def test_an_uploaded_image(studio: Studio, uploaded: dict[str, Any], key: str) -> None:
    ref = uploaded["data"]["image"]
    assert ref.startswith("/data/upload/") and ref.endswith("cat.png")
    token = studio.personal_token if key == "personal" else studio.legacy_token
    with MediaFetcher(studio.url, token) as media:
        assert media.fetch(ref) == UPLOADED
        assert media.fetch(studio.url + ref) == UPLOADED
        image = media.open_image(ref)
    assert image.mode == "RGB" and image.size == (12, 8)


def test_wrong_or_missing_key(studio: Studio, uploaded: dict[str, Any]) -> None:
    ref = uploaded["data"]["image"]
    with pytest.raises(
        MediaError, match=r"HTTP 401 from .*/data/upload/.*refused the API key"
    ) as info:
        MediaFetcher(studio.url, "not-a-real-key").fetch(ref)
    assert info.value.kind == "auth"
    with pytest.raises(MediaError, match="refused the personal access token") as info:
        MediaFetcher(studio.url, studio.personal_token[:-4] + "AAAA").fetch(ref)
    assert info.value.kind == "auth"
    with pytest.raises(MediaError, match=r"HTTP 401 from .*/data/upload/") as info:
        MediaFetcher(studio.url).fetch(ref)
    assert info.value.kind == "auth"


def test_another_host_is_still_refused(studio: Studio, uploaded: dict[str, Any]) -> None:
    port = studio.url.rsplit(":", 1)[1]
    ref = f"http://localhost:{port}{uploaded['data']['image']}"  # same server, other name
    with pytest.raises(MediaError, match="host 'localhost' is not allowed"):
        MediaFetcher(studio.url, studio.legacy_token).fetch(ref)


def test_local_files(studio: Studio, admin: Admin) -> None:
    folder = studio.local_files_root / "media-test"
    folder.mkdir()
    (folder / "blue one.png").write_bytes(LOCAL)
    ref = "/data/local-files/?d=media-test/blue%20one.png"
    with MediaFetcher(studio.url, studio.personal_token) as media:
        # Label Studio serves a file only under a local storage of a project the user may see
        with pytest.raises(MediaError, match=r"HTTP 404 from .*/data/local-files/$"):
            media.fetch(ref)
        project = admin.project("media local files", IMAGE_MULTI)
        admin.call(
            "POST",
            "/api/storages/localfiles",
            json={"project": project, "path": str(folder), "title": "files", "use_blob_urls": True},
        )
        assert media.fetch(ref) == LOCAL
        with pytest.raises(MediaError, match="HTTP 404") as info:
            media.fetch("/data/local-files/?d=media-test/missing.png")
        assert info.value.kind == "not_found"
    with MediaFetcher(studio.url, local_files_root=studio.local_files_root) as direct:
        assert direct.fetch(ref) == LOCAL
        assert direct.open_image(ref).size == (5, 7)
        with pytest.raises(MediaError, match="escapes local_files_root"):
            direct.fetch("/data/local-files/?d=../label-studio.log")


@pytest.mark.parametrize(
    "path",
    [
        "/api/projects/",
        "/api/current-user/whoami/",
        "/data/upload/../../api/projects/",
        "/data/upload/1/%2e%2e/%2e%2e/%2e%2e/api/projects/",
        "/data//upload/../../api/projects/",
    ],
)
def test_the_key_stays_off_label_studio_api(
    studio: Studio, uploaded: dict[str, Any], path: str
) -> None:
    """Task data naming Label Studio's API (or a media path leading there) reads nothing: the
    key goes only to media routes, and without it Label Studio answers 401. The upload is still
    read with the key."""
    for token in (studio.personal_token, studio.legacy_token):
        with MediaFetcher(studio.url, token) as media:
            with pytest.raises(MediaError, match=r"HTTP 40[134] .*sent without the key|HTTP 404"):
                media.fetch(path)
            with pytest.raises(MediaError):
                media.fetch(studio.url + path)
            assert media.fetch(uploaded["data"]["image"]) == UPLOADED
