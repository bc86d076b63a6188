"""``audit_labels``: from model probabilities and who labelled what, to what a reviewer fixes first.

The audit works on the label matrix it treats as given: one annotator's labels, or the consensus
of several (:func:`ls_cleanlab.annotators.consensus`, by default ``method="calibrated"``: a
Dawid-Skene model with one-sided annotator rates and the model as one more source weighted by
its measured reliability). For every cell it estimates the probability ``P(present)`` that the
class is truly present, and scores the cell by the probability that its audited value is wrong:
a calibrated probability (:mod:`ls_cleanlab.audit.scoring`, :mod:`ls_cleanlab.audit.expected`).

A task is an issue of kind ``missing`` (``spurious``) when the probability that its audited
labels miss a class (hold a wrong one) reaches a threshold, by default chosen per run so that
each error tab holds the expected number of tasks with its problem (``expected_issues``), where
its expected precision, ``LabelAudit.expected_precision``, equals its expected recall
(:mod:`ls_cleanlab.audit.expected`); a fixed ``threshold`` overrides it. Tasks whose
annotators split on a class the consensus is sure of are ``disagreement``: annotator feedback,
not errors. ``expected_issues`` is as confident learning's ``num_label_issues`` for one
annotator. With one annotation per task nothing measures the model's calibration, so the
cells confident learning flags join the issues too (and the suggestions, and the expected
counts): the tabs are never smaller than cleanlab's (README, "One annotator per task").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ls_cleanlab import validation
from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators import Agreement, Consensus, agreement, annotator_table, consensus
from ls_cleanlab.annotators.gold import Gold
from ls_cleanlab.audit import inputs
from ls_cleanlab.audit import issues as _issues
from ls_cleanlab.audit.bias import ALPHA, annotator_bias, class_bias
from ls_cleanlab.audit.expected import expected_issues, tab_thresholds, task_probabilities
from ls_cleanlab.audit.outliers import outlier_scores
from ls_cleanlab.audit.rules import find_violations, load_rules
from ls_cleanlab.audit.scoring import Scores, priority_of, score_several, score_single
from ls_cleanlab.audit.tables import (
    annotators_frame,
    classes_frame,
    quality_without_shared_tasks,
)
from ls_cleanlab.errors import InvalidAnnotationsError, InvalidOptionError

__all__ = ["RULE_SCORE", "LabelAudit", "audit_labels"]

ConsensusMethod = Literal["calibrated", "crowdlab", "majority", "dawid_skene"]
CONSENSUS_METHODS: tuple[ConsensusMethod, ...] = (
    "calibrated",
    "crowdlab",
    "majority",
    "dawid_skene",
)
#: A cell blamed for breaking a user rule scores at least this.
RULE_SCORE = 0.9


@dataclass(frozen=True)
class LabelAudit:
    """The result of :func:`audit_labels`. Arrays over ``n`` tasks and ``K`` classes.

    Attributes
    ----------
    priority : ndarray, shape (n,)
        In [0, 1]; higher means review sooner. With several annotators, the probability that
        the task's consensus is wrong; with one, confident learning's label quality (one minus
        cleanlab's score). 0 for tasks nobody labelled.
    cell_scores : ndarray, shape (n, K)
        In [0, 1]; the probability that the audited value of each cell is wrong (calibrated).
        0 for unlabelled tasks.
    consensus : ndarray of int8, shape (n, K)
        The labels the audit treats as given.
    suggested : ndarray of int8, shape (n, K)
        The most probable labels; for unlabelled tasks, the model's prediction.
    present : ndarray, shape (n, K)
        Estimated probability that each class is truly present.
    uncertainty : ndarray, shape (n,)
        For unlabelled tasks, how unsure the model is (mean binary entropy, in bits); else 0.
    issues : pandas.DataFrame
        ``task, class, class_index, kind, score, confident_learning, reason``; kind is one of
        ``missing``, ``spurious``, ``disagreement``, ``rule``, ``outlier``.
    annotators : pandas.DataFrame or None
        One row per annotator (None when the labels came without annotators).
    classes : pandas.DataFrame
        One row per class.
    agreement : Agreement or None
        Inter-annotator agreement, with several annotators on shared tasks.
    consensus_detail : Consensus
    class_names : list of str
    multi_label : bool
    expected_issues : dict of str to float
        Expected number of labelled tasks whose audited labels are wrong (``"errors"``), miss a
        class (``"missing"``, multi-label) or hold a wrong one (``"spurious"``).
    task_wrong : ndarray, shape (n,)
        The probability that each task's audited labels are wrong somewhere.
    thresholds, expected_precision : dict of str to float
        The probability a ``missing`` and a ``spurious`` issue needed; per error tab
        (``"errors"``, ``"missing"``), the mean probability that its tasks have its problem.
    """

    priority: np.ndarray
    cell_scores: np.ndarray
    consensus: np.ndarray
    suggested: np.ndarray
    present: np.ndarray
    uncertainty: np.ndarray
    issues: Any
    annotators: Any
    classes: Any
    agreement: Agreement | None
    consensus_detail: Consensus
    class_names: list[str]
    multi_label: bool
    expected_issues: dict[str, float]
    task_wrong: np.ndarray
    thresholds: dict[str, float]
    expected_precision: dict[str, float]


def audit_labels(
    pred_probs: Any = None,
    labels: Any = None,
    annotations: Annotations | None = None,
    class_names: Sequence[str] | None = None,
    rules: Any = None,
    *,
    features: Any = None,
    multi_label: bool | None = None,
    consensus_method: ConsensusMethod = "calibrated",
    threshold: float | None = None,
    n_tasks: int | None = None,
    seed: int = 0,
    gold: Gold | None = None,
) -> LabelAudit:
    """Audit the labels of a classification project; see the module docstring for the method.

    Parameters
    ----------
    pred_probs : array_like, shape (n, K), optional
        Out-of-sample probabilities; per class for multi-label, rows summing to 1 for
        single-label. May be omitted when several annotators labelled shared tasks.
    labels : array_like, optional
        One annotator's labels for every task: ``(n, K)`` 0/1, a list of class-index lists, or
        ``(n,)`` class indices (single-label).
    annotations : Annotations, optional
        Who labelled what; tasks may have any number of annotations, including none.
    class_names : sequence of str, optional
        Names used in the tables and reasons; default ``"0"``, ``"1"``, ...
    rules : dict, path or Rules, optional
        User rules (``implies``, ``excludes``), see :mod:`ls_cleanlab.audit.rules`.
    features : array_like, shape (n, d), optional
        Task features for the outlier score.
    multi_label : bool, optional
        Inferred when omitted: single-label when every annotation holds exactly one class and the
        probabilities (if given) sum to 1 per task.
    consensus_method : {"calibrated", "crowdlab", "majority", "dawid_skene"}
        How several annotators' labels are combined (:func:`ls_cleanlab.annotators.consensus`).
        The default ``"calibrated"`` gives calibrated cell scores; ``"crowdlab"`` is cleanlab's
        CROWDLAB (single-label: exactly), ``"majority"`` a vote.
    threshold : float in (0, 1), optional
        A task is a ``missing`` (``spurious``) issue when the probability that its audited
        labels miss a class (hold a wrong one) is at least this. Default: chosen per run so
        that each error tab holds the expected number of tasks with its problem.
    n_tasks : int, optional
        Number of tasks when neither ``pred_probs`` nor ``labels`` gives it.
    seed : int
        Seeds every random choice (row sampling, permutation tests).
    gold : Gold, optional
        Known truth of some tasks, not among ``annotations`` (see ``annotators.consensus``).
    """
    method = validation.check_option(consensus_method, CONSENSUS_METHODS, "consensus_method")
    inputs.check_options(threshold, seed)
    probs, ann, named, n = _resolve(pred_probs, labels, annotations, class_names, n_tasks)
    k = ann.n_classes
    names = inputs.class_names(class_names, k)
    features_array = inputs.check_features(features, n)
    if multi_label is None:
        sums_to_one = probs is None or bool(np.allclose(probs.sum(axis=1), 1.0, atol=1e-3))
        multi_label = not (ann.is_single_label and sums_to_one and k > 1)
    if not multi_label and probs is not None:
        probs = validation.as_pred_probs(probs, sum_to_one=True)
    votes, counts = inputs.vote_matrix(ann, n)
    several = bool((counts > 1).any())
    if probs is None and not several:
        raise InvalidAnnotationsError(
            "without pred_probs the audit needs several annotators on shared tasks; no task has "
            f"more than one annotation ({len(ann)} in all). Pass out-of-sample pred_probs."
        )
    method = method if several else "majority"  # one annotation per task needs no vote
    cons = consensus(ann, n, probs, method=method, multi_label=multi_label, gold=gold)
    given = cons.labels.astype(bool)
    if several:
        scores = score_several(cons, probs)
    else:
        scores = score_single(given, cons.annotated, probs, multi_label, seed)  # type: ignore[arg-type]
    context = _Context(
        probs, ann, cons, names, multi_label, several, votes, counts, threshold, seed, named
    )
    return _audit(context, scores, load_rules(rules, names), features_array)


def _resolve(
    pred_probs: Any,
    labels: Any,
    annotations: Annotations | None,
    class_names: Sequence[str] | None,
    n_tasks: int | None,
) -> tuple[np.ndarray | None, Annotations, bool, int]:
    """The probabilities, the annotations table (and whether its annotators are named) and the
    number of tasks, checked against each other."""
    probs = None if pred_probs is None else validation.as_pred_probs(pred_probs, sum_to_one=False)
    n = len(probs) if probs is not None else None
    k = probs.shape[1] if probs is not None else (len(class_names) if class_names else None)
    ann, named = inputs.as_annotations(labels, annotations, n, k)
    k = ann.n_classes if k is None else k
    if ann.n_classes != k:
        raise InvalidAnnotationsError(
            f"annotations have {ann.n_classes} classes but pred_probs has {k} columns."
        )
    if n is None:
        n = n_tasks if n_tasks is not None else (int(ann.task.max()) + 1 if len(ann) else 0)
    elif n_tasks is not None and n_tasks != n:
        raise InvalidOptionError(f"n_tasks={n_tasks} but pred_probs has {n} rows.")
    ann.check_tasks(n)
    return probs, ann, named, n


@dataclass(frozen=True)
class _Context:
    probs: np.ndarray | None
    ann: Annotations
    cons: Consensus
    names: list[str]
    multi_label: bool
    several: bool
    votes: np.ndarray
    counts: np.ndarray
    threshold: float | None
    seed: int
    named: bool


def _single_flags(c: _Context, confident: np.ndarray | None) -> np.ndarray | None:
    """With one annotator, the cells confident learning flags (they join the tabs, see
    :func:`ls_cleanlab.audit.issues.issue_table`); None with several annotators."""
    return None if c.several or confident is None else confident & c.cons.annotated[:, None]


def _expected(c: _Context, tasks: Any, confident: np.ndarray | None) -> dict[str, float]:
    """Expected wrong tasks per kind; with one annotator at least the count of tasks
    confident learning flags (as cleanlab's ``num_label_issues`` counts them)."""
    out = expected_issues(tasks, c.cons.annotated, c.multi_label)
    flags = _single_flags(c, confident)
    if flags is not None:
        given = c.cons.labels.astype(bool)
        sides = {"errors": flags, "spurious": flags & given, "missing": flags & ~given}
        out = {kind: max(v, float(sides[kind].any(axis=1).sum())) for kind, v in out.items()}
    return out


def _suggested(
    c: _Context, cell_scores: np.ndarray, present: np.ndarray, confident: np.ndarray | None
) -> np.ndarray:
    """The most probable labels: audited cells flipped where more likely wrong than right (one
    annotator: or flagged by confident learning); single-label, the most probable class;
    unlabelled tasks, the model's prediction."""
    n = len(cell_scores)
    given = c.cons.labels.astype(bool)
    labelled = c.cons.annotated
    flip = cell_scores >= 0.5
    flags = _single_flags(c, confident)
    if flags is not None:
        flip |= flags
    suggested = np.where(flip, ~given, given).astype(np.int8)
    if not c.multi_label:
        best = np.argmax(present, axis=1)
        if flags is not None and c.probs is not None:  # flagged by confident learning alone:
            model_best = np.argmax(c.probs, axis=1)  # the model's class, as cleanlab suggests
            by_flag = flags.any(axis=1) & (best == given.argmax(axis=1))
            best = np.where(by_flag, model_best, best)
        wrong = labelled & flip[np.arange(n), given.argmax(axis=1)]
        suggested[wrong] = 0
        suggested[wrong, best[wrong]] = 1
    if c.probs is not None:
        unlabelled = ~labelled
        if c.multi_label:
            suggested[unlabelled] = c.probs[unlabelled] >= 0.5
        else:
            suggested[unlabelled] = 0
            suggested[unlabelled, c.probs[unlabelled].argmax(axis=1)] = 1
    return suggested


def _uncertainty(c: _Context) -> np.ndarray:
    """Mean binary entropy (bits) of the model on unlabelled tasks; 0 elsewhere."""
    out = np.zeros(len(c.counts))
    if c.probs is not None:
        unlabelled = ~c.cons.annotated
        p = np.clip(c.probs[unlabelled], 1e-12, 1 - 1e-12)
        out[unlabelled] = -(p * np.log2(p) + (1 - p) * np.log2(1 - p)).mean(axis=1)
    return out


def _outliers(c: _Context, features: np.ndarray | None) -> tuple[Any, Any, Any]:
    labelled = c.cons.annotated
    if (c.probs is None and features is None) or not labelled.any():
        return None, None, None
    found = outlier_scores(
        None if c.probs is None else c.probs[labelled],
        None if features is None else features[labelled],
        single_label=not c.multi_label,
    )
    n = len(labelled)
    score, flagged, origin = np.zeros(n), np.zeros(n, bool), np.full(n, "", dtype=object)
    score[labelled], flagged[labelled], origin[labelled] = found.score, found.flagged, found.source
    return score, flagged, origin


def _audit(c: _Context, scores: Scores, rule_set: Any, features: np.ndarray | None) -> LabelAudit:
    labelled = c.cons.annotated
    given = c.cons.labels.astype(bool)
    present = scores.present
    cell_scores = scores.cell_scores  # the audit's own arrays: the rules raise them in place
    ranking = scores.ranking
    violations = find_violations(given & labelled[:, None], rule_set, present)
    at = (violations.task, violations.cls)
    cell_scores[at] = np.maximum(cell_scores[at], RULE_SCORE)
    ranking[at] = np.maximum(ranking[at], RULE_SCORE)
    tasks = task_probabilities(given, cell_scores, c.multi_label)
    priority = priority_of(ranking, given, labelled, c.several, c.multi_label, tasks.wrong)
    score, flagged, origin = _outliers(c, features)
    confident = inputs.confident_cells(given, labelled, c.probs, c.multi_label)
    evidence = _issues.Evidence(
        class_names=c.names,
        given=given,
        labelled=labelled,
        cell_scores=cell_scores,
        present=present,
        pred_probs=c.probs,
        votes=c.votes if c.several else None,
        n_annotations=c.counts if c.several else None,
        lift=scores.lift,
        lift_source=scores.lift_source,
        conditional=scores.conditional,
        deficit=scores.deficit,
        single_label=not c.multi_label,
        confident=confident,
        tasks=tasks,
    )
    thresholds = tab_thresholds(tasks, labelled, c.multi_label, c.threshold)
    issues = _issues.issue_table(
        evidence,
        thresholds=thresholds,
        violations=violations,
        outlier_score=score,
        outlier_flagged=flagged,
        outlier_source=origin,
    )
    agree = agreement(c.ann, len(labelled)) if c.several else None
    annotators = None
    if c.named:
        table = annotator_table(c.ann, c.cons, c.probs, c.names)
        if not c.several:
            table = quality_without_shared_tasks(table, c.ann, present, c.multi_label)
        bias = annotator_bias(c.ann, present if labelled.any() else None, seed=c.seed)
        annotators = annotators_frame(table, bias, c.ann, present, ALPHA)
    classes = classes_frame(
        c.names,
        class_bias(given, present, np.flatnonzero(labelled)),
        issues,
        agree,
        cell_scores,
        labelled,
    )
    wrong = np.where(labelled, tasks.wrong, 0.0)
    return LabelAudit(
        priority=priority,
        cell_scores=cell_scores,
        consensus=c.cons.labels.astype(np.int8),
        suggested=_suggested(c, cell_scores, present, confident),
        present=present,
        uncertainty=_uncertainty(c),
        issues=issues,
        annotators=annotators,
        classes=classes,
        agreement=agree,
        consensus_detail=c.cons,
        class_names=c.names,
        multi_label=c.multi_label,
        expected_issues=_expected(c, tasks, confident),
        task_wrong=wrong,
        thresholds=thresholds,
        expected_precision=_issues.tab_precision(issues, tasks, c.multi_label),
    )
