"""How well ``audit_labels`` finds label errors, against cleanlab 2.9.0 on the same probabilities.

Data (read from ``../shared/datasets``, never copied into the repository), fixed seeds:

* MULAN ``yeast`` and ``scene`` (train + test ARFF) with injected noise of three kinds: missing
  labels (search satisficing: on a share of tasks only one or a few of several labels are kept,
  plus random drops), spurious labels (random additions) and swaps (one label replaced by another
  class). Scenario "one annotator": one annotator with every kind of noise labels every task.
  Scenario "three annotators": a satisficer, a careless and a careful annotator; each task is
  labelled by all three (half of the tasks) or by a random pair.
* CIFAR-10N mosaics: real human errors. ``Y_random1`` alone, and ``Y_random1..3`` as three
  annotators of every task; features are hand-made (colour histograms, gradient-orientation
  histograms, thumbnails per quadrant, pooled over quadrants).
* CrowdTruth open-domain relation extraction: an annotation-only audit (no model); the Spearman
  correlation of our annotator quality with CrowdTruth's worker quality score.

Probabilities come from 5-fold cross-validated one-vs-rest logistic regression on standardized
features, trained on the labels audited (one annotator: theirs; several: the majority vote), so
they are out-of-sample. The labels a method audits are "ours": ``res.consensus``; "cleanlab": the
annotator's labels, or the majority vote with ties broken by the model (``p >= 0.5``). A task is
an error when its audited label set differs from the truth; a cell likewise. Each method is scored
against its own errors:

* task AUROC / AUPRC: ours ``res.priority``; cleanlab ``1 - get_label_quality_scores``;
* cell AUPRC: ours ``res.cell_scores``; cleanlab's per-class self-confidence (``p`` where given
  0, ``1 - p`` where given 1);
* consensus accuracy (several annotators): exact set match with the truth, ours vs majority vote;
* errors left after reviewing the top 10% of tasks by priority ("fewest possible left": the
  errors beyond the review budget, which no ranking avoids).

Targets, printed with PASS/FAIL and never asserted: never worse than cleanlab on task AUROC, task
AUPRC and cell AUPRC; with several annotators, at most 80% of the errors cleanlab + majority vote
leaves after the same review budget, and a consensus at least as accurate as the majority vote;
Spearman >= 0.8 with CrowdTruth's worker quality. Each audit is timed.

    python benchmarks/bench_detection.py             # everything (about a minute, one BLAS thread)
    python benchmarks/bench_detection.py --quick     # smaller samples
    python benchmarks/bench_detection.py --only scene
"""

from __future__ import annotations

import argparse
import time
import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _datasets as data
import numpy as np
import pandas as pd

DATASETS = ("yeast", "scene", "cifar10n", "crowdtruth")
DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
FOLDS = 5
#: Share of tasks a reviewer looks at, and the most errors we may leave of cleanlab's.
REVIEW_SHARE = 0.10
MAX_ERRORS_LEFT = 0.80
MIN_SPEARMAN = 0.8
#: Tasks kept per set with --quick.
QUICK_TASKS = {"yeast": 1000, "scene": 1000, "cifar10n": 1500, "crowdtruth": 1000}
#: Inverse regularization of the logistic regressions (best of 0.01, 0.1, 1 on every set).
MODEL_C = 0.01


@dataclass(frozen=True)
class Scenario:
    """Labels to audit in long form (``task`` (A,), ``annotator`` (A,), ``labels`` (A, K) bool),
    with the truth (n, K) and out-of-sample probabilities (n, K)."""

    dataset: str
    name: str
    truth: np.ndarray
    pred_probs: np.ndarray
    class_names: list[str]
    task: np.ndarray
    annotator: np.ndarray
    labels: np.ndarray

    @property
    def several(self) -> bool:
        """Whether several annotators labelled the tasks (else one labelled each task once)."""
        return len(np.unique(self.annotator)) > 1


