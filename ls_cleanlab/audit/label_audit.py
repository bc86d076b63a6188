"""``audit_labels``: from model probabilities and who labelled what, to what a reviewer fixes first.

The audit works on the label matrix it treats as given: one annotator's labels, or the consensus
of several (:func:`ls_cleanlab.annotators.consensus`). For every cell it estimates the probability
``P(present)`` that the class is truly present, in log-odds, as the sum of

* the annotators' and the model's evidence: the consensus posterior with several annotators
  (CROWDLAB weighs each annotator by quality and the model by its agreement), or the model's
  probability refitted per class with one annotator;
* what the data teach about missing labels (:mod:`ls_cleanlab.audit.satisficing`): label
  co-occurrence and the task's cardinality deficit, weighted per class by how well they predict
  the given labels.

A cell's score is the probability that its given value is wrong (``P(present)`` where absent,
``1 - P(present)`` where present). A task's priority aggregates its cell scores with the
exponential moving average cleanlab uses for multi-label label quality (worst cells weigh most):
with no extra evidence the order of tasks is cleanlab's. Single-label tasks are scored by
``1 - P(given class)``, cleanlab's self-confidence.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ls_cleanlab import validation
from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators import Agreement, Consensus, agreement, annotator_table, consensus
from ls_cleanlab.audit import issues as _issues
from ls_cleanlab.audit.bias import ALPHA, annotator_bias, class_bias
from ls_cleanlab.audit.outliers import outlier_scores
from ls_cleanlab.audit.rules import find_violations, load_rules
from ls_cleanlab.audit.satisficing import cell_evidence, logit, sigmoid
from ls_cleanlab.audit.tables import annotators_frame, classes_frame
from ls_cleanlab.confident.issues import find_label_issues, multilabel_issue_matrix
from ls_cleanlab.confident.scores import exponential_moving_average
from ls_cleanlab.errors import InvalidAnnotationsError, InvalidLabelsError, InvalidOptionError

__all__ = ["RULE_SCORE", "LabelAudit", "audit_labels"]

ConsensusMethod = Literal["crowdlab", "majority", "dawid_skene"]
CONSENSUS_METHODS: tuple[ConsensusMethod, ...] = ("crowdlab", "majority", "dawid_skene")
#: A cell blamed for breaking a user rule scores at least this.
RULE_SCORE = 0.9
#: A cell the annotators split on is a ``disagreement`` issue when it scores at least this.
DISAGREEMENT_SCORE = 0.1
#: Weight of the worst cell in the task priority (cleanlab's default EMA ``alpha``).
PRIORITY_ALPHA = 0.8


@dataclass(frozen=True)
class LabelAudit:
    """The result of :func:`audit_labels`. Arrays over ``n`` tasks and ``K`` classes.

    Attributes
    ----------
    priority : ndarray, shape (n,)
        In [0, 1]; higher means review sooner. 0 for tasks nobody labelled.
    cell_scores : ndarray, shape (n, K)
        In [0, 1]; how likely the given value of each cell is wrong. 0 for unlabelled tasks.
    consensus : ndarray of int8, shape (n, K)
        The labels the audit treats as given.
    suggested : ndarray of int8, shape (n, K)
        Suggested corrected labels; for unlabelled tasks, the model's prediction.
    present : ndarray, shape (n, K)
        Estimated probability that each class is truly present.
    uncertainty : ndarray, shape (n,)
        For unlabelled tasks, how unsure the model is (mean binary entropy, in bits); else 0.
    issues : pandas.DataFrame
        ``task, class, class_index, kind, score, reason``; kind is one of ``missing``,
        ``spurious``, ``disagreement``, ``rule``, ``outlier``.
    annotators : pandas.DataFrame or None
        One row per annotator (None when the labels came without annotators).
    classes : pandas.DataFrame
        One row per class.
    agreement : Agreement or None
        Inter-annotator agreement, with several annotators on shared tasks.
    consensus_detail : Consensus
    class_names : list of str
    multi_label : bool
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


def _class_names(class_names: Sequence[str] | None, k: int) -> list[str]:
    if class_names is None:
        return [str(c) for c in range(k)]
    names = [str(c) for c in class_names]
    if len(names) != k:
        raise InvalidOptionError(f"class_names has {len(names)} names for {k} classes.")
    if len(set(names)) != k:
        seen = [c for c in names if names.count(c) > 1]
        raise InvalidOptionError(f"class_names must be unique; {seen[0]!r} repeats.")
    return names


