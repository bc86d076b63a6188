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

The real crowd sets run once more with 5% of their tasks gold (:mod:`_gold_variant`): the
calibration error of the cell scores on the other tasks, with and without gold.

Tabs are read from the library's queue definitions when it has them (``ls_cleanlab.queues``),
else: errors = missing, spurious, rule, disagreement; missing = missing.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_robustness.py --quick      # a few minutes
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_robustness.py              # everything
    python benchmarks/bench_robustness.py --only "B " --json /tmp/robust.json

``--random N`` runs N random untuned regimes (:mod:`_random_regimes`: every factor drawn on its
own, from a wider space) instead of the fixed cells, with the same metrics and targets, and
prints per target the regimes meeting it and the misses beyond noise with their factors
(:mod:`_random_report`); crashes, warnings the audit lets out and NaN in its results are
reported too. A regime is reproducible from its seed and index:

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_robustness.py --random 40 --quick
    python benchmarks/bench_robustness.py --random-seed 3 --random-only 17 --quick
    python benchmarks/bench_robustness.py --random-seed 0 --random-only 0 --ablate

``--ablate`` follows each random regime with reruns that take one habit or factor out (copying,
one-answer tasks, sparse overlap, spam, anchoring, satisficing, added labels, swaps, the model's
miscalibration): a miss that goes away without it points at its cause.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import time
import warnings
from pathlib import Path
from typing import Any

import _baselines as baselines
import _gold_variant as gold_variant
import _random_report as random_report
import _robust_metrics as rm
import numpy as np
import pandas as pd
from _robust_cases import QUICK_LIMITS, SYNTHETIC_TASKS, Case, Ctx, all_cases, random_cases

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
DEFAULT_TABS = {
    "errors": ("missing", "spurious", "rule", "disagreement"),
    "missing": ("missing",),
    "disagree": ("disagreement",),
}


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


def run_ours(case: Case, seed: int, gold: Any = None) -> Any:
    from ls_cleanlab import Annotations, audit_labels

    if not case.several and len(np.unique(case.annotator)) == 1:
        given = np.zeros((case.n, case.labels.shape[1]), dtype=np.int8)
        given[case.task] = case.labels
        return audit_labels(case.pred_probs, labels=given, class_names=case.class_names, seed=seed)
    ann = Annotations(task=case.task, annotator=case.annotator, labels=case.labels.astype(np.int8))
    kwargs: dict[str, Any] = {"annotations": ann, "class_names": case.class_names, "seed": seed}
    if gold is not None:
        kwargs["gold"] = gold
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
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
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
        scores = np.clip(res.cell_scores[rows], 0.0, 1 - 1e-12)
        log_right = np.log1p(-scores)
        chance = {
            "errors": (scores * cons[rows]).sum(axis=1)
            if case.single_label
            else -np.expm1(log_right.sum(axis=1)),
            "missing": -np.expm1((log_right * ~cons[rows]).sum(axis=1)),
        }
        for tab, problem in (("errors", wrong), ("missing", missing)):
            rec["tabs"][tab]["best_reachable"] = rm.best_reachable(chance[tab], problem[rows])
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
    rec["warnings"] = random_report.warning_lines(caught)
    rec["nan"] = random_report.nan_fields(res)
    rec["targets"] = judge(rec, case)
    if gold_variant.gold_cell(case.name) and case.truth is not None and case.several:
        start = time.perf_counter()
        rec["gold"] = gold_variant.gold_record(case, res, seed, run_ours)
        timing["gold"] = time.perf_counter() - start
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
    return {
        "targets": by_target,
        "cells": len(records),
        "cells_failing": cells_failed,
        "below_vote": below_vote(records),
    }