def one_annotator(
    dataset: str,
    name: str,
    truth: np.ndarray,
    pred_probs: np.ndarray,
    names: list[str],
    labels: np.ndarray,
) -> Scenario:
    """A scenario where one annotator labelled every task."""
    n = len(labels)
    who = np.full(n, "annotator", dtype=object)
    return Scenario(dataset, name, truth, pred_probs, names, np.arange(n), who, labels)


@dataclass(frozen=True)
class Scores:
    """What one method audits and how it ranks: labels (n, K), priority (n,), cells (n, K)."""

    audited: np.ndarray
    priority: np.ndarray
    cells: np.ndarray
    seconds: float


@dataclass(frozen=True)
class Target:
    where: str
    what: str
    passed: bool


# -- probabilities and majority vote ------------------------------------------------------------


def cv_probabilities(x: np.ndarray, y: np.ndarray, c: float, seed: int) -> np.ndarray:
    """Out-of-sample P(class present), (n, K), by k-fold one-vs-rest logistic regression."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import KFold, cross_val_predict
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(
        StandardScaler(), OneVsRestClassifier(LogisticRegression(C=c, max_iter=500))
    )
    folds = KFold(FOLDS, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a class absent from a training fold is fine
        probs = cross_val_predict(model, x, y.astype(int), cv=folds, method="predict_proba")
    return np.asarray(probs, dtype=np.float64)


def majority_vote(
    task: np.ndarray, labels: np.ndarray, n: int, pred_probs: np.ndarray | None = None
) -> np.ndarray:
    """(n, K) bool: present when more than half the annotators say so; ties go to the model
    (``p >= 0.5``) when ``pred_probs`` is given, else to present."""
    votes = np.zeros((n, labels.shape[1]))
    np.add.at(votes, task, labels.astype(np.float64))
    counts = np.bincount(task, minlength=n)[:, None]
    tie = 2 * votes == counts
    broken = pred_probs >= 0.5 if pred_probs is not None else np.ones_like(tie)
    return (2 * votes > counts) | (tie & broken)


def _rng(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def _sample(n: int, limit: int | None, rng: np.random.Generator) -> np.ndarray:
    if limit is None or limit >= n:
        return np.arange(n)
    return np.sort(rng.choice(n, size=limit, replace=False))


# -- scenarios ----------------------------------------------------------------------------------


def mulan_scenarios(root: Path, name: str, seed: int, quick: bool) -> list[Scenario]:
    """One noisy annotator, and three annotators with different habits, on a MULAN set."""
    rng = _rng(seed, name)
    full = data.load_mulan(root, name)
    rows = _sample(len(full.truth), QUICK_TASKS[name] if quick else None, rng)
    x, truth, names, c = full.x[rows], full.truth[rows], full.class_names, MODEL_C
    single = data.corrupt(truth, data.SINGLE_HABIT, rng)
    task, who, labels = data.simulate_annotators(truth, data.ANNOTATOR_HABITS, rng)
    vote = majority_vote(task, labels, len(truth))
    probs_one, probs_vote = cv_probabilities(x, single, c, seed), cv_probabilities(x, vote, c, seed)
    return [
        one_annotator(name, "one annotator", truth, probs_one, names, single),
        Scenario(name, "three annotators", truth, probs_vote, names, task, who, labels),
    ]


def cifar_scenarios(root: Path, seed: int, quick: bool) -> list[Scenario]:
    """Real human labels of CIFAR-10N mosaics: ``Y_random1`` alone, and all three."""
    full, humans = data.load_cifar10n(root, limit=QUICK_TASKS["cifar10n"] if quick else None)
    n, c, names = len(full.truth), MODEL_C, full.class_names
    task = np.tile(np.arange(n), 3)
    who = np.repeat(np.array(["random1", "random2", "random3"], dtype=object), n)
    labels = np.vstack(humans)
    vote = majority_vote(task, labels, n)
    probs_one = cv_probabilities(full.x, humans[0], c, seed)
    probs_vote = cv_probabilities(full.x, vote, c, seed)
    return [
        one_annotator("cifar10n", "Y_random1 alone", full.truth, probs_one, names, humans[0]),
        Scenario("cifar10n", "Y_random1..3", full.truth, probs_vote, names, task, who, labels),
    ]


# -- the two methods ----------------------------------------------------------------------------


def run_ours(sc: Scenario, seed: int) -> tuple[Scores, Any]:
    """``audit_labels`` on the scenario; returns the scores and the full result."""
    from ls_cleanlab.annotations import Annotations
    from ls_cleanlab.audit import audit_labels

    start = time.perf_counter()
    if sc.several:
        ann = Annotations(task=sc.task, annotator=sc.annotator, labels=sc.labels.astype(np.int8))
        res = audit_labels(sc.pred_probs, annotations=ann, class_names=sc.class_names, seed=seed)
    else:
        given = np.zeros(sc.truth.shape, dtype=np.int8)
        given[sc.task] = sc.labels
        res = audit_labels(sc.pred_probs, labels=given, class_names=sc.class_names, seed=seed)
    seconds = time.perf_counter() - start
    return Scores(res.consensus.astype(bool), res.priority, res.cell_scores, seconds), res


def run_cleanlab(sc: Scenario) -> Scores:
    """cleanlab's multi-label label quality of the majority vote (one annotator: their labels)."""
    from cleanlab.multilabel_classification import get_label_quality_scores

    start = time.perf_counter()
    audited = majority_vote(sc.task, sc.labels, len(sc.truth), sc.pred_probs)
    lists = [np.flatnonzero(row).tolist() for row in audited]
    quality = get_label_quality_scores(lists, sc.pred_probs)
    seconds = time.perf_counter() - start
    cells = np.where(audited, 1.0 - sc.pred_probs, sc.pred_probs)
    return Scores(audited, 1.0 - np.asarray(quality), cells, seconds)


