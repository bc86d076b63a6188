"""The cells of the robustness benchmark: generated regimes and real sets, as :class:`Case`.

A case holds long-form annotations (``task``, ``annotator`` as str, ``labels``), the truth and
probabilities when known, and the true annotator quality (or, for CrowdTruth, its reference).
:func:`all_cases` names every cell before building it, so ``--only`` loads nothing it skips.
Real-set models are 5-fold cross-validated logistic regressions trained on the labels audited
(several annotators: their majority vote), as a user's model would be.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import _baselines as baselines
import _random_regimes as random_regimes
import _realsets as realsets
import _regimes as regimes
import numpy as np
import pandas as pd
from scipy import sparse

__all__ = ["QUICK_LIMITS", "SYNTHETIC_TASKS", "Case", "Ctx", "all_cases", "random_cases"]

SYNTHETIC_TASKS = {"quick": 1000, "full": 3000}
QUICK_LIMITS = {"mulan": 800, "cifar10n": 1200, "crowdtruth": 800, "single": 2000}
#: Inverse regularization of the real sets' logistic regressions (bench_detection's choice).
MODEL_C = 0.01
#: ... and of the TF-IDF ones (text: CrowdTruth, enron, medical), unscaled.
TEXT_C = 10.0


@dataclass(frozen=True)
class Case:
    """One cell: long-form annotations (``annotator`` as str), truth (n, K) bool or None,
    probabilities or None, and the true annotator quality (or a reference) by annotator."""

    name: str
    group: str
    describe: str
    n: int
    truth: np.ndarray | None
    pred_probs: np.ndarray | None
    task: np.ndarray
    annotator: np.ndarray
    labels: np.ndarray
    class_names: list[str]
    annotator_truth: pd.Series | None
    single_label: bool = False
    cleanlab_equal: bool = False
    real: bool = False

    @property
    def several(self) -> bool:
        return bool((np.bincount(self.task, minlength=self.n) > 1).any())


@dataclass(frozen=True)
class Ctx:
    root: Path
    seed: int
    quick: bool


def _true_quality(task: np.ndarray, who: np.ndarray, labels: np.ndarray, truth: np.ndarray):
    """Mean Jaccard index of each annotator's label sets with the truth."""
    score = baselines.jaccard(labels.astype(bool), truth[task])
    return pd.Series(score).groupby(who.astype(str)).mean()


def _case(name, group, describe, truth, probs, task, who, labels, names, **kw) -> Case:
    who = np.asarray(who).astype(str).astype(object)
    quality = None
    if truth is not None and len(np.unique(who)) > 1:
        quality = _true_quality(task, who, labels, truth)
    return Case(
        name=name,
        group=group,
        describe=describe,
        n=len(truth) if truth is not None else int(task.max()) + 1,
        truth=truth,
        pred_probs=probs,
        task=task,
        annotator=who,
        labels=labels.astype(bool),
        class_names=names,
        annotator_truth=kw.pop("annotator_truth", quality),
        **kw,
    )


# -- cases ----------------------------------------------------------------------------------------


def synthetic_case(r: regimes.Regime, ctx: Ctx) -> Case:
    n = SYNTHETIC_TASKS["quick" if ctx.quick else "full"]
    d = regimes.generate(r, n, ctx.seed)
    return _generated_case(
        f"syn {r.name}", f"synthetic {r.group}", r.describe(), d, cleanlab_equal=r.cleanlab_equal
    )


def _generated_case(name: str, group: str, describe: str, d: regimes.Labelled, **kw) -> Case:
    return _case(
        name,
        group,
        describe,
        d.truth,
        d.pred_probs,
        d.task,
        d.annotator,
        d.labels,
        d.class_names,
        **kw,
    )


@functools.cache
def _mulan(root: Path, name: str, seed: int, quick: bool):
    full = realsets.load_mulan(root, name)
    rng = regimes.rng_for(seed, f"mulan {name}")
    n = len(full.truth)
    rows = np.arange(n)
    if quick and n > QUICK_LIMITS["mulan"]:
        rows = np.sort(rng.choice(n, QUICK_LIMITS["mulan"], replace=False))
    return full.x[rows], full.truth[rows], full.class_names


def mulan_case(name: str, errors: str, per_task: int, ctx: Ctx) -> Case:
    x, truth, names = _mulan(ctx.root, name, ctx.seed, ctx.quick)
    rng = regimes.rng_for(ctx.seed, f"mulan {name} {errors} {per_task}")
    weights = truth.mean(axis=0) + 1e-3
    task, who, labels = regimes.simulate(truth, errors, per_task, weights, rng)
    vote = regimes.majority_vote(task, labels, len(truth))
    if sparse.issparse(x):  # bag-of-words sets (enron, medical): TF-IDF, as for text
        from sklearn.feature_extraction.text import TfidfTransformer

        tfidf = TfidfTransformer().fit_transform(x)
        probs = regimes.cv_logistic(tfidf, vote, ctx.seed, c=TEXT_C, scale=False)
    else:
        probs = regimes.cv_logistic(x, vote, ctx.seed, c=MODEL_C)
    return _case(
        f"mulan/{name} r={per_task} {errors}",
        "real (simulated annotators)",
        f"K={truth.shape[1]} card={truth.sum(axis=1).mean():.2f} r={per_task} errors={errors} "
        "model=CV logistic regression on the vote",
        truth,
        probs,
        task,
        who,
        labels,
        names,
        real=True,
    )


