"""What the random regimes of the robustness benchmark found: misses beyond noise, crashes,
warnings the audit let out and NaN in its results (``bench_robustness.py --random N``).

A target missed by a hair is noise at these sizes; a miss *beyond noise* is one of

* consensus cell accuracy below the best baseline's by more than :data:`ACC_MARGIN` and by more
  than :data:`ACC_CELLS` cells;
* tasks left wrong after the 10% or 15% review more than the baseline's by more than
  :data:`LEFT_TASKS` tasks and :data:`LEFT_SHARE` of them;
* annotator Spearman below the best baseline's by more than :data:`RHO_MARGIN`.

The tab precision and recall targets are counted, not listed (they are out of reach in most
cells, see the README).
"""

from __future__ import annotations

import traceback
import warnings
from typing import Any

import numpy as np

__all__ = [
    "crash_record",
    "nan_fields",
    "noise_misses",
    "print_random_summary",
    "rerun",
    "warning_lines",
]

ACC_MARGIN = 0.001
ACC_CELLS = 20
LEFT_TASKS = 2
LEFT_SHARE = 0.05
RHO_MARGIN = 0.05


def warning_lines(caught: list[warnings.WarningMessage]) -> list[str]:
    """Each distinct warning raised during the audit: category, where, message."""
    out: list[str] = []
    for w in caught:
        where = f"{w.filename.split('site-packages/')[-1]}:{w.lineno}"
        line = f"{w.category.__name__} at {where}: {str(w.message)[:160]}"
        if line not in out:
            out.append(line)
    return out


def nan_fields(res: Any) -> list[str]:
    """The audit's results holding NaN or infinities where numbers are expected."""
    out = []
    for field in ("cell_scores", "priority", "consensus"):
        value = np.asarray(getattr(res, field), dtype=np.float64)
        if not np.isfinite(value).all():
            out.append(field)
    if res.annotators is not None and "quality" in res.annotators:
        if not np.isfinite(res.annotators["quality"].to_numpy(np.float64)).all():
            out.append("annotators.quality")
    return out


def crash_record(case: Any, exc: BaseException) -> dict:
    """A cell whose audit or baselines raised: what raised, and where."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = next(
        (
            f"{f.filename.split('/ls_cleanlab/')[-1]}:{f.lineno}"
            for f in reversed(frames)
            if "/ls_cleanlab/" in f.filename
        ),
        f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?",
    )
    return {
        "name": case.name,
        "group": case.group,
        "describe": case.describe,
        "n": case.n,
        "k": len(case.class_names),
        "annotators": len(np.unique(case.annotator)),
        "crash": f"{type(exc).__name__} at {where}: {str(exc)[:300]}",
        "targets": {},
    }


def rerun(name: str, quick: bool) -> str:
    """The command that runs regime ``random S/I`` alone."""
    seed, index = name.split()[1].split("/")
    return (
        "OPENBLAS_NUM_THREADS=1 python benchmarks/bench_robustness.py "
        + ("--quick " if quick else "")
        + f"--random-seed {seed} --random-only {index}"
    )


def noise_misses(rec: dict) -> list[tuple[str, str]]:
    """(target, 'ours vs ref, margin') of each miss beyond noise (module docstring)."""
    out = []
    t = rec["targets"]
    acc = t.get("accuracy")
    if acc is not None:
        gap = acc["ref"] - acc["ours"]
        cells = gap * rec["n"] * rec["k"]
        if gap > ACC_MARGIN and cells > ACC_CELLS:
            out.append(("accuracy", f"{acc['ours']:.4f} vs {acc['ref']:.4f} ({cells:.0f} cells)"))
    for key in ("left10", "left15"):
        left = t.get(key)
        if left is not None:
            gap = left["ours"] - left["ref"]
            if gap > LEFT_TASKS and gap > LEFT_SHARE * left["ref"]:
                out.append((key, f"{left['ours']:.0f} vs {left['ref']:.0f} tasks (+{gap:.0f})"))
    rho = t.get("spearman")
    if rho is not None and rho["ref"] - rho["ours"] > RHO_MARGIN:
        out.append(("spearman", f"{rho['ours']:.3f} vs {rho['ref']:.3f}"))
    return out


def print_random_summary(records: list[dict], quick: bool) -> None:
    """Per target the regimes meeting it, then every miss beyond noise, crash, warning and
    NaN, each with the regime's factors and the command that reruns it."""
    print(f"\n== random regimes: {len(records)}")
    targets: dict[str, list[int]] = {}
    for rec in records:
        for key, t in rec["targets"].items():
            targets.setdefault(key, [0, 0])[0 if t["pass"] else 1] += 1
    for key, (good, bad) in targets.items():
        print(f"   {key:18s} met in {good} of {good + bad}")
    found = 0
    for rec in records:
        lines = [f"{k}: {v}" for k, v in noise_misses(rec)]
        if "crash" in rec:
            lines.append(f"CRASH {rec['crash']}")
        lines += [f"warning {w}" for w in rec.get("warnings", [])]
        if rec.get("nan"):
            lines.append(f"NaN in {', '.join(rec['nan'])}")
        if not lines:
            continue
        found += 1
        print(f"\n   {rec['name']}: {rec['describe']}")
        for line in lines:
            print(f"      {line}")
        print(f"      rerun: {rerun(rec['name'], quick)}")
    print(f"\n   {found} of {len(records)} regimes with a miss beyond noise, crash, warning or NaN")