# -- metrics ------------------------------------------------------------------------------------

ERRORS_LEFT = f"errors left after top {REVIEW_SHARE:.0%}"


def _auc(kind: str, errors: np.ndarray, score: np.ndarray) -> float:
    from sklearn.metrics import average_precision_score, roc_auc_score

    if errors.all() or not errors.any():
        return float("nan")
    if kind == "roc":
        return float(roc_auc_score(errors, score))
    return float(average_precision_score(errors, score))


def metrics(truth: np.ndarray, s: Scores) -> dict[str, float]:
    """Detection quality of one method against the errors in the labels it audits."""
    cell_errors = s.audited != truth
    errors = cell_errors.any(axis=1)
    budget = round(REVIEW_SHARE * len(truth))
    reviewed = np.zeros(len(truth), dtype=bool)
    reviewed[np.argsort(-s.priority, kind="stable")[:budget]] = True
    return {
        "task AUROC": _auc("roc", errors, s.priority),
        "task AUPRC": _auc("pr", errors, s.priority),
        "cell AUPRC": _auc("pr", cell_errors.ravel(), s.cells.ravel()),
        "consensus accuracy": float(1.0 - errors.mean()),
        "tasks with errors": float(errors.sum()),
        ERRORS_LEFT: float((errors & ~reviewed).sum()),
        "  fewest possible left": float(max(errors.sum() - budget, 0)),
    }


def _judge(sc: Scenario, ours: dict[str, float], ref: dict[str, float]) -> dict[str, str]:
    """The target of each metric and whether ours meets it."""
    out = {m: ">= cleanlab" for m in ("task AUROC", "task AUPRC", "cell AUPRC")}
    if sc.several:
        out["consensus accuracy"] = ">= majority"
        out[ERRORS_LEFT] = f"ratio <= {MAX_ERRORS_LEFT:.2f}"
    verdict = {}
    for metric, target in out.items():
        if metric == ERRORS_LEFT:
            passed = ours[metric] <= MAX_ERRORS_LEFT * ref[metric]
        else:
            passed = bool(ours[metric] >= ref[metric] - 1e-12)
        verdict[metric] = f"{target:>14s}  {'PASS' if passed else 'FAIL'}"
    return verdict


