"""The audit's issue table: one row per suspicious cell or task, with a reason a reviewer reads.

A reason lists the evidence behind the score, most telling first, e.g.
``'runway' probably missing: model 0.94, 2 of 3 annotators marked it, usually appears with
'airport' (92%)``. Private to :mod:`ls_cleanlab.audit`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ls_cleanlab.audit.expected import TaskProbabilities
from ls_cleanlab.audit.rules import RuleViolations

__all__ = ["Evidence", "issue_table"]

KINDS = ("missing", "spurious", "disagreement", "rule", "outlier")
#: A co-occurrence lift (log-odds) at least this large is worth naming in a reason.
LIFT_TO_MENTION = 1.0
#: A flagged task lists the cells of the flagged kind scoring at least this share of its
#: worst such cell.
CELL_SHARE = 0.5


@dataclass(frozen=True)
class Evidence:
    """Everything the reasons quote. Arrays over the ``n`` tasks and ``K`` classes."""

    class_names: Sequence[str]
    given: np.ndarray  # (n, K) bool, the labels audited
    labelled: np.ndarray  # (n,) bool
    cell_scores: np.ndarray  # (n, K)
    present: np.ndarray  # (n, K) estimated probability of presence
    pred_probs: np.ndarray | None  # (n, K)
    votes: np.ndarray | None  # (n, K) annotations marking each class, with several annotators
    n_annotations: np.ndarray | None  # (n,)
    lift: np.ndarray | None  # (n, K) co-occurrence lift
    lift_source: np.ndarray | None  # (n, K)
    conditional: np.ndarray | None  # (K, K) P(b | a)
    deficit: np.ndarray | None  # (n,) expected minus given label count
    single_label: bool
    confident: np.ndarray | None = None  # (n, K) bool, cells confident learning flags
    tasks: TaskProbabilities | None = None  # per task P(wrong), P(missing), P(spurious)


def _cell_reasons(ev: Evidence, i: np.ndarray, k: np.ndarray, kind: str) -> list[str]:
    """The reasons of the cells ``(i[r], k[r])``, all of one kind, built column by column."""
    names = np.array([repr(c) for c in ev.class_names], dtype=object)
    what = {
        "missing": "probably missing",
        "spurious": "probably wrong" if ev.single_label else "probably spurious",
        "disagreement": "annotators disagree",
    }[kind]
    parts: list[list[str]] = []
    if ev.pred_probs is not None:
        parts.append([f"model {p:.2f}" for p in ev.pred_probs[i, k].tolist()])
    if ev.votes is not None and ev.n_annotations is not None:
        counts = ev.n_annotations[i]
        parts.append(
            [
                f"{v} of {c} annotators marked it" if c > 1 else ""
                for v, c in zip(ev.votes[i, k].tolist(), counts.tolist(), strict=True)
            ]
        )
    if ev.confident is not None and kind != "disagreement":
        parts.append(
            ["confident learning flags it" if c else "" for c in ev.confident[i, k].tolist()]
        )
    if kind == "missing" and ev.lift is not None and ev.lift_source is not None:
        assert ev.conditional is not None
        source = ev.lift_source[i, k]
        share = ev.conditional[np.maximum(source, 0), k]
        mention = ev.lift[i, k] >= LIFT_TO_MENTION
        parts.append(
            [
                f"{'usually' if s >= 0.7 else 'often'} appears with {names[a]} "
                f"({100 * s:.0f}% of the time)"
                if m
                else ""
                for a, s, m in zip(source.tolist(), share.tolist(), mention.tolist(), strict=True)
            ]
        )
    if kind == "missing" and ev.deficit is not None:
        given = ev.given[i].sum(axis=1)
        deficit = ev.deficit[i]
        parts.append(
            [
                f"the task has {g} label{'s' * (g != 1)}, about {g + d:.0f} expected"
                if d >= 1.0
                else ""
                for g, d in zip(given.tolist(), deficit.tolist(), strict=True)
            ]
        )
    if kind == "spurious" and ev.single_label:
        best = np.argmax(ev.present[i], axis=1)
        p_best = ev.present[i, best]
        parts.append(
            [
                f"more likely {names[b]} ({p:.2f})" if b != c else ""
                for b, p, c in zip(best.tolist(), p_best.tolist(), k.tolist(), strict=True)
            ]
        )
    heads = [f"{names[c]} {what}" for c in k.tolist()]
    reasons = []
    for r, head in enumerate(heads):
        detail = ", ".join(part[r] for part in parts if part[r])
        reasons.append(f"{head}: {detail}" if detail else head)
    return reasons


def _kind_cells(ev: Evidence, task_p: np.ndarray, side: np.ndarray, threshold: float) -> Any:
    """Cells of one kind on tasks whose probability of that kind is at least ``threshold``:
    those scoring at least :data:`CELL_SHARE` of the task's worst cell of the kind.

    With one annotator (no votes) the cells confident learning flags are added: the calibrated
    scores take the model's probabilities at face value, and with one annotation per task EM
    cannot measure how miscalibrated they are, so an under-confident model could hide every
    error. Confident learning's per-class thresholds do not depend on calibration; its flags
    are the baseline the tabs must never fall below."""
    cells = side & (ev.labelled & (task_p >= threshold))[:, None]
    s = np.where(cells, ev.cell_scores, 0.0)
    top = s.max(axis=1, keepdims=True)
    found = cells & (s > 0) & (s >= CELL_SHARE * top)
    if ev.votes is None and ev.confident is not None:
        found |= side & ev.confident & ev.labelled[:, None]
    return found


def issue_table(
    ev: Evidence,
    *,
    thresholds: dict[str, float],
    violations: RuleViolations,
    outlier_score: np.ndarray | None,
    outlier_flagged: np.ndarray | None,
    outlier_source: np.ndarray | None,
) -> Any:
    """Build the issues DataFrame: task, class, class_index, kind, score, confident_learning
    (whether cleanlab's confident learning flags the cell too), reason.

    A task whose probability of missing a class (``ev.tasks.missing``) is at least
    ``thresholds["missing"]`` (:func:`ls_cleanlab.audit.expected.tab_thresholds`) gets
    ``missing`` rows for its absent cells that explain it (scoring at least
    :data:`CELL_SHARE` of its worst absent cell); likewise ``spurious`` for present cells, at
    ``thresholds["spurious"]`` (single-label: the given class, "probably wrong"). With several
    annotators, the other tasks' cells on which the annotators split, or on which all of them
    contradict the consensus, are ``disagreement``: the consensus is confident there, so these
    are feedback for annotators, not errors. Rule violations are ``rule``; flagged tasks are
    ``outlier`` (no class). Sorted by score, highest first.
    """
    import pandas as pd

    assert ev.tasks is not None
    blocks: list[Any] = []

    def add(i: np.ndarray, k: np.ndarray, kind: str, score: np.ndarray, reason: list[str]) -> None:
        blocks.append(
            pd.DataFrame(
                {"task": i, "class_index": k, "kind": kind, "score": score, "reason": reason}
            )
        )

    ruled = np.zeros(ev.given.shape, dtype=bool)
    ruled[violations.task, violations.cls] = True  # those cells get a rule row instead
    error_task = np.zeros(len(ev.given), dtype=bool)
    error_task[violations.task] = True
    kinds = (
        ("missing", ev.tasks.missing, ~ev.given),
        ("spurious", ev.tasks.spurious, ev.given),
    )
    for kind, task_p, side in kinds:
        if ev.single_label and kind == "missing":
            continue  # in single-label data the wrong given class carries the issue
        mask = _kind_cells(ev, task_p, side, thresholds[kind])
        error_task |= mask.any(axis=1)
        i, k = np.nonzero(mask & ~ruled)
        add(i, k, kind, ev.cell_scores[i, k], _cell_reasons(ev, i, k, kind))
    if ev.votes is not None and ev.n_annotations is not None:
        count = ev.n_annotations[:, None]
        split = (ev.votes > 0) & (ev.votes < count)
        overruled = np.where(ev.given, ev.votes == 0, ev.votes == count) & (count > 1)
        mask = (split | overruled) & (ev.labelled & ~error_task)[:, None] & ~ruled
        if ev.single_label:
            mask &= ev.given  # one row per task: the consensus class
        i, k = np.nonzero(mask)
        add(i, k, "disagreement", ev.cell_scores[i, k], _cell_reasons(ev, i, k, "disagreement"))
    rows = _rule_rows(ev, violations)
    if outlier_flagged is not None and outlier_score is not None and outlier_source is not None:
        for i in np.flatnonzero(outlier_flagged):
            view = "the model's probabilities" if outlier_source[i] == "model" else "its features"
            rows.append((int(i), -1, "outlier", float(outlier_score[i]), f"unusual task by {view}"))
    blocks.append(pd.DataFrame(rows, columns=["task", "class_index", "kind", "score", "reason"]))
    frame = pd.concat([b for b in blocks if len(b)] or blocks[-1:], ignore_index=True)
    return _finish(frame, ev)


def _rule_rows(ev: Evidence, violations: RuleViolations) -> list[tuple[int, int, str, float, str]]:
    """One ``rule`` row per violated cell, naming the rule and the blamed cell."""
    rows: list[tuple[int, int, str, float, str]] = []
    names = ev.class_names
    for i, k, other, kind in zip(
        violations.task, violations.cls, violations.other, violations.kind, strict=True
    ):
        if kind == "implies":
            a, b = (other, k) if not ev.given[i, k] else (k, other)
            text = f"rule broken: {names[a]!r} implies {names[b]!r}, which is not given"
        else:
            text = f"rule broken: {names[k]!r} and {names[other]!r} exclude each other"
        blame = "probably missing" if not ev.given[i, k] else "probably wrong"
        rows.append(
            (int(i), int(k), "rule", float(ev.cell_scores[i, k]), f"{text}; {names[k]!r} {blame}")
        )
    return rows


def _finish(frame: Any, ev: Evidence) -> Any:
    """Class names, the confident-learning column, kinds as categories, sorted by score."""
    import pandas as pd

    names = ev.class_names
    frame["class"] = [names[k] if k >= 0 else None for k in frame["class_index"]]
    cells = frame["class_index"].to_numpy(dtype=np.int64)
    frame["confident_learning"] = False
    if ev.confident is not None:
        on_cell = cells >= 0
        tasks = frame["task"].to_numpy(dtype=np.int64)[on_cell]
        frame.loc[on_cell, "confident_learning"] = ev.confident[tasks, cells[on_cell]]
    frame["kind"] = pd.Categorical(frame["kind"], categories=KINDS)
    frame = frame.sort_values(["score", "task", "class_index"], ascending=[False, True, True])
    columns = ["task", "class", "class_index", "kind", "score", "confident_learning", "reason"]
    frame = frame.astype({"task": np.int64, "class_index": np.int64, "score": np.float64})
    frame = frame.astype({"class": object, "reason": object})
    return frame[columns].reset_index(drop=True)


def tab_precision(frame: Any, tasks: TaskProbabilities, multi_label: bool) -> dict[str, float]:
    """Expected precision of the "Likely label errors" tab (``"errors"``: tasks with a
    ``missing``, ``spurious`` or ``rule`` row) and, multi-label, of "Likely missing labels"
    (``"missing"``): the mean probability that its tasks have its problem; NaN when empty."""
    kind = frame["kind"].astype(str).to_numpy()
    task = frame["task"].to_numpy(dtype=np.int64)
    tabs: dict[str, tuple[tuple[str, ...], np.ndarray]] = {
        "errors": (("missing", "spurious", "rule"), tasks.wrong)
    }
    if multi_label:
        tabs["missing"] = (("missing",), tasks.missing)
    out = {}
    for key, (kinds, p) in tabs.items():
        rows = np.unique(task[np.isin(kind, kinds)])
        out[key] = float(p[rows].mean()) if len(rows) else float("nan")
    return out
