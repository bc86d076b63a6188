"""``ls-cleanlab`` against a real Label Studio: a text project labelled by three annotators is
audited in-process and through the installed command; the push, the tabs, ``--dry-run``, a wrong
key and ``annotators --project``; annotators by name ("First Last <email>") in the summary, the
report, the CSV and the tables."""

from __future__ import annotations

import csv
import html
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ls_cleanlab import cli
from ls_cleanlab.pipeline import QUEUES
from ls_cleanlab.testing.admin import TEXT_MULTI, Admin
from ls_cleanlab.testing.label_studio import Studio

pytestmark = pytest.mark.studio

TOPICS = ("sports", "politics", "tech")
THIRD = "Ann Lee2 <cli-annotator2@example.com>"  # the third annotator, as Label Studio names her
WORDS = {
    "sports": "match goal team league coach score season player stadium",
    "politics": "election vote senate minister policy party campaign law parliament",
    "tech": "software chip startup code cloud robot network data algorithm",
}


def run(*argv: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def project(admin: Admin) -> dict[str, Any]:
    """48 texts on one to three topics, labelled by three annotators (the third keeps only the
    first topic of texts with several), and 8 unlabelled texts."""
    rng = np.random.default_rng(3)
    n = 56
    truth = rng.random((n, 3)) < 0.45
    truth[~truth.any(axis=1), 0] = True
    texts = []
    for row in truth:
        words = " ".join(" ".join(rng.permutation(WORDS[t].split())[:5]) for t, on in
                         zip(TOPICS, row, strict=True) if on)  # fmt: skip
        texts.append({"text": f"news: {words}"})
    pid = admin.project("cli audit", TEXT_MULTI)
    ids = admin.import_tasks(pid, texts)
    users = [admin.user(f"cli-annotator{k}@example.com", "Ann", f"Lee{k}") for k in range(3)]
    for i, task in enumerate(ids[:48]):
        full = [t for t, on in zip(TOPICS, truth[i], strict=True) if on]
        for k, user in enumerate(users):
            chosen = full[:1] if k == 2 else full
            admin.annotate(task, chosen, completed_by=user, lead_time=3.0 + 2 * k,
                           from_name="topics", to_name="text")  # fmt: skip
    return {"id": pid, "ids": ids, "users": users}


def connection(studio: Studio) -> list[str]:
    return ["--url", studio.url, "--api-key", studio.personal_token]


def versions(admin: Admin, pid: int) -> dict[str, int]:
    return dict(admin.call("GET", f"/api/projects/{pid}/model-versions/"))


def test_audit_pushes_the_queue_and_writes_the_report(
    admin: Admin, studio: Studio, project: dict[str, Any], tmp_path: Path
) -> None:
    pid = project["id"]
    code, stdout, stderr = run(
        "audit", "--project", pid, *connection(studio), "--out", tmp_path, "--json"
    )
    assert code == 0, stderr
    summary = json.loads(stdout)
    assert summary["project"] == pid and summary["source"].startswith("model:tfidf")
    assert summary["tasks"] == {"read": 56, "audited": 56, "labelled": 48, "skipped": 0}
    assert summary["push"]["created"] == 56 and summary["push"]["missing"] == 0
    (version,) = versions(admin, pid)  # a run of its own, the project's version
    assert version.startswith("ls-cleanlab-") and versions(admin, pid) == {version: 56}
    assert admin.call("GET", f"/api/projects/{pid}/")["model_version"] == version
    assert summary["engine"] == "in process"
    views = admin.call("GET", "/api/dm/views/", params={"project": pid})
    assert {q.title for q in QUEUES} <= {v["data"]["title"] for v in views}
    assert set(summary["views"]) == {q.title for q in QUEUES}
    third = project["users"][2]
    assert [a["annotator"] for a in summary["annotators_of_concern"]] == [third]
    assert summary["annotators_of_concern"][0]["name"] == THIRD
    report = (tmp_path / "report.html").read_text()
    assert f"{studio.url}/projects/{pid}/data?task=" in report
    assert html.escape(THIRD) in report
    for name in ("issues.csv", "annotators.csv", "classes.csv"):
        assert (tmp_path / name).is_file()
    with (tmp_path / "annotators.csv").open() as handle:
        rows = {int(r["annotator"]): r["name"] for r in csv.DictReader(handle)}
    assert rows[third] == THIRD and rows[project["users"][0]].startswith("Ann Lee0 <")


def test_dry_run_pushes_nothing(
    admin: Admin, studio: Studio, project: dict[str, Any], tmp_path: Path
) -> None:
    pid = project["id"]
    before = versions(admin, pid)
    code, stdout, stderr = run(
        "audit", "--project", pid, *connection(studio), "--out", tmp_path, "--dry-run",
        "--model-version", "dry-run-version",
    )  # fmt: skip
    assert code == 0, stderr
    assert "Dry run: nothing was written to Label Studio." in stdout
    assert versions(admin, pid) == before and "dry-run-version" not in versions(admin, pid)


def test_the_installed_command(studio: Studio, project: dict[str, Any], tmp_path: Path) -> None:
    command = Path(sys.executable).parent / "ls-cleanlab"
    if not command.exists():
        pytest.skip("ls-cleanlab is not installed in this environment (pip install -e .)")
    env = {**os.environ, "LABEL_STUDIO_URL": studio.url,
           "LABEL_STUDIO_API_KEY": studio.personal_token, "OPENBLAS_NUM_THREADS": "1"}  # fmt: skip
    done = subprocess.run(
        [str(command), "audit", "--project", str(project["id"]), "--out", str(tmp_path),
         "--json", "--dry-run"],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["tasks"]["audited"] == 56
    assert (tmp_path / "report.html").is_file()


def test_a_wrong_key_exits_3(studio: Studio, project: dict[str, Any], tmp_path: Path) -> None:
    code, stdout, stderr = run(
        "audit", "--project", project["id"], "--url", studio.url, "--api-key", "not-a-key",
        "--out", tmp_path, "--json",
    )  # fmt: skip
    assert code == 3 and stdout == ""
    assert stderr.startswith("error: ") and "fix: check the API key" in stderr
    assert "Traceback" not in stderr


def test_a_missing_project_exits_2(studio: Studio) -> None:
    code, _, stderr = run("annotators", "--project", 999999, *connection(studio))
    assert code == 2 and "fix: check the project id" in stderr


def test_a_project_without_tasks_says_to_import_some(
    studio: Studio, admin: Admin, tmp_path: Path
) -> None:
    # a Choices name with spaces and umlauts, class names with dollars, as Label Studio takes them
    config = TEXT_MULTI.replace('name="topics"', 'name="Gefühl der Stimmung"')
    pid = admin.project("no tasks yet", config.replace('"tech"', '"$x$ cost"'))
    for command in (["audit", "--out", tmp_path], ["annotators"]):
        code, stdout, stderr = run(*command, "--project", pid, *connection(studio))
        assert (code, stdout) == (2, "")
        assert stderr.splitlines() == [
            f"error: project {pid} has no tasks to audit.",
            "fix: import tasks into the project in Label Studio (or name another --project), "
            "then run again.",
        ]


def test_annotators_of_a_project(studio: Studio, project: dict[str, Any]) -> None:
    code, stdout, stderr = run("annotators", "--project", project["id"], *connection(studio))
    assert code == 0, stderr
    lines = stdout.splitlines()
    assert lines[1].startswith(THIRD + " ") and "satisficing" in lines[1]
    assert any(line.startswith("#3 ") and line.endswith(THIRD) for line in lines)
    code, stdout, _ = run("annotators", "--project", project["id"], *connection(studio), "--json")
    summary = json.loads(stdout)
    assert code == 0 and {a["annotator"] for a in summary["annotators"]} == set(project["users"])
    assert {a["name"] for a in summary["annotators"]} >= {THIRD}