# -- printing -----------------------------------------------------------------------------------


def _ratio(a: float, b: float) -> str:
    return f"{a / b:7.3f}" if b and np.isfinite(a) and np.isfinite(b) else f"{'-':>7s}"


def report_scenario(sc: Scenario, seed: int) -> list[Target]:
    """Audit one scenario with both methods, print the comparison, return the targets."""
    ours, res = run_ours(sc, seed)
    ref = run_cleanlab(sc)
    m_ours, m_ref = metrics(sc.truth, ours), metrics(sc.truth, ref)
    n, k = sc.truth.shape
    print(f"\n== {sc.dataset}: {sc.name}  (n={n}, K={k}, {len(sc.task)} annotations)")
    model = _auc("roc", sc.truth.ravel(), sc.pred_probs.ravel())
    wrong = (sc.labels != sc.truth[sc.task]).any(axis=1).mean()
    print(
        f"   model cell AUROC vs truth {model:.3f}; annotations with a wrong label set {wrong:.1%}"
    )
    print(f"   audit time: ours {ours.seconds:.2f} s, cleanlab {ref.seconds:.2f} s")
    reference = "cleanlab + majority vote" if sc.several else "cleanlab 2.9.0"
    print(f"   {'metric':40s} {'ours':>9s} {reference:>24s} {'ratio':>7s}  target")
    verdict = _judge(sc, m_ours, m_ref)
    for metric, value in m_ours.items():
        if metric == "consensus accuracy" and not sc.several:
            continue
        label = metric + (" (cleanlab: self-confidence)" if metric == "cell AUPRC" else "")
        print(
            f"   {label:40s} {value:9.4g} {m_ref[metric]:24.4g} "
            f"{_ratio(value, m_ref[metric])}  {verdict.get(metric, '')}"
        )
    if sc.several:
        differs = (ours.audited != ref.audited).any(axis=1)
        print(f"   our consensus differs from the majority vote on {differs.sum()} tasks")
    if sc.several and res.annotators is not None:
        print_annotator_quality(sc, res.annotators)
    where = f"{sc.dataset} / {sc.name}"
    return [Target(where, m, v.endswith("PASS")) for m, v in verdict.items()]


def print_annotator_quality(sc: Scenario, table: Any) -> None:
    """Our quality estimate of each annotator next to their true share of exact label sets."""
    exact = (sc.labels == sc.truth[sc.task]).all(axis=1)
    truth = pd.Series(exact).groupby(sc.annotator).mean()
    quality = table.set_index("annotator")["quality"]
    parts = [f"{a} {quality.get(a, np.nan):.3f} (exact {truth[a]:.3f})" for a in truth.index]
    print("   annotator quality (ours): " + ", ".join(parts))


# -- CrowdTruth ---------------------------------------------------------------------------------


def agreement_with_majority(task: np.ndarray, worker: np.ndarray, labels: np.ndarray) -> pd.Series:
    """Baseline worker quality: mean Jaccard similarity of each judgment with the majority vote
    of its item (two empty sets agree fully)."""
    vote = majority_vote(task, labels, int(task.max()) + 1)[task]
    given = labels.astype(bool)
    union = (given | vote).sum(axis=1)
    jaccard = np.where(union > 0, (given & vote).sum(axis=1) / np.maximum(union, 1), 1.0)
    return pd.Series(jaccard).groupby(worker).mean()