def below_vote(records: list[dict]) -> list[str]:
    """Cells where ours is below even the plain vote + cleanlab baseline (accuracy beyond the
    tolerance, or more wrong tasks left after the 15% review)."""
    out = []
    for r in records:
        if "accuracy" not in r:
            continue
        acc, left = r["accuracy"], r["left15"]
        worse_acc = acc["ours"] < acc["vote"] - rm.ACC_TOLERANCE
        if worse_acc or left["ours"] > left["vote"]:
            ratio = left["ours"] / max(left["vote"], 1)
            out.append(
                f"{r['name']} (acc {acc['ours']:.4f} vs {acc['vote']:.4f}, left15 x{ratio:.2f})"
            )
    return out


def tab_balance(records: list[dict], tab: str) -> str:
    """How the tab's size compares with the real problems, over cells with at least
    MIN_PROBLEMS of them: median size / problems, mean precision, recall, their minimum, and
    the best minimum any threshold on our probabilities reaches."""
    rows = [
        r["tabs"][tab]
        for r in records
        if tab in r.get("tabs", {}) and r["tabs"][tab]["problems"] >= rm.MIN_PROBLEMS
    ]
    if not rows:
        return f"{tab} tab: no cell with {rm.MIN_PROBLEMS}+ problems"
    ratio = float(np.median([t["size"] / t["problems"] for t in rows]))
    prec = [t["precision"] if np.isfinite(t["precision"]) else 0.0 for t in rows]
    rec = [t["recall"] for t in rows]
    low = [min(p, r) for p, r in zip(prec, rec, strict=True)]
    best = [t.get("best_reachable", float("nan")) for t in rows]
    return (
        f"{tab} tab over {len(rows)} cells with {rm.MIN_PROBLEMS}+ problems: size/problems "
        f"median {ratio:.2f}, precision {np.mean(prec):.2f}, recall {np.mean(rec):.2f}, "
        f"min(P, R) {np.mean(low):.2f} (best reachable {np.nanmean(best):.2f})"
    )


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
    below = below_vote(records)
    print(f"   below plain vote + cleanlab in {len(below)} cells: " + "; ".join(below))
    for tab in ("errors", "missing"):
        print("   " + tab_balance(records, tab))
    for tab in ("errors", "missing"):
        failing = [r for r in records if not r["targets"].get(f"{tab} recall", {"pass": 1})["pass"]]
        short = [r for r in failing if r["tabs"][tab].get("best_reachable", 1.0) < rm.TAB_TARGET]
        print(
            f"   {tab} tab recall missed in {len(failing)} cells; in {len(short)} of them no "
            f"threshold on our probabilities reaches precision and recall {rm.TAB_TARGET} "
            "(best reachable below it)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared datasets folder")
    parser.add_argument("--only", help="run the cells whose name contains this substring")
    parser.add_argument("--quick", action="store_true", help="smaller samples (a few minutes)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write every number to this file")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (machine is shared)")
    parser.add_argument("--random", type=int, help="run this many random regimes instead")
    parser.add_argument("--random-seed", type=int, help="seed of the random regimes (--seed)")
    parser.add_argument("--random-only", type=int, help="run random regime I alone")
    parser.add_argument(
        "--ablate", action="store_true", help="rerun each random regime with one habit removed"
    )
    args = parser.parse_args()

    import cleanlab
    from threadpoolctl import threadpool_limits

    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", FutureWarning)
    ctx = Ctx(args.data, args.seed, args.quick)
    tabs, source = tab_kinds()
    randomized = args.random is not None or args.random_only is not None
    if randomized:
        random_seed = args.seed if args.random_seed is None else args.random_seed
        count, only = args.random or 0, args.random_only
        chosen = random_cases(random_seed, count, args.quick, only, args.ablate)
    else:
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
            if randomized:
                print(f"# {name}: {case.describe}", flush=True)
            try:
                rec, timing = evaluate(case, args.seed, tabs)
            except Exception as exc:  # a crash is a finding: record it, go on
                rec, timing = random_report.crash_record(case, exc), {}
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
    gold_variant.print_gold(records)
    if randomized:
        random_report.print_random_summary(records, args.quick)
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
                "random": args.random,
                "random_seed": args.random_seed,
                "random_only": args.random_only,
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
