"""The command on exports shaped unlike the demo's: text tasks, crowds of one-task annotators."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ls_cleanlab.cli.output import TOP_MATRIX
from tests.reliability.helpers import run_cli

TOPICS = {
    "sports": "ball goal team match player score win coach league",
    "politics": "vote election senate law party minister policy debate",
    "food, drinks": "pizza wine cheese bread recipe coffee sauce menu",
}


def _annotation(user: int, choice: str) -> dict[str, Any]:
    result = {"from_name": "topic", "to_name": "text", "type": "choices",
              "value": {"choices": [choice]}}  # fmt: skip
    return {"completed_by": user, "result": [result], "lead_time": 4.0}


def crowd_export(path: Path, n: int = 60, seed: int = 0) -> Path:
    """One annotator labels every text; each task also gets a one-off annotator, half of whom
    pick a wrong topic."""
    rng = np.random.default_rng(seed)
    names = list(TOPICS)
    tasks = []
    for i in range(n):
        truth = names[i % len(names)]
        text = " ".join(rng.choice(TOPICS[truth].split(), 10))
        other = truth if rng.random() < 0.5 else names[(i + 1) % len(names)]
        both = [_annotation(1, truth), _annotation(100 + i, other)]
        tasks.append({"id": i + 1, "data": {"text": text}, "annotations": both})
    path.write_text(json.dumps(tasks))
    return path


@pytest.fixture(scope="module")
def crowd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return crowd_export(tmp_path_factory.mktemp("crowd") / "crowd.json")


def test_a_crowd_of_one_task_annotators_is_summarized_not_dumped(
    crowd: Path, tmp_path: Path
) -> None:
    code, stdout, stderr = run_cli(
        "audit", crowd, "--text-embedder", "none", "--out", tmp_path / "out"
    )
    assert code == 0, stderr
    lines = stdout.splitlines()
    start = lines.index("Annotators of concern:")
    listed = [line for line in lines[start + 1 :] if line.startswith("  ") and "task" in line]
    assert len(listed) == TOP_MATRIX and all(line.endswith("(1 task)") for line in listed)
    more = next(line for line in lines if line.startswith("  ... and "))
    _, json_out, _ = run_cli("audit", crowd, "--text-embedder", "none", "--json",
                             "--out", tmp_path / "json")  # fmt: skip
    concerns = json.loads(json_out)["annotators_of_concern"]
    assert more == f"  ... and {len(concerns) - TOP_MATRIX} more in annotators.csv"


def test_the_agreement_matrix_of_many_annotators_keeps_the_busiest(crowd: Path) -> None:
    code, stdout, stderr = run_cli("annotators", crowd)
    assert code == 0, stderr
    lines = stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("Pairwise agreement"))
    assert f"the {TOP_MATRIX} of 61 annotators sharing the most tasks" in lines[at]
    header, first = lines[at + 1].split(), lines[at + 2]
    assert header == [f"#{i}" for i in range(1, TOP_MATRIX + 1)]
    assert first.split()[-1] == "1"  # the annotator of every task is kept
    code, json_out, _ = run_cli("annotators", crowd, "--json")
    assert len(json.loads(json_out)["pairwise"]["names"]) == 61


def test_an_earlier_audits_predictions_are_not_taken_for_a_model(
    crowd: Path, tmp_path: Path
) -> None:
    tasks = json.loads(crowd.read_text())
    for task in tasks:  # exported after an audit: our suggestions, scored by review priority
        result = {"from_name": "topic", "to_name": "text", "type": "choices",
                  "value": {"choices": ["sports"]}}  # fmt: skip
        ours = {"model_version": "ls-cleanlab-20261129102329fec4", "score": 0.2, "result": [result]}
        task["predictions"] = [ours]
    export = tmp_path / "audited.json"
    export.write_text(json.dumps(tasks))
    code, stdout, stderr = run_cli("audit", export, "--text-embedder", "none", "--json",
                                   "--out", tmp_path / "out")  # fmt: skip
    assert code == 0, stderr
    assert json.loads(stdout)["source"] == "model:tfidf"


def test_predictions_of_another_tag_are_not_taken_for_the_audits(
    crowd: Path, tmp_path: Path
) -> None:
    tasks = json.loads(crowd.read_text())
    for task in tasks:  # another model labelled another tag of the project
        result = {"from_name": "sentiment", "to_name": "text", "type": "choices",
                  "value": {"choices": ["positive"]}}  # fmt: skip
        task["predictions"] = [{"model_version": "other", "score": 0.9, "result": [result]}]
    export = tmp_path / "predicted.json"
    export.write_text(json.dumps(tasks))
    code, stdout, stderr = run_cli("audit", export, "--choices", "topic", "--text-embedder",
                                   "none", "--json", "--out", tmp_path / "out")  # fmt: skip
    assert code == 0, stderr
    assert json.loads(stdout)["source"] == "model:tfidf"


def test_python_warnings_become_warning_lines_once_each(crowd: Path, tmp_path: Path) -> None:
    small = tmp_path / "small.json"
    small.write_text(json.dumps(json.loads(crowd.read_text())[:12]))  # few tasks per class
    code, _, stderr = run_cli("audit", small, "--text-embedder", "none",
                              "--out", tmp_path / "out")  # fmt: skip
    assert code == 0, stderr
    lines = stderr.splitlines()
    assert any("fewer than n_folds=5" in line for line in lines), stderr
    assert all(line.startswith("warning: ") for line in lines), stderr
    assert len(lines) == len(set(lines)), stderr