def report_crowdtruth(root: Path, seed: int, quick: bool) -> list[Target]:
    """Annotation-only audit of CrowdTruth; Spearman of worker quality with CrowdTruth's."""
    from scipy.stats import spearmanr

    from ls_cleanlab.annotations import Annotations
    from ls_cleanlab.audit import audit_labels

    crowd = data.load_crowdtruth(root, QUICK_TASKS["crowdtruth"] if quick else None)
    keep = Annotations.latest_per_annotator(crowd.task, crowd.worker, crowd.started_at)
    ann = Annotations(
        task=crowd.task[keep],
        annotator=crowd.worker[keep],
        labels=crowd.labels[keep],
        lead_time=crowd.duration[keep],
        created_at=crowd.started_at[keep],
    )
    start = time.perf_counter()
    res = audit_labels(None, annotations=ann, class_names=crowd.class_names, seed=seed)
    seconds = time.perf_counter() - start
    ours = res.annotators.set_index("annotator")["quality"]
    base = agreement_with_majority(ann.task, ann.annotator, ann.labels)
    n_items, empty = int(ann.task.max()) + 1, int((ann.labels.sum(axis=1) == 0).sum())
    older = len(crowd.task) - len(keep)
    print(
        f"\n== crowdtruth: annotation-only audit  ({n_items} items, {ann.n_annotators} workers, "
        f"{len(ann)} judgments, {empty} empty, {older} older judgments dropped)"
    )
    print(f"   audit time: ours {seconds:.2f} s")
    print(f"   {'Spearman with crowdtruth_wqs':40s} {'rho':>7s} {'workers':>8s}  target")
    passed = False
    for name, quality in (
        ("ours (res.annotators.quality)", ours),
        ("agreement with majority", base),
    ):
        joined = pd.concat([quality.rename("q"), crowd.reference.rename("ref")], axis=1).dropna()
        rho = float(spearmanr(joined["q"], joined["ref"]).statistic)
        mark = ""
        if name.startswith("ours"):
            passed = rho >= MIN_SPEARMAN
            mark = f">= {MIN_SPEARMAN}  {'PASS' if passed else 'FAIL'}"
        print(f"   {name:40s} {rho:7.3f} {len(joined):8d}  {mark}")
    return [Target("crowdtruth", "Spearman with CrowdTruth quality", passed)]


# -- main ---------------------------------------------------------------------------------------


def scenarios(name: str, root: Path, seed: int, quick: bool) -> list[Scenario]:
    """The scenarios of one labelled data set, with their probabilities."""
    if name == "cifar10n":
        return cifar_scenarios(root, seed, quick)
    return mulan_scenarios(root, name, seed, quick)


def print_summary(targets: Sequence[Target]) -> None:
    failed = [t for t in targets if not t.passed]
    print(f"\n== targets: {len(targets) - len(failed)} of {len(targets)} PASS")
    for t in failed:
        print(f"   FAIL  {t.where}: {t.what}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared datasets folder")
    parser.add_argument("--only", choices=DATASETS, help="run one data set")
    parser.add_argument("--quick", action="store_true", help="smaller samples, for a smoke run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (machine is shared)")
    args = parser.parse_args()

    import cleanlab
    from threadpoolctl import threadpool_limits

    warnings.simplefilter("ignore", DeprecationWarning)
    print(
        f"detection benchmark: seed={args.seed} quick={args.quick} cleanlab {cleanlab.__version__}"
    )
    print(f"probabilities: {FOLDS}-fold CV one-vs-rest logistic regression, standardized features")
    targets: list[Target] = []
    with threadpool_limits(args.threads):
        for name in [args.only] if args.only else DATASETS:
            start = time.perf_counter()
            if name == "crowdtruth":
                targets += report_crowdtruth(args.data, args.seed, args.quick)
                continue
            built = scenarios(name, args.data, args.seed, args.quick)
            print(
                f"\n[{name}: data, noise and probabilities in {time.perf_counter() - start:.1f} s]"
            )
            for sc in built:
                targets += report_scenario(sc, args.seed)
    print_summary(targets)


if __name__ == "__main__":
    main()
