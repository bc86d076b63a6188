"""``ls-cleanlab`` offline, on a Label Studio JSON export written by the test: exit codes, the
``--json`` summary, the files written, bad input, schema inference and
``annotators`` (``serve``: tests/server/test_command.py).
"""

from __future__ import annotations

import io
import json
import re
import socket
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ls_cleanlab import __version__, cli
from ls_cleanlab.features.pretrained.common import default_image_embedder
from ls_cleanlab.testing.synthetic_images import CLASSES, annotation, make_images
from ls_cleanlab.testing.synthetic_images import LABEL_CONFIG as CONFIG


def run(*argv: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """80 image tasks in local files: 70 labelled by three annotators (annotator 3 drops a label
    of tasks with several), 10 unlabelled, one broken image; and a copy whose tasks carry a good
    model's predictions (``theirs``)."""
    root = tmp_path_factory.mktemp("export")
    media = root / "media"
    media.mkdir()
    images, truth = make_images(80, seed=21)
    rng = np.random.default_rng(4)
    tasks, predicted = [], []
    for i, image in enumerate(images):
        image.save(media / f"{i}.png")
        task: dict[str, Any] = {"id": 1000 + i, "data": {"image": f"/data/local-files/?d={i}.png"}}
        task["annotations"] = []
        if i < 70:
            for user in (1, 2, 3):
                given = truth[i].copy()
                if user == 3 and given.sum() >= 2:
                    given[rng.choice(np.flatnonzero(given))] = 0
                task["annotations"].append(annotation(user, given, lead=2.0 * user))
        tasks.append(task)
        chosen = [CLASSES[k] for k in np.flatnonzero(truth[i])]
        result = [
            {"from_name": "objects", "to_name": "image", "type": "choices",
             "value": {"choices": [c]}, "score": 0.9} for c in chosen
        ]  # fmt: skip
        predicted.append({**task, "predictions": [{"model_version": "theirs", "result": result}]})
    (media / "79.png").write_bytes(b"broken")
    plain = root / "export.json"
    plain.write_text(json.dumps(tasks))
    with_predictions = root / "with-predictions.json"
    with_predictions.write_text(json.dumps(predicted))
    config = root / "config.xml"
    config.write_text(CONFIG)
    return {
        "root": root, "media": media, "plain": plain, "predicted": with_predictions,
        "config": config, "truth": truth, "tasks": tasks,
    }  # fmt: skip


def test_offline_audit_with_the_default_model(export: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, stdout, stderr = run(
        "audit", export["plain"], "--local-files-root", export["media"], "--out", out, "--json"
    )
    assert code == 0, stderr
    summary = json.loads(stdout)  # one JSON object and nothing else on stdout
    assert summary["project"] is None
    assert summary["source"].startswith(f"model:{default_image_embedder()}:")
    assert summary["tasks"] == {"read": 80, "audited": 79, "labelled": 70, "skipped": 1}
    (skip,) = summary["skipped_reasons"]
    assert (skip["reason"], skip["items"], skip["count"], skip["tasks"]) == (
        "media_bad_image",
        "tasks",
        1,
        [1079],
    )
    assert (
        skip["example"] == "/data/local-files/?d=79.png: not an image (cannot identify image file)"
    )
    assert summary["unknown_choices"] == {}
    schema = summary["schema"]
    assert schema["inferred"] and schema["multi_label"] and schema["choices"] == "objects"
    assert schema["object"] == "Image:image" and schema["classes"] == sorted(CLASSES)
    assert summary["issues"]["total"] > 0 and summary["queues"]["uncertain"] == 9
    assert [a["annotator"] for a in summary["annotators_of_concern"]] == [3]
    assert "satisficing" in summary["annotators_of_concern"][0]["concerns"]
    assert summary["push"] is None
    for name in ("report.html", "issues.csv", "annotators.csv", "classes.csv"):
        assert (out / name).is_file()
    assert set(summary["files"]) == {"report", "issues", "annotators", "classes"}
    issues = (out / "issues.csv").read_text().splitlines()
    assert issues[0].startswith("task_id,priority,class,")
    assert len(issues) == summary["issues"]["total"] + 1
    assert stderr == ""  # no bars when stderr is not a terminal


def test_the_same_audit_on_a_local_dask_cluster(export: dict[str, Any], tmp_path: Path) -> None:
    """``--dask local:1`` starts a LocalCluster of one worker process; every file and the
    summary are those of the in-process audit."""
    pytest.importorskip("distributed")
    outputs = {}
    for engine in ("in process", "local:1"):
        out = tmp_path / engine.replace(" ", "-").replace(":", "-")
        extra = [] if engine == "in process" else ["--dask", engine]
        code, stdout, stderr = run("audit", export["plain"], "--local-files-root",
                                   export["media"], "--out", out, "--json", *extra)  # fmt: skip
        assert code == 0, stderr
        summary = json.loads(stdout)
        outputs[engine] = (summary, {n: (out / n).read_bytes() for n in
                                     ("issues.csv", "annotators.csv", "classes.csv")})  # fmt: skip
    (here, here_files), (there, there_files) = outputs["in process"], outputs["local:1"]
    assert (here["engine"], there["engine"]) == ("in process", "Dask LocalCluster of 1 worker")
    for key in ("tasks", "skipped_reasons", "issues", "queues", "annotators_of_concern"):
        assert here[key] == there[key], key
    assert here_files == there_files


def test_the_summary_for_people(export: dict[str, Any], tmp_path: Path) -> None:
    code, stdout, stderr = run(
        "audit", export["predicted"], "--out", tmp_path, "--progress", "--dry-run"
    )
    assert code == 0, stderr
    empty = int((export["truth"].sum(axis=1) == 0).sum())  # tasks the model predicts nothing on
    assert f"Audited export file: {80 - empty} of 80 tasks" in stdout
    assert "predictions:theirs" in stdout and "inferred from the tasks" in stdout
    assert "Annotators of concern:" in stdout and "Wrote report:" in stdout
    assert "audit" in stderr  # the progress bar of the audit stage


def test_probabilities_from_predictions_in_the_export(
    export: dict[str, Any], tmp_path: Path
) -> None:
    code, stdout, _ = run("audit", export["predicted"], "--out", tmp_path, "--json")
    summary = json.loads(stdout)
    assert code == 0 and summary["source"] == "predictions:theirs"
    # no media needed; tasks without a prediction are skipped with the reason
    empty = int((export["truth"].sum(axis=1) == 0).sum())
    assert summary["tasks"]["skipped"] == empty > 0
    (skip,) = summary["skipped_reasons"]
    assert (skip["reason"], skip["count"]) == ("bad_prediction", empty)
    assert skip["example"] == "the prediction has no result for 'objects'"


def test_probabilities_from_a_file_and_a_label_config(
    export: dict[str, Any], tmp_path: Path
) -> None:
    probs = np.clip(export["truth"] * 0.9 + 0.05, 0, 1)
    path = tmp_path / "probs.npy"
    np.save(path, probs)
    code, stdout, stderr = run(
        "audit", export["plain"], "--pred-probs", path, "--label-config", export["config"],
        "--out", tmp_path / "out", "--json",
    )  # fmt: skip
    assert code == 0, stderr
    summary = json.loads(stdout)
    assert summary["source"] == "pred_probs" and not summary["schema"]["inferred"]
    assert summary["schema"]["classes"] == list(CLASSES)  # the config's order
    np.save(path, probs[:, :3])
    code, _, stderr = run("audit", export["plain"], "--pred-probs", path, "--out", tmp_path)
    assert code == 2 and "shape (80, 5)" in stderr


def bad_json(root: Path) -> Path:
    (root / "bad.json").write_text('[{"id": 1, "data": ')
    return root / "bad.json"


def not_a_list(root: Path) -> Path:
    (root / "dict.json").write_text('{"tasks": []}')
    return root / "dict.json"


@pytest.mark.parametrize(
    ("make", "extra", "message"),
    [
        (lambda root, e: root / "missing.json", [], "does not exist"),
        (lambda root, e: bad_json(root), [], "not valid JSON (line 1"),
        (lambda root, e: not_a_list(root), [], "not the list of tasks"),
        (lambda root, e: e["predicted"], ["--rules", "RULES"], "unknown class 'airport'"),
        (lambda root, e: e["predicted"], ["--label-config", "BADXML"], "not valid XML"),
        (lambda root, e: e["predicted"], ["--choices", "nope"], "no choices results"),
        (lambda root, e: e["predicted"], ["--threshold", "1.5"], "--threshold must be a number in"),
        (lambda root, e: e["predicted"], ["--pred-probs", "missing.npy"], "does not exist"),
    ],
    ids=[
        "missing-file", "bad-json", "not-a-list", "unknown-class-in-rules", "bad-label-config",
        "unknown-choices", "bad-threshold", "missing-probs",
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_a_fix(
    export: dict[str, Any], tmp_path: Path, make: Any, extra: list[str], message: str
) -> None:
    (tmp_path / "rules.yaml").write_text("implies:\n  sun: [airport]\n")
    (tmp_path / "bad.xml").write_text("<View><Choices")
    replace = {"RULES": str(tmp_path / "rules.yaml"), "BADXML": str(tmp_path / "bad.xml")}
    args = [replace.get(a, a) for a in extra]
    code, stdout, stderr = run("audit", make(tmp_path, export), *args, "--out", tmp_path, "--json")
    assert code == 2 and stdout == ""
    lines = stderr.strip().splitlines()
    assert len(lines) == 2, stderr
    assert lines[0].startswith("error: ") and message in lines[0]
    assert lines[1].startswith("fix: ")


def test_missing_source_or_settings(
    export: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    code, _, stderr = run("audit")
    assert code == 2 and "either --project ID or an EXPORT.json" in stderr
    code, _, stderr = run("audit", export["plain"], "--project", 3)
    assert code == 2 and "not both" in stderr
    code, _, stderr = run("audit", "--project", 3)
    assert code == 2 and "no Label Studio URL" in stderr and "LABEL_STUDIO_URL" in stderr
    code, _, stderr = run("audit", "--project", 3, "--url", "http://127.0.0.1:9")
    assert code == 2 and "no Label Studio API key" in stderr
    assert run("frobnicate")[0] == 2
    assert run()[0] == 2


def test_unexpected_errors_exit_1_and_debug_shows_the_traceback(
    export: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("ls_cleanlab.cli.commands.audit_tasks", broken)
    code, _, stderr = run("audit", export["predicted"], "--out", tmp_path)
    assert code == 1 and "Traceback" not in stderr
    assert "error: unexpected RuntimeError: disk on fire" in stderr and "--debug" in stderr
    code, _, stderr = run("audit", export["predicted"], "--out", tmp_path, "--debug")
    assert code == 1 and "Traceback" in stderr and "disk on fire" in stderr


def test_annotators_offline(export: dict[str, Any]) -> None:
    code, stdout, stderr = run("annotators", export["plain"])
    assert code == 0, stderr
    lines = stdout.splitlines()
    assert lines[0].split()[:4] == ["annotator", "quality", "agree", "tasks"]
    assert lines[1].split()[0] == "3" and "satisficing" in lines[1]  # the worst comes first
    assert any(line.startswith("Pairwise agreement") for line in lines)
    assert any(line.strip().startswith("satisficing: gives fewer labels") for line in lines)
    code, stdout, _ = run("annotators", export["plain"], "--json")
    summary = json.loads(stdout)
    assert code == 0 and summary["tasks"] == 80
    assert {a["annotator"] for a in summary["annotators"]} == {1, 2, 3}
    matrix = np.array(summary["pairwise"]["agreement"], dtype=float)
    assert matrix.shape == (3, 3) and matrix[0, 1] == 1.0 and matrix[0, 2] < 1.0
    assert "satisficing" in summary["flags"]


def test_annotators_counts_what_it_left_out(export: dict[str, Any], tmp_path: Path) -> None:
    tasks = [dict(t, annotations=list(t["annotations"])) for t in export["tasks"]]
    tasks[0]["annotations"][0] = {**tasks[0]["annotations"][0], "was_cancelled": True}
    tasks[1]["annotations"][0] = {**tasks[1]["annotations"][0], "completed_by": None}
    path = tmp_path / "left-out.json"
    path.write_text(json.dumps(tasks))
    code, stdout, stderr = run("annotators", path, "--label-config", export["config"])
    assert code == 0, stderr
    assert re.search(r"^ +1 annotations cancelled_annotation", stdout, re.M)
    assert re.search(r"^ +1 annotations deleted_annotator", stdout, re.M)
    code, stdout, _ = run("annotators", path, "--label-config", export["config"], "--json")
    reasons = {s["reason"]: s["count"] for s in json.loads(stdout)["skipped_reasons"]}
    assert reasons == {"cancelled_annotation": 1, "deleted_annotator": 1}


def test_annotators_needs_shared_tasks(export: dict[str, Any], tmp_path: Path) -> None:
    alone = [{**t, "annotations": t["annotations"][:1]} for t in export["tasks"]]
    path = tmp_path / "alone.json"
    path.write_text(json.dumps(alone))
    code, _, stderr = run("annotators", path)
    assert code == 2 and "several annotators on shared tasks" in stderr and "fix:" in stderr


def test_an_unreachable_server_exits_3(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, _, stderr = run(
        "annotators", "--project", 1, "--url", f"http://127.0.0.1:{port}", "--api-key", "k"
    )
    assert code == 3 and "fix: check the URL" in stderr


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"ls-cleanlab {__version__}"


def test_reviewers_annotations_are_gold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--reviewer`` (user ids offline) or ``$LS_CLEANLAB_REVIEWERS``: the summary counts the
    reviewed tasks and each annotator's matches on them; annotators.csv gets the counts."""
    from tests.pipeline.test_gold import CONFIG, probs, tasks

    export = tmp_path / "export.json"
    export.write_text(
        json.dumps(tasks({0: {"by": 9, "label": "good"}, 1: {"by": 9, "label": "good"}}))
    )
    np.save(tmp_path / "probs.npy", probs())
    config = tmp_path / "config.xml"
    config.write_text(CONFIG)
    common = (export, "--label-config", config, "--pred-probs", tmp_path / "probs.npy")
    code, stdout, stderr = run("audit", *common, "--out", tmp_path / "a", "--reviewer", "9",
                               "--json")  # fmt: skip
    assert code == 0, stderr
    gold = json.loads(stdout)["gold"]
    counts = [(a["annotator"], a["n_gold"], a["n_correct"]) for a in gold["annotators"]]
    assert gold["tasks"] == 2 and counts == [(1, 2, 1), (2, 2, 1)]
    header = (tmp_path / "a" / "annotators.csv").read_text().splitlines()[0].split(",")
    assert {"n_gold", "n_correct", "gold_accuracy"} <= set(header)
    monkeypatch.setenv("LS_CLEANLAB_REVIEWERS", "9")
    code, stdout, stderr = run("audit", *common, "--out", tmp_path / "b")
    assert code == 0, stderr
    assert "Reviewed (gold) tasks: 2, out of every tab." in stdout
    monkeypatch.setenv("LS_CLEANLAB_REVIEWERS", "lead@example.com")
    code, _, stderr = run("audit", *common, "--out", tmp_path / "c")
    assert code == 2 and "need Label Studio to find their user ids" in stderr
