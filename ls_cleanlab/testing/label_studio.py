"""Start and stop a real Label Studio, for tests, benchmarks and the demo (never the product).

The server comes from ``.venv-studio`` of the source checkout (``make studio``);
``LS_CLEANLAB_LABEL_STUDIO`` may name another ``label-studio`` executable, and a ``label-studio``
on ``PATH`` is used when neither exists. It runs in its own process group on a free local port
with a data dir of its own, an admin user with a legacy token, local ML backend URLs allowed and
local files served from ``<home>/files``. A personal access token is obtained through the login
flow, as a user would. ``requests`` is imported only when a server is started.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "EMAIL",
    "LEGACY_TOKEN",
    "PASSWORD",
    "Studio",
    "executable",
    "personal_access_token",
    "running_label_studio",
]

#: The source checkout this package lives in (with ``pip install -e``).
CHECKOUT = Path(__file__).resolve().parents[2]
EMAIL = "admin@example.com"
PASSWORD = "admin-password-1"
LEGACY_TOKEN = "ls-cleanlab-legacy-token-0123456789"
START_TIMEOUT = 300.0


@dataclass(frozen=True)
class Studio:
    """A running Label Studio and the keys to use it."""

    url: str
    legacy_token: str
    personal_token: str
    log: Path
    local_files_root: Path  # LOCAL_FILES_DOCUMENT_ROOT; a project still needs a local storage
    pid: int = 0  # of the server's process group (tests that kill it)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def executable() -> Path:
    """The ``label-studio`` command to run: ``$LS_CLEANLAB_LABEL_STUDIO``, else the checkout's
    (or the working directory's) ``.venv-studio``, else one on ``PATH``. The path returned may
    not exist: callers skip or explain then (``make studio`` installs it)."""
    given = os.environ.get("LS_CLEANLAB_LABEL_STUDIO")
    if given:
        return Path(given)
    local = [root / ".venv-studio" / "bin" / "label-studio" for root in (CHECKOUT, Path.cwd())]
    found = next((path for path in local if path.exists()), None)
    on_path = shutil.which("label-studio")
    if found is None and on_path is not None:
        return Path(on_path)
    return found or local[0]


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server and every process it started (it runs in its own process group)."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    import requests

    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Label Studio exited early:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(1.0)
    raise RuntimeError(f"Label Studio did not become healthy:\n{log.read_text()[-3000:]}")


def personal_access_token(url: str, email: str, password: str) -> str:
    """Log in as a user would (CSRF cookie, login form) and create a personal access token."""
    import requests

    with requests.Session() as browser:
        browser.get(f"{url}/user/login/", timeout=30).raise_for_status()
        form = {
            "email": email,
            "password": password,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
        }
        referer = {"Referer": f"{url}/user/login/"}
        browser.post(f"{url}/user/login/", data=form, headers=referer, timeout=30)
        if "sessionid" not in browser.cookies:
            raise RuntimeError("logging in to Label Studio failed")
        headers = {"X-CSRFToken": str(browser.cookies["csrftoken"]), "Referer": url}
        answer = browser.post(f"{url}/api/token/", headers=headers, timeout=30)
        answer.raise_for_status()
        return str(answer.json()["token"])


@contextmanager
def running_label_studio(
    home: Path, port: int | None = None, personal_token: str | None = None
) -> Iterator[Studio]:
    """Run Label Studio with its data in ``home`` until the block ends (also on errors), on
    ``port`` (default: a free one). ``personal_token``: the one made at the first start in
    ``home``, when restarting there (Label Studio makes one per user: a second is refused)."""
    home.mkdir(parents=True, exist_ok=True)
    log = home / "label-studio.log"
    files = home / "files"
    files.mkdir(exist_ok=True)
    port = port if port is not None else _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "LABEL_STUDIO_BASE_DATA_DIR": str(home / "data"),
        "ML_BLOCK_LOCAL_IP": "false",
        "SSRF_PROTECTION_ENABLED": "false",
        "LATEST_VERSION_CHECK": "false",
        "LOCAL_FILES_SERVING_ENABLED": "true",
        "LOCAL_FILES_DOCUMENT_ROOT": str(files),
    }
    command = [
        str(executable()),
        "start",
        "--no-browser",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--username",
        EMAIL,
        "--password",
        PASSWORD,
        "--user-token",
        LEGACY_TOKEN,
        "--enable-legacy-api-token",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, cwd=home, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_healthy(url, process, log)
        token = personal_token or personal_access_token(url, EMAIL, PASSWORD)
        yield Studio(
            url=url,
            legacy_token=LEGACY_TOKEN,
            personal_token=token,
            log=log,
            local_files_root=files,
            pid=process.pid,
        )
    finally:
        _stop(process)