@functools.cache
def _cifar(root: Path, quick: bool):
    limit = QUICK_LIMITS["cifar10n"] if quick else None
    with np.load(root / "cifar10n_mosaic" / "cifar10n_mosaic_5000.npz") as npz:
        keep = slice(None, limit)
        truth = npz["Y_clean"][keep].astype(bool)
        humans = [npz[f"Y_random{i}"][keep].astype(bool) for i in (1, 2, 3)]
        names = [str(c) for c in npz["classes"]]
    x = realsets.cifar_features(root)[: len(truth)]
    return x, truth, humans, names


def cifar_case(alone: bool, ctx: Ctx) -> Case:
    x, truth, humans, names = _cifar(ctx.root, ctx.quick)
    n = len(truth)
    if alone:
        task, who, labels = np.arange(n), np.full(n, "random1", dtype=object), humans[0]
    else:
        task = np.tile(np.arange(n), 3)
        who = np.repeat(np.array(["random1", "random2", "random3"], dtype=object), n)
        labels = np.vstack(humans)
    probs = regimes.cv_logistic(x, regimes.majority_vote(task, labels, n), ctx.seed, c=MODEL_C)
    return _case(
        "cifar10n Y_random1 alone" if alone else "cifar10n Y_random1..3",
        "real",
        f"K=10 card={truth.sum(axis=1).mean():.2f} r={1 if alone else 3} real human labels, "
        "model=CV logistic regression on image features, trained on the "
        + ("labels" if alone else "vote"),
        truth,
        probs,
        task,
        who,
        labels,
        names,
        real=True,
    )


@functools.cache
def _crowdtruth(root: Path, quick: bool):
    from ls_cleanlab import Annotations

    ct = realsets.load_crowdtruth_text(root, QUICK_LIMITS["crowdtruth"] if quick else None)
    c = ct.crowd
    keep = Annotations.latest_per_annotator(c.task, c.worker, c.started_at)
    return ct, keep


def crowdtruth_case(with_model: bool, ctx: Ctx) -> Case:
    ct, keep = _crowdtruth(ctx.root, ctx.quick)
    c = ct.crowd
    task, who, labels = c.task[keep], c.worker[keep], c.labels[keep].astype(bool)
    n = int(c.task.max()) + 1
    probs = None
    if with_model:
        vote = regimes.majority_vote(task, labels, n)
        probs = regimes.cv_logistic(realsets.tfidf(ct.text), vote, ctx.seed, c=TEXT_C, scale=False)
    return _case(
        f"crowdtruth {'TF-IDF model' if with_model else 'no model'}",
        "real",
        f"K={labels.shape[1]} ~15 workers/item, real; no truth: ranking vs CrowdTruth wqs; "
        + ("model=CV TF-IDF logistic regression on the vote" if with_model else "no model"),
        None,
        probs,
        task,
        who,
        labels,
        c.class_names,
        annotator_truth=c.reference,
        real=True,
    )


def single_label_case(key: str, ctx: Ctx) -> Case:
    limit = QUICK_LIMITS["single"] if ctx.quick else None
    s = realsets.load_single_label(ctx.root, key, limit, ctx.seed)
    k, n = len(s.class_names), len(s.truth)
    labels = np.zeros((len(s.task), k), dtype=bool)
    labels[np.arange(len(s.task)), s.answer] = True
    truth = np.zeros((n, k), dtype=bool)
    truth[np.arange(n), s.truth] = True
    right = pd.Series(s.answer == s.truth[s.task]).groupby(s.worker)
    quality = right.mean()[right.size() >= 10]  # workers with >= 10 answers
    per_task = len(s.task) / n
    return _case(
        f"crowd/{key}",
        "real single-label",
        f"K={k} single-label r~{per_task:.0f} {len(set(s.worker))} workers, annotation-only",
        truth,
        None,
        s.task,
        s.worker,
        labels,
        s.class_names,
        annotator_truth=quality,
        single_label=True,
        real=True,
    )


def random_case(r: random_regimes.RandomRegime, ctx: Ctx) -> Case:
    d = random_regimes.generate(r)
    return _generated_case(r.name, "random", r.describe(), d, single_label=r.single_label)


def random_cases(
    seed: int, count: int, quick: bool, only: int | None = None, ablate: bool = False
) -> list[tuple[str, Callable[[Ctx], Case]]]:
    """(name, builder) of random regimes 0..count-1 under ``seed`` (or regime ``only``), each
    followed by its ablations when ``ablate``."""
    indices = range(count) if only is None else [only]
    chosen = []
    for i in indices:
        r = random_regimes.draw(seed, i, quick)
        chosen += [r, *random_regimes.ablations(r)] if ablate else [r]
    return [(r.name, functools.partial(random_case, r)) for r in chosen]


def all_cases() -> list[tuple[str, Callable[[Ctx], Case]]]:
    """(name, builder) of every cell, in output order; names are known before building."""
    out: list[tuple[str, Callable[[Ctx], Case]]] = []
    for r in regimes.CELLS:
        out.append((f"syn {r.name}", functools.partial(synthetic_case, r)))
    for name in realsets.MULAN_SETS:
        for errors, per_task in (("mixed", 3), ("sat+careless", 2)):
            out.append(
                (
                    f"mulan/{name} r={per_task} {errors}",
                    functools.partial(mulan_case, name, errors, per_task),
                )
            )
    out.append(("cifar10n Y_random1..3", functools.partial(cifar_case, False)))
    out.append(("cifar10n Y_random1 alone", functools.partial(cifar_case, True)))
    out.append(("crowdtruth no model", functools.partial(crowdtruth_case, False)))
    out.append(("crowdtruth TF-IDF model", functools.partial(crowdtruth_case, True)))
    for key in realsets.SINGLE_LABEL_SETS:
        out.append((f"crowd/{key}", functools.partial(single_label_case, key)))
    return out