def _as_annotations(
    labels: Any, annotations: Any, n: int | None, k: int | None
) -> tuple[Annotations, bool]:
    """The annotations to audit, and whether they name real annotators (not plain labels)."""
    if labels is not None and annotations is not None:
        raise InvalidOptionError(
            "pass labels (one annotator) or annotations (several), not both; to audit one "
            "annotator inside a team, pass annotations only."
        )
    if annotations is not None:
        if not isinstance(annotations, Annotations):
            raise InvalidAnnotationsError(
                f"annotations must be an ls_cleanlab.Annotations, got {type(annotations).__name__}."
            )
        return annotations, True
    if labels is None:
        raise InvalidLabelsError("pass labels or annotations: there is nothing to audit.")
    array = np.asarray(labels, dtype=object) if isinstance(labels, list) else np.asarray(labels)
    if array.ndim == 1 and array.dtype.kind in "iu":
        if k is None:
            raise InvalidLabelsError("single-label class indices need pred_probs or class_names.")
        single = validation.as_single_labels(labels, n, k)
        rows = np.arange(len(single))
        return Annotations.from_class_indices(rows, np.zeros(len(rows)), single, k), False
    if k is None:
        k = array.shape[1] if array.ndim == 2 else None
    if k is None:
        raise InvalidLabelsError(
            "multi-label lists of class indices need pred_probs or class_names."
        )
    matrix = validation.as_multilabel(labels, n, k, against="pred_probs")
    return Annotations.from_labels(matrix), False


