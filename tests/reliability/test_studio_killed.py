"""Label Studio killed (SIGKILL) while ``ls-cleanlab audit`` imports its predictions: the command
exits 3 with one ``error:``/``fix:`` pair and no traceback; the project holds all of the push or
none of it (never half a queue); once Label Studio is back, running the command again repairs
the queue. Label Studio here is a second one, started from a copy of the session's database (a
fresh one spends minutes on migrations), so the session's is never killed."""

from __future__ import annotations

import os
import signal
import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from ls_cleanlab.pipeline import QUEUES
from ls_cleanlab.testing.admin import Admin
from ls_cleanlab.testing.label_studio import Studio, running_label_studio
from tests.reliability.helpers import free_port, run_cli, traceback_free
from tests.reliability.proxy import cutting_proxy
from tests.reliability.texts import text_project

pytestmark = pytest.mark.studio

TASKS = 300


class OwnStudio:
    """A Label Studio this module may kill and start again (same data dir, port and keys)."""

    def __init__(self, session: Studio, home: Path) -> None:
        self.home = home
        self.port = free_port()
        # the session's personal token is signed with the session server's own secret: this
        # server knows the legacy token from the database (the CLI takes either)
        self.personal_token = session.personal_token
        data = home / "data"
        data.mkdir(parents=True)
        source = sqlite3.connect(session.log.parent / "data" / "label_studio.sqlite3")
        with sqlite3.connect(data / "label_studio.sqlite3") as copy:
            source.backup(copy)  # consistent while the session's server writes
        source.close()
        self._stack = ExitStack()
        self.server = self.start()

    def start(self) -> Studio:
        self._stack.close()  # the previous process, if any (already dead after a kill)
        self._stack = ExitStack()
        self.server = self._stack.enter_context(
            running_label_studio(self.home, self.port, self.personal_token)
        )
        return self.server

    def kill(self) -> None:
        os.killpg(self.server.pid, signal.SIGKILL)

    def close(self) -> None:
        self._stack.close()


@pytest.fixture(scope="module")
def own(studio: Studio, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnStudio]:
    made = OwnStudio(studio, tmp_path_factory.mktemp("own-studio"))
    yield made
    made.close()


def ours(admin: Admin, project: int) -> int:
    """Our predictions in the project, of every run (ls-cleanlab-<run id>)."""
    versions = admin.call("GET", f"/api/projects/{project}/model-versions/")
    return sum(int(n) for v, n in versions.items() if v.startswith("ls-cleanlab"))


def test_killed_mid_import_then_a_rerun_repairs_the_queue(own: OwnStudio, tmp_path: Path) -> None:
    server = own.server
    admin = Admin(server.url, server.legacy_token)
    project = text_project(admin, "reliability: killed mid-push", TASKS, seed=4)
    importing = lambda method, path: method == "POST" and "import/predictions" in path  # noqa: E731
    key = ["--api-key", server.legacy_token, "--out", str(tmp_path / "out")]
    with cutting_proxy(server.url, importing, on_cut=own.kill, delay=0.3) as (url, cut):
        code, stdout, stderr = run_cli("audit", "--project", project["id"], "--url", url, *key)
    assert cut.cut.is_set(), cut.seen  # Label Studio died while it imported the predictions
    assert code == 3 and stdout == "", stderr
    assert traceback_free(stderr), stderr
    assert "could not reach Label Studio" in stderr and "run the command again" in stderr

    server = own.start()  # back, on its data dir: what did the crash leave?
    admin = Admin(server.url, server.legacy_token)
    assert ours(admin, project["id"]) in (0, TASKS)  # all of the push or none: never half

    code, stdout, stderr = run_cli("audit", "--project", project["id"], "--url", server.url, *key)
    assert code == 0, stderr
    assert ours(admin, project["id"]) == TASKS  # the new run whole, any earlier one removed
    current = admin.call("GET", f"/api/projects/{project['id']}/")["model_version"]
    versions = admin.call("GET", f"/api/projects/{project['id']}/model-versions/")
    assert current.startswith("ls-cleanlab-") and versions[current] == TASKS
    views = admin.call("GET", "/api/dm/views/", params={"project": project["id"]})
    titles = {v["data"]["title"] for v in views}
    assert {q.title for q in QUEUES} <= titles
    assert "Pushed" in stdout and "Traceback" not in stderr
