"""Reviewed tasks offline: a reviewer's (or a ground-truth) annotation is the task's truth; the
task leaves every tab, its prediction is the gold label, and annotators are counted against it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ls_cleanlab.errors import InvalidOptionError
from ls_cleanlab.pipeline import AuditOptions, audit_tasks
from ls_cleanlab.pipeline.gold import gold_scores
from ls_cleanlab.studio import parse_label_config

CONFIG = (
    '<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text">'
    '<Choice value="good"/><Choice value="bad"/></Choices></View>'
)
REVIEWER = 9


def choice(value: str) -> list[dict[str, Any]]:
    return [{"from_name": "sentiment", "to_name": "text", "type": "choices",
             "value": {"choices": [value]}}]  # fmt: skip


def tasks(review: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """40 texts labelled as the model says by annotators 1-3, except texts 0-3: annotator 1
    labels them against the model, annotator 2 with it (label errors the annotators dispute).
    ``review`` adds an annotation to a task: {task: {"by": id, "label": x, ...}}."""
    out = []
    for i in range(40):
        label = "good" if i % 2 == 0 else "bad"
        wrong = "bad" if label == "good" else "good"
        givens = {1: wrong, 2: label} if i < 4 else {1: label, 2: label, 3: label}
        annotations = [{"completed_by": u, "result": choice(given), "created_at": f"2026-01-0{u}"}
                       for u, given in givens.items()]  # fmt: skip
        if i in review:
            extra = dict(review[i])
            annotations.append({"completed_by": extra.pop("by"), "result": choice(extra.pop(
                "label")), "created_at": "2026-01-09", **extra})  # fmt: skip
        out.append({"id": 100 + i, "data": {"text": f"text {i}"}, "annotations": annotations})
    return out


def probs() -> np.ndarray:
    return np.array([[0.95, 0.05] if i % 2 == 0 else [0.05, 0.95] for i in range(40)])


def audit(review: dict[int, dict[str, Any]], **options: Any) -> Any:
    return audit_tasks(tasks(review), parse_label_config(CONFIG),
                       options=AuditOptions(pred_probs=probs(), **options))  # fmt: skip


def ours(result: Any, task: int) -> dict[str, Any]:
    return next(p for p in result.predictions if p["task"] == task)


def test_a_reviewed_task_leaves_every_tab_with_the_gold_label() -> None:
    before = audit({})
    assert {100, 101, 102, 103} <= set(np.concatenate(list(before.queues.values())).tolist())
    assert before.gold is not None and not before.gold.any() and before.gold_accuracy is None
    # the reviewer sides with annotator 2 on task 100 and with annotator 1 on task 101; task 102
    # gets a ground-truth annotation from annotator 4 (on annotator 2's side); task 103 stays
    review = {0: {"by": REVIEWER, "label": "good"}, 1: {"by": REVIEWER, "label": "good"},
              2: {"by": 4, "label": "good", "ground_truth": True}}  # fmt: skip
    after = audit(review, reviewers=(REVIEWER,))
    in_tabs = set(np.concatenate(list(after.queues.values())).tolist())
    assert {100, 101, 102}.isdisjoint(in_tabs) and 103 in in_tabs
    assert after.gold.tolist()[:4] == [True, True, True, False]
    for task in (100, 101, 102):
        prediction = ours(after, task)
        assert prediction["result"][0]["value"]["choices"] == ["good"]
        assert prediction["score"] == 0.0 and prediction["result"][0]["meta"]["queues"] == []
    rows = after.task_ids.tolist()
    assert after.audit.consensus[rows.index(101)].tolist() == [1, 0]  # the model said "bad"
    assert not after.audit.issues["task"].isin([rows.index(t) for t in (100, 101, 102)]).any()
    accuracy = after.gold_accuracy.set_index("annotator")
    assert accuracy.loc[1, ["n_gold", "n_correct"]].tolist() == [3, 1]
    assert accuracy.loc[2, ["n_gold", "n_correct"]].tolist() == [3, 2]
    assert accuracy.loc[3, "n_gold"] == 0 and np.isnan(accuracy.loc[3, "gold_accuracy"])
    assert REVIEWER not in accuracy.index and 4 not in accuracy.index  # gold, not annotators
    assert set(after.audit.annotators["annotator"]) == {1, 2, 3}
    # what the server records for /metrics: annotators 1 and 2, by name; 3 saw no gold task
    assert gold_scores(after) == {"1": {"accuracy": 0.3333}, "2": {"accuracy": 0.6667}}
    assert gold_scores(before) == {}


def test_without_reviewers_only_ground_truth_is_gold() -> None:
    result = audit({0: {"by": REVIEWER, "label": "bad"}})
    assert result.gold is not None and not result.gold.any()
    in_tabs = set(np.concatenate(list(result.queues.values())).tolist())
    assert 100 in in_tabs  # the reviewer is one more vote


def test_reviewer_options_are_checked() -> None:
    with pytest.raises(InvalidOptionError, match="user ids or email addresses"):
        AuditOptions(reviewers=("not an email",))
    with pytest.raises(InvalidOptionError, match="need Label Studio to find their user ids"):
        audit({}, reviewers=("lead@example.com",))


def test_the_report_shows_accuracy_on_gold_with_counts() -> None:
    from ls_cleanlab.report import render_report

    result = audit({0: {"by": REVIEWER, "label": "good"}, 1: {"by": REVIEWER, "label": "good"}},
                   reviewers=(REVIEWER,))  # fmt: skip
    text = render_report(result, top=5)
    section = text[text.index('<table id="gold">') :]
    section = section[: section.index("</table>")]
    rows = section.split('<tr class="gold-row">')[1:]
    assert len(rows) == 2  # annotators 1 and 2 labelled the reviewed tasks; 3 did not
    assert '<td>1</td><td class="num">2</td><td class="num">1</td>' in rows[0]
    assert "2 tasks have a gold label" in text


def test_annotators_are_measured_against_gold() -> None:
    # the model sides with annotator 2 on the disputed texts 0-3; the reviewer with annotator 1
    plain = audit({}).audit.annotators.set_index("annotator")["quality"]
    assert plain[2] > plain[1]
    review = {i: {"by": REVIEWER, "label": "bad" if i % 2 == 0 else "good"} for i in range(4)}
    told = audit(review, reviewers=(REVIEWER,)).audit.annotators.set_index("annotator")["quality"]
    assert told[1] > told[2]