def _votes(ann: Annotations, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(n, K)`` annotations marking each class, and ``(n,)`` annotations per task."""
    k = ann.n_classes
    rows, cols = np.nonzero(ann.labels)
    votes = np.bincount(ann.task[rows] * k + cols, minlength=n * k).reshape(n, k)
    return votes, np.bincount(ann.task, minlength=n)


def _confident_cells(
    given: np.ndarray, labelled: np.ndarray, probs: np.ndarray | None, multi_label: bool
) -> np.ndarray | None:
    """Cells confident learning flags (cleanlab's default filter), or None without a model or
    where it cannot run (a class given on every task, as cleanlab refuses too)."""
    if probs is None or not labelled.any():
        return None
    out = np.zeros(given.shape, dtype=bool)
    rows = np.flatnonzero(labelled)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # small classes: nothing flagged there
            if multi_label:
                out[rows] = multilabel_issue_matrix(given[rows], probs[rows]) != 0
            else:
                wrong = find_label_issues(given[rows].argmax(axis=1), probs[rows])
                out[rows[wrong]] = given[rows[wrong]]
    except InvalidLabelsError:
        return None
    return out


def audit_labels(
    pred_probs: Any = None,
    labels: Any = None,
    annotations: Annotations | None = None,
    class_names: Sequence[str] | None = None,
    rules: Any = None,
    *,
    features: Any = None,
    multi_label: bool | None = None,
    consensus_method: ConsensusMethod = "crowdlab",
    threshold: float = 0.5,
    n_tasks: int | None = None,
    seed: int = 0,
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
    consensus_method : {"crowdlab", "majority", "dawid_skene"}
        How several annotators' labels are combined (:func:`ls_cleanlab.annotators.consensus`;
        without ``pred_probs``, ``"crowdlab"`` is the majority vote).
    threshold : float in (0, 1)
        Cells scoring at least this are issues and are flipped in ``suggested``.
    n_tasks : int, optional
        Number of tasks when neither ``pred_probs`` nor ``labels`` gives it.
    seed : int
        Seeds every random choice (row sampling, permutation tests).
    """
    method = validation.check_option(consensus_method, CONSENSUS_METHODS, "consensus_method")
    if not 0 < threshold < 1:
        raise InvalidOptionError(f"threshold must lie in (0, 1), got {threshold!r}.")
    probs = None if pred_probs is None else validation.as_pred_probs(pred_probs, sum_to_one=False)
    n = len(probs) if probs is not None else None
    k = probs.shape[1] if probs is not None else (len(class_names) if class_names else None)
    ann, named = _as_annotations(labels, annotations, n, k)
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
    names = _class_names(class_names, k)
    features_array = None
    if features is not None:
        features_array = np.asarray(features, dtype=np.float64)
        if features_array.ndim != 2 or len(features_array) != n:
            raise InvalidOptionError(
                f"features must have shape ({n}, d), one row per task; got {features_array.shape}."
            )
        if not np.isfinite(features_array).all():
            raise InvalidOptionError("features contain NaN or infinite values.")
    if multi_label is None:
        sums_to_one = probs is None or bool(np.allclose(probs.sum(axis=1), 1.0, atol=1e-3))
        multi_label = not (ann.is_single_label and sums_to_one and k > 1)
    if not multi_label and probs is not None:
        probs = validation.as_pred_probs(probs, sum_to_one=True)
    votes, counts = _votes(ann, n)
    several = bool((counts > 1).any())
    if probs is None and not several:
        raise InvalidAnnotationsError(
            "without pred_probs the audit needs several annotators on shared tasks; no task has "
            "more than one annotation. Pass out-of-sample pred_probs."
        )
    if not several:
        method = "majority"  # one annotation per task needs no vote
    cons = consensus(ann, n, probs, method=method, multi_label=multi_label)
    return _audit(
        probs,
        ann,
        cons,
        names,
        rules,
        features_array,
        multi_label,
        several,
        votes,
        counts,
        threshold,
        seed,
        named,
    )


def _audit(
    probs: np.ndarray | None,
    ann: Annotations,
    cons: Consensus,
    names: list[str],
    rules: Any,
    features: np.ndarray | None,
    multi_label: bool,
    several: bool,
    votes: np.ndarray,
    counts: np.ndarray,
    threshold: float,
    seed: int,
    named: bool,
) -> LabelAudit:
    n, k = len(counts), len(names)
    labelled = cons.annotated
    given = cons.labels.astype(bool)
    present = np.zeros((n, k)) if probs is None else probs.copy()
    lift = source = conditional = deficit = None
    if multi_label:
        ev = cell_evidence(
            given[labelled],
            None if probs is None else probs[labelled],
            seed=seed,
            votes=votes[labelled] if several else None,
        )
        base = cons.posterior[labelled] if several or probs is None else probs[labelled]
        # cells without extra evidence keep the probability itself, bit for bit, so that
        # without missing-label evidence the ranking is exactly confident learning's
        present[labelled] = np.where(ev.extra == 0, base, sigmoid(logit(base) + ev.extra))
        lift, source, conditional = (np.zeros((n, k)), np.full((n, k), -1), ev.cooc.conditional)
        lift[labelled], source[labelled] = ev.lift, ev.lift_source
        if ev.deficit is not None:
            deficit = np.zeros(n)
            deficit[labelled] = ev.deficit
    elif several or probs is None:
        present[labelled] = cons.posterior[labelled]
    cell_scores = np.where(given, 1.0 - present, present)
    cell_scores[~labelled] = 0.0
    confident = _confident_cells(given, labelled, probs, multi_label)
    rule_set = load_rules(rules, names)
    violations = find_violations(given & labelled[:, None], rule_set, present)
    cell_scores[violations.task, violations.cls] = np.maximum(
        cell_scores[violations.task, violations.cls], RULE_SCORE
    )
    priority = np.zeros(n)
    if multi_label:
        priority[labelled] = 1.0 - exponential_moving_average(
            1.0 - cell_scores[labelled], alpha=PRIORITY_ALPHA
        )
    else:
        priority[labelled] = (cell_scores * given).sum(axis=1)[labelled]
    flip = cell_scores >= threshold
    suggested = np.where(flip, ~given, given).astype(np.int8)
    if not multi_label:
        best = np.argmax(present, axis=1)
        wrong = labelled & flip[np.arange(n), given.argmax(axis=1)]
        suggested[wrong] = 0
        suggested[wrong, best[wrong]] = 1
    uncertainty = np.zeros(n)
    if probs is not None:
        unlabelled = ~labelled
        if multi_label:
            suggested[unlabelled] = probs[unlabelled] >= 0.5
        else:
            suggested[unlabelled] = 0
            suggested[unlabelled, probs[unlabelled].argmax(axis=1)] = 1
        p = np.clip(probs[unlabelled], 1e-12, 1 - 1e-12)
        uncertainty[unlabelled] = -(p * np.log2(p) + (1 - p) * np.log2(1 - p)).mean(axis=1)
    outliers = None
    if (probs is not None or features is not None) and labelled.any():
        outliers = outlier_scores(
            None if probs is None else probs[labelled],
            None if features is None else features[labelled],
            single_label=not multi_label,
        )
    flagged = score = origin = None
    if outliers is not None:
        score, flagged, origin = np.zeros(n), np.zeros(n, bool), np.full(n, "", dtype=object)
        score[labelled], flagged[labelled], origin[labelled] = (
            outliers.score,
            outliers.flagged,
            outliers.source,
        )
    evidence = _issues.Evidence(
        class_names=names,
        given=given,
        labelled=labelled,
        cell_scores=cell_scores,
        present=present,
        pred_probs=probs,
        votes=votes if several else None,
        n_annotations=counts if several else None,
        lift=lift,
        lift_source=source,
        conditional=conditional,
        deficit=deficit,
        single_label=not multi_label,
        confident=confident,
    )
    issues = _issues.issue_table(
        evidence,
        threshold=threshold,
        disagreement_threshold=DISAGREEMENT_SCORE,
        violations=violations,
        outlier_score=score,
        outlier_flagged=flagged,
        outlier_source=origin,
    )
    agree = agreement(ann, n) if several else None
    annotators = None
    if named:
        table = annotator_table(ann, cons, probs, names)
        bias = annotator_bias(ann, present if labelled.any() else None, seed=seed)
        annotators = annotators_frame(table, bias, ann, present, ALPHA)
    classes = classes_frame(
        names, class_bias(given[labelled], present[labelled]), issues, agree, cell_scores, labelled
    )
    return LabelAudit(
        priority=priority,
        cell_scores=cell_scores,
        consensus=cons.labels.astype(np.int8),
        suggested=suggested,
        present=present,
        uncertainty=uncertainty,
        issues=issues,
        annotators=annotators,
        classes=classes,
        agreement=agree,
        consensus_detail=cons,
        class_names=names,
        multi_label=multi_label,
    )
