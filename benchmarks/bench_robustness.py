"""Is the audit never worse than simple baselines, on any data? The instrument of issue 14.

Cells (listed in the output, with their factors):

* generated regimes (:mod:`_regimes`): a covering design over classes 5/20/50/100, labels per
  task 1-5, prevalence skew, co-occurrence, annotators per task 1/2/3/5/15, error types
  (satisficer, add-only, symmetric, class swaps, anchoring, mixed, satisficer + careless pairs)
  and models (strong, medium, weak, useless, overconfident, trained on the vote); one factor
  at a time around base A (20 classes, 3 annotators of mixed habits) and base B (issue 14's
  failing corner: 50 sparse classes, pairs of one satisficer and one careless annotator), plus
  hard corners;
* real sets (:mod:`_realsets`): the six MULAN sets with simulated annotators (three of mixed
  habits, and satisficer + careless pairs) and a cross-validated logistic regression trained on
  their vote; CIFAR-10N mosaics with their three real human labelings (and ``Y_random1`` alone);
  CrowdTruth with and without a TF-IDF model (no truth: annotator ranking against CrowdTruth's
  worker quality only); the five single-label crowd sets, annotation-only.

Per cell, ours (``audit_labels`` on the annotations and probabilities) against the best of the
simple baselines (:mod:`_baselines`: majority vote + cleanlab's ranking + agreement with the
vote, and Dawid-Skene), with the metrics of :mod:`_robust_metrics`. Targets (issue 14), printed
PASS/FAIL and never asserted: consensus cell accuracy >= best baseline - 0.001; tasks left with
a wrong consensus after reviewing the top 10% / 15% <= the best baseline's; annotator Spearman
>= the best baseline's - 0.02 (with >= 5 annotators; 0.02 is one adjacent swap among 9); ECE
of the cell scores <= 0.05 on real sets with truth; the errors and missing tabs' recall >= 0.6
where >= 10 tasks have that problem, and precision >= 0.6 where the tab holds >= 10 tasks (a
tab must be mostly real even where its kind of error is rare); single annotator without
missing-label evidence (no drops, satisficing or co-occurrence in the data): exactly cleanlab's
ranking.

Tabs are read from the library's queue definitions when it has them (``ls_cleanlab.queues``),
else: errors = missing, spurious, rule, disagreement; missing = missing.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_robustness.py --quick      # a few minutes
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_robustness.py              # everything
    python benchmarks/bench_robustness.py --only "B " --json /tmp/robust.json
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _baselines as baselines
import _realsets as realsets
import _regimes as regimes
import _robust_metrics as rm
import numpy as np
import pandas as pd
from scipy import sparse

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
SYNTHETIC_TASKS = {"quick": 1000, "full": 3000}
QUICK_LIMITS = {"mulan": 800, "cifar10n": 1200, "crowdtruth": 800, "single": 2000}
#: Inverse regularization of the real sets' logistic regressions (bench_detection's choice).
MODEL_C = 0.01
#: ... and of the TF-IDF ones (text: CrowdTruth, enron, medical), unscaled.
TEXT_C = 10.0
DEFAULT_TABS = {
    "errors": ("missing", "spurious", "rule", "disagreement"),
    "missing": ("missing",),
    "disagree": ("disagreement",),
}


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
    score = baselines._jaccard(labels.astype(bool), truth[task])
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
    return _case(
        f"syn {r.name}",
        f"synthetic {r.group}",
        r.describe(),
        d.truth,
        d.pred_probs,
        d.task,
        d.annotator,
        d.labels,
        d.class_names,
        cleanlab_equal=r.cleanlab_equal,
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


# -- running ------------------------------------------------------------------------------------


def tab_kinds() -> tuple[dict[str, tuple[str, ...]], str]:
    """The kinds of issue each review tab holds, from the library when it defines them."""
    for module in ("ls_cleanlab.queues", "ls_cleanlab.pipeline.queues"):
        try:
            queues = importlib.import_module(module).QUEUES
        except (ImportError, AttributeError):
            continue
        kinds = {q.key: tuple(q.kinds) for q in queues if q.kinds}
        if "errors" in kinds:
            return kinds, module
    return DEFAULT_TABS, "built-in default"


def run_ours(case: Case, seed: int) -> Any:
    from ls_cleanlab import Annotations, audit_labels

    if not case.several and len(np.unique(case.annotator)) == 1:
        given = np.zeros((case.n, case.labels.shape[1]), dtype=np.int8)
        given[case.task] = case.labels
        return audit_labels(case.pred_probs, labels=given, class_names=case.class_names, seed=seed)
    ann = Annotations(task=case.task, annotator=case.annotator, labels=case.labels.astype(np.int8))
    kwargs: dict[str, Any] = {"annotations": ann, "class_names": case.class_names, "seed": seed}
    if case.pred_probs is None:
        kwargs["n_tasks"] = case.n
    if case.single_label:
        kwargs["multi_label"] = False
    return audit_labels(case.pred_probs, **kwargs)


def _mean_auroc(truth: np.ndarray, probs: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    live = [j for j in range(truth.shape[1]) if 0 < truth[:, j].sum() < len(truth)]
    return float(np.mean([roc_auc_score(truth[:, j], probs[:, j]) for j in live]))


def _issue_tasks(res: Any, kinds: tuple[str, ...]) -> np.ndarray:
    issues = res.issues
    return np.unique(issues["task"][issues["kind"].astype(str).isin(kinds)].to_numpy(np.int64))


def evaluate(case: Case, seed: int, tabs: dict[str, tuple[str, ...]]) -> tuple[dict, dict]:
    """All metrics of one cell (JSON-ready) and its timings."""
    timing: dict[str, float] = {}
    start = time.perf_counter()
    res = run_ours(case, seed)
    timing["ours"] = time.perf_counter() - start
    start = time.perf_counter()
    methods = {
        "vote": baselines.vote(
            case.task,
            case.annotator,
            case.labels,
            case.n,
            case.pred_probs,
            single_label=case.single_label,
            seed=seed,
        )
    }
    if case.several:
        methods["dawid_skene"] = baselines.dawid_skene(
            case.task,
            case.annotator,
            case.labels,
            case.n,
            case.pred_probs,
            single_label=case.single_label,
        )
    timing["baselines"] = time.perf_counter() - start
    ours_quality = None
    if res.annotators is not None:
        table = res.annotators
        ours_quality = pd.Series(table["quality"].to_numpy(), index=table["annotator"].astype(str))
    consensus = {"ours": res.consensus.astype(bool), **{m: b.consensus for m, b in methods.items()}}
    priority = {"ours": res.priority, **{m: b.priority for m, b in methods.items()}}
    cells = {"ours": res.cell_scores, **{m: b.cell_scores for m, b in methods.items()}}
    quality = {"ours": ours_quality, **{m: b.annotator_quality for m, b in methods.items()}}
    rows = np.bincount(case.task, minlength=case.n) > 0
    rec: dict[str, Any] = {
        "name": case.name,
        "group": case.group,
        "describe": case.describe,
        "n": case.n,
        "k": len(case.class_names),
        "annotations": len(case.task),
        "annotators": len(np.unique(case.annotator)),
        "real": case.real,
        "single_label": case.single_label,
    }
    if case.truth is not None:
        truth = case.truth
        if case.pred_probs is not None:
            rec["model_auroc"] = _mean_auroc(truth, case.pred_probs)
        rec["wrong_annotations"] = float((case.labels != truth[case.task]).any(axis=1).mean())
        rec["accuracy"] = {m: rm.cell_accuracy(c, truth, rows) for m, c in consensus.items()}
        rec["wrong_tasks"] = {
            m: int((c[rows] != truth[rows]).any(axis=1).sum()) for m, c in consensus.items()
        }
        for share in rm.REVIEW_SHARES:
            rec[f"left{round(share * 100)}"] = {
                m: rm.left_after_review(consensus[m], truth, priority[m], rows, share)
                for m in consensus
            }
        rec["ece"] = {m: rm.ece(cells[m][rows], consensus[m][rows] != truth[rows]) for m in cells}
        wrong_cells = res.consensus.astype(bool)[rows] != truth[rows]
        rec["ece_hi"] = rm.ece(res.cell_scores[rows], wrong_cells, low=0.1)
        rec["reliability"] = rm.reliability(res.cell_scores[rows], wrong_cells)
        cons = consensus["ours"]
        wrong = (cons != truth).any(axis=1) & rows
        missing = (truth & ~cons).any(axis=1) & rows
        spurious = (cons & ~truth).any(axis=1) & rows
        fixing = tuple(k for k in tabs["errors"] if k != "disagreement")
        rec["tabs"] = {
            "errors": rm.tab_scores(_issue_tasks(res, tabs["errors"]), wrong),
            "missing": rm.tab_scores(_issue_tasks(res, tabs["missing"]), missing),
            # diagnostics: the errors tab without the disagreement kind, the spurious kind
            # alone, and how many of the disagreement tab's tasks have a wrong consensus
            "errors without disagreement": rm.tab_scores(_issue_tasks(res, fixing), wrong),
            "spurious kind": rm.tab_scores(_issue_tasks(res, ("spurious",)), spurious),
            "disagree": rm.tab_scores(_issue_tasks(res, tabs.get("disagree", ())), wrong),
        }
        if case.single_label:
            del rec["tabs"]["missing"]
    rho = {m: rm.spearman(q, case.annotator_truth) for m, q in quality.items()}
    rec["spearman"] = {m: v for m, (v, _) in rho.items()}
    rec["spearman_annotators"] = max(c for _, c in rho.values())
    if case.cleanlab_equal:
        ours_rank = pd.Series(np.round(res.priority, 10)).rank(method="min").to_numpy()
        base_rank = pd.Series(np.round(methods["vote"].priority, 10)).rank(method="min").to_numpy()
        rec["cleanlab_equal"] = {
            "max_abs_diff": float(np.abs(res.priority - methods["vote"].priority).max()),
            "same_ranking": bool(np.array_equal(ours_rank, base_rank)),
        }
    rec["issue_kinds"] = res.issues["kind"].astype(str).value_counts().to_dict()
    rec["targets"] = judge(rec, case)
    return rec, timing


# -- targets ------------------------------------------------------------------------------------


def _best(values: dict[str, float], higher: bool) -> tuple[str | None, float]:
    base = {m: v for m, v in values.items() if m != "ours" and v is not None and np.isfinite(v)}
    if not base:
        return None, float("nan")
    name = (max if higher else min)(base, key=base.get)
    return name, float(base[name])


def judge(rec: dict, case: Case) -> dict[str, dict]:
    """Each applicable target: pass, ours, the reference it is held to, and the gap (how far
    ours is on the wrong side, positive = failing, in the metric's units)."""
    out: dict[str, dict] = {}

    def put(key: str, ours: float, ref: float, gap: float, best: str | None = None) -> None:
        out[key] = {"pass": bool(gap <= 1e-12), "ours": ours, "ref": ref, "gap": gap, "best": best}

    if "accuracy" in rec:
        name, ref = _best(rec["accuracy"], higher=True)
        ours = rec["accuracy"]["ours"]
        put("accuracy", ours, ref, (ref - rm.ACC_TOLERANCE) - ours, name)
        for share in rm.REVIEW_SHARES:
            key = f"left{round(share * 100)}"
            name, ref = _best(rec[key], higher=False)
            put(key, rec[key]["ours"], ref, rec[key]["ours"] - ref, name)
        if case.real:
            put("ece", rec["ece"]["ours"], rm.ECE_TARGET, rec["ece"]["ours"] - rm.ECE_TARGET)
        for tab in ("errors", "missing"):
            t = rec["tabs"].get(tab)
            if t is None:
                continue
            # a tab of >= 10 tasks must be mostly real even where its kind of error is rare
            for what, count in (("precision", t["size"]), ("recall", t["problems"])):
                if count >= rm.MIN_PROBLEMS:
                    v = t[what] if np.isfinite(t[what]) else 0.0
                    put(f"{tab} {what}", v, rm.TAB_TARGET, rm.TAB_TARGET - v)
    ours_rho = rec["spearman"].get("ours")
    if rec["spearman_annotators"] >= rm.MIN_ANNOTATORS and ours_rho is not None:
        name, ref = _best(rec["spearman"], higher=True)
        if name is not None:
            v = ours_rho if np.isfinite(ours_rho) else -1.0
            put("spearman", v, ref, (ref - rm.SPEARMAN_TOLERANCE) - v, name)
    if "cleanlab_equal" in rec:
        same = rec["cleanlab_equal"]["same_ranking"]
        put("= cleanlab", float(same), 1.0, 0.0 if same else 1.0)
    return out


# -- printing -------------------------------------------------------------------------------------

SHORT = {"vote": "V", "dawid_skene": "DS", None: "-"}


def _f(x: Any, fmt: str) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return format(x, fmt)


def _pair(rec: dict, key: str, fmt: str) -> str:
    t = rec["targets"].get(key)
    if t is None:
        values = rec.get(key)
        return _f(values.get("ours") if isinstance(values, dict) else None, fmt)
    mark = "" if t["pass"] else "!"
    return f"{_f(t['ours'], fmt)}/{_f(t['ref'], fmt)}{SHORT.get(t['best'], '')}{mark}"


def _tab(rec: dict, tab: str) -> str:
    t = rec.get("tabs", {}).get(tab)
    if t is None:
        return "-"
    p, r = _f(t["precision"], ".2f"), _f(t["recall"], ".2f")
    return f"{p}/{r} {t['size']}:{t['problems']}"


def print_row(rec: dict) -> None:
    failed = [k for k, t in rec["targets"].items() if not t["pass"]]
    verdict = "PASS" if not failed else "FAIL " + ",".join(failed)
    ece = _f(rec.get("ece", {}).get("ours"), ".3f")
    print(
        f"{rec['name'][:34]:34s} {_pair(rec, 'accuracy', '.4f'):>17s} "
        f"{_pair(rec, 'left10', '.0f'):>11s} {_pair(rec, 'left15', '.0f'):>11s} "
        f"{_pair(rec, 'spearman', '.2f'):>12s} {ece:>6s} {_tab(rec, 'errors'):>18s} "
        f"{_tab(rec, 'missing'):>18s}  {verdict}",
        flush=True,
    )


HEADER = (
    f"{'cell':34s} {'acc ours/base':>17s} {'left10':>11s} {'left15':>11s} {'rho':>12s} "
    f"{'ECE':>6s} {'errors P/R sz:real':>18s} {'missing P/R sz:real':>18s}  verdict"
)


def summarize(records: list[dict]) -> dict:
    by_target: dict[str, dict[str, int]] = {}
    for rec in records:
        for key, t in rec["targets"].items():
            slot = by_target.setdefault(key, {"pass": 0, "fail": 0})
            slot["pass" if t["pass"] else "fail"] += 1
    cells_failed = sum(any(not t["pass"] for t in r["targets"].values()) for r in records)
    return {"targets": by_target, "cells": len(records), "cells_failing": cells_failed}


def print_summary(records: list[dict]) -> None:
    s = summarize(records)
    print(
        f"\n== summary: {s['cells'] - s['cells_failing']} of {s['cells']} cells pass every target"
    )
    print(f"   {'target':18s} {'PASS':>5s} {'FAIL':>5s}   worst failures (ours vs reference)")
    for key, c in s["targets"].items():
        fails = [(r["name"], r["targets"][key]) for r in records if key in r["targets"]]
        fails = sorted([f for f in fails if not f[1]["pass"]], key=lambda f: -f[1]["gap"])[:3]
        worst = "; ".join(f"{n} {t['ours']:.4g} vs {t['ref']:.4g}" for n, t in fails)
        print(f"   {key:18s} {c['pass']:5d} {c['fail']:5d}   {worst}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared datasets folder")
    parser.add_argument("--only", help="run the cells whose name contains this substring")
    parser.add_argument("--quick", action="store_true", help="smaller samples (a few minutes)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write every number to this file")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (machine is shared)")
    args = parser.parse_args()

    import cleanlab
    from threadpoolctl import threadpool_limits

    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", FutureWarning)
    ctx = Ctx(args.data, args.seed, args.quick)
    tabs, source = tab_kinds()
    chosen = [(n, b) for n, b in all_cases() if not args.only or args.only in n]
    print(
        f"robustness benchmark: seed={args.seed} quick={args.quick} cleanlab "
        f"{cleanlab.__version__}; {len(chosen)} cells; tabs from {source}: {tabs}"
    )
    print(
        "columns: ours/best baseline (V vote+cleanlab, DS Dawid-Skene), '!' = target missed; "
        "tabs: precision/recall size:tasks-with-the-problem"
    )
    records, timings = [], {}
    wall = time.perf_counter()
    with threadpool_limits(args.threads):
        print(HEADER)
        for name, build in chosen:
            start = time.perf_counter()
            case = build(ctx)
            built = time.perf_counter() - start
            rec, timing = evaluate(case, args.seed, tabs)
            timing["data"] = built
            records.append(rec)
            timings[name] = {k: round(v, 3) for k, v in timing.items()}
            print_row(rec)
    print("\n== cells")
    for rec in records:
        auc = _f(rec.get("model_auroc"), ".3f")
        wrong = _f(rec.get("wrong_annotations"), ".2f")
        print(
            f"   {rec['name']:34s} [{rec['group']}] {rec['describe']}; n={rec['n']}, "
            f"{rec['annotators']} annotators, model AUROC {auc}, wrong annotations {wrong}"
        )
    print_summary(records)
    total = time.perf_counter() - wall
    slowest = sorted(timings.items(), key=lambda kv: -sum(kv[1].values()))[:3]
    print(
        f"\n   {total:.0f} s in all; slowest: "
        + ", ".join(f"{n} {sum(t.values()):.1f} s (ours {t['ours']:.1f})" for n, t in slowest)
    )
    if args.json:
        out = {
            "config": {
                "seed": args.seed,
                "quick": args.quick,
                "only": args.only,
                "tabs": tabs,
                "tab_source": source,
                "synthetic_tasks": SYNTHETIC_TASKS,
                "quick_limits": QUICK_LIMITS,
            },
            "summary": summarize(records),
            "cells": records,
            "timing": timings,
        }
        args.json.write_text(json.dumps(_clean(out), indent=1, default=_jsonable))
        print(f"   numbers written to {args.json}")


def _clean(x: Any) -> Any:
    """NaN and infinities become null, so the file is strict JSON."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(x) else None
    return x


def _jsonable(x: Any) -> Any:
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"not JSON serializable: {type(x).__name__}")


if __name__ == "__main__":
    main()
